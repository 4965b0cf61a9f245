"""Loading models made by fine-tuning (``album train``): the two architectures and the
checkpoint reader the registry builds trained models with.

``training/`` writes the checkpoints (``training.checkpoints.save_trained``) and builds on
these pieces; ``models/`` never imports ``training/``.

A trained model is two files in ``models.registry.trained_dir()``: ``<name>.safetensors``
(the network's state dict) and ``<name>.json`` (``base``, ``architecture``,
``embedding_size``, ``threshold``, ``calibration``, ``sha256`` of the weights...). A personal
model over a fused base (architecture ``HEAD``) has no network of its own: its safetensors
hold the matrix applied to the fused model's joined vector.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import nn

DLIB = "dlib-resnet-v1"
INCEPTION = "inception-resnet-v1"
ARCHITECTURES = (DLIB, INCEPTION)
# Base name -> (architecture, registered spec giving the chip template and pre-processing).
PRETRAINED = {
    DLIB: (DLIB, DLIB),
    "facenet-vggface2": (INCEPTION, "facenet-vggface2"),
    "facenet-casia": (INCEPTION, "facenet-casia"),
}
NATIVE_SIZE = {DLIB: 128, INCEPTION: 512}
# A linear map over a fused model's joined unit vector, renormalized (no network).
HEAD = "linear-head"


def build_architecture(architecture: str, embedding_size: int | None = None) -> nn.Module:
    """An untrained network of ``architecture`` with an ``embedding_size`` output."""
    size = embedding_size or NATIVE_SIZE[architecture]
    if architecture == DLIB:
        from models.dlib_resnet import DlibResNet

        net = DlibResNet()
    elif architecture == INCEPTION:
        from facenet_pytorch.models.inception_resnet_v1 import InceptionResnetV1

        net = InceptionResnetV1(pretrained=None, classify=False)
    else:
        raise ValueError(
            f"unknown architecture {architecture!r}; known: {', '.join(ARCHITECTURES)}"
        )
    return set_embedding_size(net, architecture, size)


def set_embedding_size(net: nn.Module, architecture: str, size: int) -> nn.Module:
    """Replace the last layer by a new one of ``size`` outputs when it has another size."""
    from torch import nn

    if architecture == DLIB:
        if net.fc.out_features != size:
            net.fc = nn.Linear(net.fc.in_features, size, bias=False)
        net.embedding_size = size
    elif architecture == INCEPTION:
        if net.last_linear.out_features != size:
            net.last_linear = nn.Linear(net.last_linear.in_features, size, bias=False)
            net.last_bn = nn.BatchNorm1d(size, eps=0.001, momentum=0.1, affine=True)
    else:
        raise ValueError(f"unknown architecture {architecture!r}")
    return net


def architecture_of(meta: dict) -> str:
    """The architecture a checkpoint's metadata names (older files: inferred from the base)."""
    if meta.get("architecture"):
        return str(meta["architecture"])
    base = meta.get("base", DLIB)
    return PRETRAINED.get(base, (INCEPTION, base))[0]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check_sha256(meta: dict, weights: Path) -> None:
    expected = meta.get("sha256")
    if expected and file_sha256(weights) != expected:
        from models.errors import WeightsMissingError

        raise WeightsMissingError(
            f"the weights of trained model {meta.get('name')!r} changed since training "
            f"({weights}); train it again or restore the file"
        )


def load_head(meta: dict, weights: Path) -> np.ndarray:
    """The (D, D) matrix of a ``HEAD`` model, checked against its recorded SHA-256."""
    from safetensors.numpy import load_file

    weights = Path(weights)
    _check_sha256(meta, weights)
    matrix = load_file(str(weights))["matrix"]
    size = int(meta.get("embedding_size") or matrix.shape[0])
    if matrix.shape != (size, size):
        raise ValueError(f"{weights}: head matrix of shape {matrix.shape}, expected {size}^2")
    return matrix.astype(np.float32)


def load_trained_network(meta: dict, weights: Path) -> nn.Module:
    """Rebuild the base architecture described by ``meta`` and load ``weights`` (safetensors)
    into it, strictly; returns the network in eval mode. Checks the recorded SHA-256 when the
    metadata has one."""
    from safetensors.torch import load_file

    weights = Path(weights)
    _check_sha256(meta, weights)
    arch = architecture_of(meta)
    net = build_architecture(arch, int(meta.get("embedding_size") or 0) or None)
    net.load_state_dict(load_file(str(weights)), strict=True)
    return net.eval()
