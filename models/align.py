"""Face alignment: a similarity transform from detected landmarks to an embedder's template.

Every embedder was trained on chips cut in one particular way; reproducing that cut (where the
eyes, nose and mouth land in the chip) matters as much as the network itself.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def similarity_transform(
    src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking ``src`` to ``dst``.

    Umeyama (1991), optionally weighted per point. Points are (N, 2) arrays of (x, y). Returns
    a 2x3 matrix ``M`` with ``dst ~= src @ M[:, :2].T + M[:, 2]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError("need two (N, 2) point arrays of equal shape, N >= 2")
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    s, d = src - mu_s, dst - mu_d
    var_s = w @ (s**2).sum(1)
    cov = (d * w[:, None]).T @ s
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(cov) < 0 or (
        np.linalg.det(cov) == 0 and np.linalg.det(u) * np.linalg.det(vt) < 0
    ):
        fix[1, 1] = -1
    rot = u @ fix @ vt
    scale = np.trace(np.diag(sig) @ fix) / var_s if var_s > 0 else 1.0
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    a = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(a)[:2]


def warp_chip(image: np.ndarray, image_to_chip: np.ndarray, size: int) -> np.ndarray:
    """Cut a ``size`` x ``size`` chip from an (H, W, 3) uint8 image with a 2x3 transform.

    When the face is much larger than the chip the region is first box-filtered down by an
    integer factor, so the bilinear warp does not alias (dlib uses an image pyramid for the
    same reason). Pixels outside the image are black.
    """
    chip_to_image = invert_affine(image_to_chip)
    # Image pixels per chip pixel along the chip's axes.
    scale = float(np.sqrt(abs(np.linalg.det(chip_to_image[:, :2]))))
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    pts = corners @ chip_to_image[:, :2].T + chip_to_image[:, 2]
    h, w = image.shape[:2]
    left = int(np.clip(np.floor(pts[:, 0].min()) - 2, 0, w))
    top = int(np.clip(np.floor(pts[:, 1].min()) - 2, 0, h))
    right = int(np.clip(np.ceil(pts[:, 0].max()) + 3, 0, w))
    bottom = int(np.clip(np.ceil(pts[:, 1].max()) + 3, 0, h))
    if right <= left or bottom <= top:
        return np.zeros((size, size, 3), dtype=np.uint8)
    region = Image.fromarray(np.ascontiguousarray(image[top:bottom, left:right]))
    factor = max(1, int(scale / 1.5))
    if factor > 1:
        region = region.reduce(factor)
    # Map chip -> region pixels (centres at integers): shift by the crop, then shrink by the
    # reduction factor (reduced pixel j is centred on input (j + 0.5) * factor - 0.5). PIL puts
    # pixel centres at +0.5 on both sides; conjugating by that offset gives the net terms below.
    m = chip_to_image.copy()
    m[:, 2] -= (left, top)
    m /= factor
    m[:, 2] += 0.5 / factor - m[:, :2] @ np.array([0.5, 0.5])
    chip = region.transform(
        (size, size),
        Image.Transform.AFFINE,
        data=tuple(m.reshape(-1)),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0),
    )
    return np.asarray(chip)


def align_face(
    image: np.ndarray,
    landmarks: np.ndarray,
    template: np.ndarray,
    size: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Chip for one face: fit landmarks (5, 2) to ``template`` (chip pixels), then warp."""
    return warp_chip(image, similarity_transform(landmarks, template, weights), size)
