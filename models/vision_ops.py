"""Non-maximum suppression and RoI Align: torchvision's compiled kernels, without importing
torchvision's Python package.

Importing torchvision imports its models, datasets and transforms and, through them,
torch._dynamo: about a second of a scan's start-up and 160 MB of memory for two kernels.
Its compiled library registers them as ``torch.ops.torchvision.*`` when loaded on its own; if
that fails (another layout of the package), the package is imported after all.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
from pathlib import Path

import torch

log = logging.getLogger(__name__)


@functools.cache
def _ops():
    spec = importlib.util.find_spec("torchvision")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        for stem in ("_C_stable", "_C"):
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                lib = Path(folder) / f"{stem}{suffix}"
                if lib.is_file():
                    try:
                        torch.ops.load_library(str(lib))
                        torch.ops.torchvision.nms  # noqa: B018 (registered?)
                        return torch.ops.torchvision
                    except (OSError, RuntimeError, AttributeError):
                        log.debug("could not load %s on its own", lib, exc_info=True)
    import torchvision  # noqa: F401 (registers the same kernels)

    return torch.ops.torchvision


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float) -> torch.Tensor:
    """Indices of the boxes (K, 4: x1, y1, x2, y2) kept, best score first: each box drops
    the lower-scored boxes that overlap it by more than ``iou``."""
    return _ops().nms(boxes, scores, iou)


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, iou: float
) -> torch.Tensor:
    """:func:`nms` within each group (image) separately: boxes of different groups are moved
    apart so that they never overlap."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    shift = groups.to(boxes) * (boxes.max() + 1)
    return nms(boxes + shift[:, None], scores, iou)


def roi_align(
    images: torch.Tensor,
    rois: torch.Tensor,
    size: tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool = True,
) -> torch.Tensor:
    """Crops (K, C, *size) of ``images`` (N, C, H, W) at ``rois`` (K, 5: image index, x1, y1,
    x2, y2 in pixels / ``spatial_scale``), each output pixel the mean of
    ``sampling_ratio``^2 bilinear samples."""
    return _ops().roi_align(images, rois, spatial_scale, size[0], size[1], sampling_ratio, aligned)
