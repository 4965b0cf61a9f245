"""The networks that can be fine-tuned, and freezing their early layers.

Two architectures: dlib's ResNet v1 (:class:`models.dlib_resnet.DlibResNet`, 150 px chips) and
FaceNet's InceptionResnetV1 (facenet-pytorch, 160 px chips). A *base* names where training
starts:

- ``dlib-resnet-v1``: the packaged dlib weights (always available);
- ``facenet-vggface2`` / ``facenet-casia``: FaceNet weights, when ``album models fetch`` (or
  ``import``) has stored them;
- ``inception-resnet-v1``: InceptionResnetV1 from scratch (random weights);
- the name of a trained model: continue from its checkpoint.

The embedding size can differ from the base's: the last linear layer (and for Inception its
BatchNorm) is then replaced by a new, randomly initialized one. The trained model keeps the
base's chip template and pre-processing (``spec_name``), so the app cuts its chips the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from torch import nn

# The architectures and the checkpoint reader live in models/ (the registry loads trained
# models with them); re-exported here for training code.
from models.trained import ARCHITECTURES as ARCHITECTURES
from models.trained import DLIB as DLIB
from models.trained import INCEPTION as INCEPTION
from models.trained import NATIVE_SIZE as NATIVE_SIZE
from models.trained import PRETRAINED as PRETRAINED
from models.trained import architecture_of as architecture_of
from models.trained import build_architecture as build_architecture
from models.trained import set_embedding_size as set_embedding_size

SCRATCH = {INCEPTION: (INCEPTION, "facenet-vggface2")}


@dataclass
class BaseModel:
    """A network ready to fine-tune and what the checkpoint must record about it."""

    net: nn.Module
    architecture: str  # one of ARCHITECTURES
    spec_name: str  # registered embedder whose chip template / preprocess the net expects
    init: str  # where the weights came from: a base name, "scratch", or "trained:<name>"
    embedding_size: int


def base_names() -> list[str]:
    """Names accepted as ``base`` besides trained models."""
    return [*PRETRAINED, *SCRATCH]


def load_base(base: str, embedding_size: int | None = None) -> BaseModel:
    """The network to start from. Raises ``models.registry.WeightsMissingError`` when the
    base's weights are not on this computer and ``UnknownModelError`` for an unknown name."""
    from models import registry

    if base in PRETRAINED:
        arch, spec = PRETRAINED[base]
        net = registry.get_spec(base).build()
        init = base
    elif base in SCRATCH:
        arch, spec = SCRATCH[base]
        net = build_architecture(arch)
        init = "scratch"
    else:
        trained = registry.get_spec(base)  # raises UnknownModelError with the known names
        if trained.origin != "trained":
            raise registry.UnknownModelError(
                f"{base!r} cannot be fine-tuned; bases: {', '.join(base_names())} "
                "or a trained model"
            )
        meta_path = registry.trained_dir() / f"{base}.json"
        meta = json.loads(meta_path.read_text())
        arch, spec = architecture_of(meta), meta["base"]
        net = trained.build()
        init = f"trained:{base}"
    size = embedding_size or _output_size(net, arch)
    net = set_embedding_size(net, arch, size)
    return BaseModel(net=net, architecture=arch, spec_name=spec, init=init, embedding_size=size)


def base_spec_name(base: str) -> str:
    """The registered embedder whose chips ``base`` expects, without loading any weights."""
    from models import registry

    if base in PRETRAINED:
        return PRETRAINED[base][1]
    if base in SCRATCH:
        return SCRATCH[base][1]
    registry.get_spec(base)  # raises UnknownModelError with the known names
    return json.loads((registry.trained_dir() / f"{base}.json").read_text())["base"]


def _output_size(net: nn.Module, arch: str) -> int:
    return net.fc.out_features if arch == DLIB else net.last_linear.out_features


# --- freezing ---------------------------------------------------------------------------------


def units(net: nn.Module, architecture: str) -> list[tuple[str, nn.Module]]:
    """The network's stages in input order; freezing N freezes the first N.

    dlib: the stem conv, then its 14 residual blocks, then the fc layer (16 units).
    Inception: its top-level layers in forward order, ending with last_linear and last_bn.
    """
    if architecture == DLIB:
        out = [("stem", net.stem)]
        out += [(f"blocks.{i}", b) for i, b in enumerate(net.blocks)]
        return [*out, ("fc", net.fc)]
    names = [
        "conv2d_1a", "conv2d_2a", "conv2d_2b", "conv2d_3b", "conv2d_4a", "conv2d_4b",
        "repeat_1", "mixed_6a", "repeat_2", "mixed_7a", "repeat_3", "block8",
        "last_linear", "last_bn",
    ]  # fmt: skip
    return [(n, getattr(net, n)) for n in names]


# Fine-tuning a pretrained base: train only the embedding layer by default (dlib: fc; Inception:
# last_linear + last_bn); see training/README.md for the measurements behind the choice.
DEFAULT_FREEZE = {DLIB: 15, INCEPTION: 12}


def freeze(net: nn.Module, architecture: str, count: int) -> list[str]:
    """Freeze the first ``count`` units (see :func:`units`): no gradient, and BatchNorm kept
    in eval mode by :func:`train_mode`. Returns the frozen unit names."""
    all_units = units(net, architecture)
    if not 0 <= count < len(all_units):
        raise ValueError(f"freeze must be 0..{len(all_units) - 1} for {architecture}, not {count}")
    for p in net.parameters():
        p.requires_grad_(True)
    frozen = all_units[:count]
    for _, module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    net.frozen_units = [name for name, _ in frozen]
    return net.frozen_units


def train_mode(net: nn.Module) -> nn.Module:
    """``net.train()``, except that frozen units stay in eval mode (BatchNorm statistics fixed,
    no dropout)."""
    net.train()
    names = set(getattr(net, "frozen_units", []))
    for name, module in net.named_modules():
        if name in names:
            module.eval()
    return net


def trainable_parameters(net: nn.Module) -> list[nn.Parameter]:
    return [p for p in net.parameters() if p.requires_grad]
