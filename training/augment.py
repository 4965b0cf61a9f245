"""Augmentation of aligned uint8 chips: mirror, small crop, colour jitter, JPEG re-compression.

Every function takes an (S, S, 3) uint8 chip and a ``numpy.random.Generator`` and returns a
new (S, S, 3) uint8 chip of the same size; the same generator state gives the same result.
:class:`ChipAugmenter` chains them with their probabilities and works on a batch (N, S, S, 3).
The chip is already aligned, so every change is small: a big crop or rotation would move the
eyes away from where the network expects them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image


def flip(chip: np.ndarray) -> np.ndarray:
    """The mirror image (left and right swapped)."""
    return np.ascontiguousarray(chip[:, ::-1])


def random_crop(chip: np.ndarray, rng: np.random.Generator, min_scale: float = 0.9) -> np.ndarray:
    """A square crop of side ``min_scale``..1 of the chip at a random place, resized back.

    Combines a small zoom (up to 1/min_scale) with a shift of up to (1 - min_scale) * S pixels.
    """
    size = chip.shape[0]
    side = round(size * float(rng.uniform(min_scale, 1.0)))
    if side >= size:
        return chip.copy()
    x, y = (int(v) for v in rng.integers(0, size - side + 1, size=2))
    crop = Image.fromarray(chip[y : y + side, x : x + side])
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))


def color_jitter(chip: np.ndarray, rng: np.random.Generator, strength: float = 0.2) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in 1 +- ``strength``."""
    x = chip.astype(np.float32)
    b, c, s = rng.uniform(1 - strength, 1 + strength, size=3)
    x = x * b
    x = (x - x.mean()) * c + x.mean()
    gray = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    x = (x - gray[..., None]) * s + gray[..., None]
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def jpeg(
    chip: np.ndarray, rng: np.random.Generator, quality: tuple[int, int] = (30, 90)
) -> np.ndarray:
    """Encode as JPEG at a random quality in ``quality`` (inclusive) and decode again."""
    q = int(rng.integers(quality[0], quality[1] + 1))
    buf = io.BytesIO()
    Image.fromarray(chip).save(buf, format="JPEG", quality=q)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


@dataclass(frozen=True)
class ChipAugmenter:
    """Random augmentation of a batch of chips, deterministic under the generator given.

    Args:
        flip_p: probability of mirroring.
        crop_p: probability of a small crop (side ``crop_min_scale``..1 of the chip, resized back).
        jitter_p: probability of colour jitter of ``jitter`` strength.
        jpeg_p: probability of JPEG re-compression at a quality in ``jpeg_quality``.
    """

    flip_p: float = 0.5
    crop_p: float = 0.5
    crop_min_scale: float = 0.9
    jitter_p: float = 0.5
    jitter: float = 0.2
    jpeg_p: float = 0.3
    jpeg_quality: tuple[int, int] = (30, 90)

    def one(self, chip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        # Draw every decision up front, so one option's randomness never shifts another's.
        u = rng.random(4)
        if u[0] < self.crop_p:
            chip = random_crop(chip, rng, self.crop_min_scale)
        if u[1] < self.jitter_p:
            chip = color_jitter(chip, rng, self.jitter)
        if u[2] < self.jpeg_p:
            chip = jpeg(chip, rng, self.jpeg_quality)
        if u[3] < self.flip_p:
            chip = flip(chip)
        return chip

    def __call__(self, chips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augmented copies of ``chips`` (N, S, S, 3) uint8; the input is not changed."""
        chips = np.asarray(chips)
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[3] != 3:
            raise ValueError(f"expected uint8 chips (N, S, S, 3), got {chips.dtype} {chips.shape}")
        if len(chips) == 0:
            return chips.copy()
        return np.stack([self.one(c, rng) for c in chips])


NO_AUGMENTATION = ChipAugmenter(flip_p=0, crop_p=0, jitter_p=0, jpeg_p=0)
