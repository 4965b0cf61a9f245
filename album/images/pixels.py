"""The decoded photo: :class:`LoadedImage`, and the conversion of every Pillow mode to the
8-bit RGB it holds (alpha composited over white, 16-bit scaled, float stretched)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


@dataclass
class LoadedImage:
    """A decoded photo.

    Attributes:
        rgb: (H, W, 3) uint8 array, C-contiguous and writable, EXIF orientation applied.
        original_size: (width, height) in pixels of the full-resolution image after orientation.
        scale: ``rgb`` width / original width (1.0 at full size, < 1 when decoded reduced).
            Multiply ``rgb`` pixel coordinates by ``1 / scale`` to get original pixels.
        format: Pillow format name ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "HEIF");
            multi-picture JPEGs (Pillow's "MPO") are reported as "JPEG".
        orientation: EXIF orientation 1..8 that was applied (1 if none or invalid).
        taken_at: EXIF DateTimeOriginal as ISO 8601 "YYYY-MM-DDTHH:MM:SS" (local camera
            time, no zone), or None if absent or unparsable.
    """

    rgb: np.ndarray
    original_size: tuple[int, int]
    scale: float
    format: str
    orientation: int
    taken_at: str | None


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert a loaded image of any Pillow mode to mode "RGB" (see load_image)."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        return _gray_to_rgb(_int_to_uint8(np.asarray(im), mode))
    if mode == "F":
        return _gray_to_rgb(_float_to_uint8(np.asarray(im, dtype=np.float32)))
    if im.has_transparency_data:
        rgba = im.convert("RGBA")
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return im.convert("RGB")


def _int_to_uint8(arr: np.ndarray, mode: str) -> np.ndarray:
    if mode == "I" and arr.size and (arr.min() < 0 or arr.max() > 65535):
        return _stretch(arr.astype(np.float64))
    # 0..65535 -> 0..255 with rounding: 65535 -> 255, 32768 -> 128, 257 -> 1.
    a = arr.astype(np.uint32)  # 65535 * 255 + 32767 fits easily
    return ((a * 255 + 32767) // 65535).astype(np.uint8)


def _float_to_uint8(arr: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if a.size and a.min() >= 0.0 and a.max() <= 1.0:
        return np.rint(a * 255.0).astype(np.uint8)
    return _stretch(a)


def _stretch(a: np.ndarray) -> np.ndarray:
    """Linearly map [min, max] to [0, 255]."""
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8)
    return np.rint((a - lo) * 255.0 / (hi - lo)).astype(np.uint8)


def _gray_to_rgb(gray: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(gray)).convert("RGB")
