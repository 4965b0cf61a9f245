"""A face's quality score in 0..1: how much a face is worth as evidence of who it is.

quality = geometric mean of three terms, each in 0..1 (any term near 0 pulls it down):

* confidence: the detector's probability, rescaled from its acceptance range 0.9..1 to 0..1;
* size: the face box's shorter side in original photo pixels / 150, capped at 1 (150 px is
  the dlib chip size: larger faces add no detail to the chip);
* sharpness: 1 - exp(-v / 20), v the variance of the Laplacian of the grey chip's centre. On
  LFW chips v is about 37 for a sharp 110 px face (sharpness 0.84), 16 at half size and 6
  after a Gaussian blur of 1.5 px (0.26).

Used to choose cover faces and to weigh faces; it is recomputed with the faces, never edited.
"""

from __future__ import annotations

import math

import numpy as np

_GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)
SIZE_FULL = 150.0
SHARPNESS_SCALE = 20.0
MIN_SCORE = 0.9


def laplacian_variance(chip: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the central 2/3 of an (S, S, 3) chip.

    The centre avoids the black fill that alignment leaves where a face meets the photo edge.
    """
    g = np.asarray(chip, dtype=np.float32) @ _GREY
    lap = g[1:-1, 1:-1] * -4 + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    h, w = lap.shape
    centre = lap[h // 6 : h - h // 6, w // 6 : w - w // 6]
    return float(centre.var()) if centre.size else 0.0


def sharpness(chip: np.ndarray) -> float:
    """The sharpness term in 0..1 (see the module docstring)."""
    return 1.0 - math.exp(-laplacian_variance(chip) / SHARPNESS_SCALE)


def face_quality(
    score: float,
    box: tuple[float, float, float, float],
    chip: np.ndarray,
    sharp: float | None = None,
) -> float:
    """Quality in 0..1 from the detector ``score``, the ``box`` in original pixels and the chip
    (``sharp``: its sharpness term, when already computed)."""
    confidence = min(1.0, max(0.0, (score - MIN_SCORE) / (1.0 - MIN_SCORE)))
    side = min(box[2] - box[0], box[3] - box[1])
    size = min(1.0, max(0.0, side / SIZE_FULL))
    sharp = sharpness(chip) if sharp is None else sharp
    return float((confidence * size * sharp) ** (1.0 / 3.0))
