"""EXIF, as far as opening a photo needs it: the orientation (with the transposes and sizes
it implies) and the capture date.

Corrupt EXIF is never fatal: whatever cannot be read counts as absent (orientation 1, no
date). Orientations 5..8 swap width and height; sizes here are either "stored" (the pixels
as in the file) or "upright" (after the orientation is applied).
"""

from __future__ import annotations

from datetime import datetime

from PIL import Image

from album.images.errors import EXIF_ERRORS

ORIENTATION_TAG = 0x0112
EXIF_IFD_TAG = 0x8769
DATETIME_ORIGINAL_TAG = 0x9003

# EXIF orientation -> transpose that makes the image upright (same table as
# PIL.ImageOps.exif_transpose).
TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_AXES = frozenset({5, 6, 7, 8})


# ---------------------------------------------------------------------------------------------
# Orientation


def header_orientation(im: Image.Image) -> tuple[int, Image.Exif | None]:
    """Orientation still to be applied, read without decoding pixels (PNG: see image_size).

    pillow-heif already applies the HEIF transforms while decoding (and resets the EXIF
    orientation to 1), so HEIF images need no further rotation.
    """
    if im.format == "HEIF":
        return 1, None
    if im.format == "PNG" and "exif" not in im.info:
        return 1, None  # PngImageFile.getexif() would decode the whole image
    exif = safe_exif(im)
    return exif_orientation(exif), exif


def safe_exif(im: Image.Image) -> Image.Exif | None:
    """``im.getexif()``, or None when the EXIF block is corrupt."""
    try:
        return im.getexif()
    except EXIF_ERRORS:
        return None


def exif_orientation(exif: Image.Exif | None) -> int:
    """The orientation tag of ``exif`` (1 when absent or invalid)."""
    if exif is None:
        return 1
    try:
        value = exif.get(ORIENTATION_TAG)
    except EXIF_ERRORS:
        return 1
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    return valid_orientation(value)


def valid_orientation(value: object) -> int:
    """``value`` when it is an orientation 1..8, else 1."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return 1


def stored_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) of the pixels as stored, before any orientation is applied.

    Recent Pillow versions report a TIFF's size already swapped for orientations 5..8
    (and rotate the pixels during load); the raw TIFF tags give the stored size.
    """
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", None)
        if tags is not None:
            w, h = tags.get(256), tags.get(257)  # ImageWidth, ImageLength
            if isinstance(w, int) and isinstance(h, int) and {w, h} == set(im.size):
                return w, h
    return im.size


def size_plan(
    stored: tuple[int, int], orientation: int, max_side: int | None
) -> tuple[tuple[int, int], tuple[int, int]]:
    """(upright full size, size to resize the *stored* pixels to before transposing)."""
    swap = orientation in SWAPS_AXES
    orig = (stored[1], stored[0]) if swap else stored
    target = orig
    if max_side is not None and max(orig) > max_side:
        s = max_side / max(orig)
        target = (max(1, round(orig[0] * s)), max(1, round(orig[1] * s)))
    return orig, ((target[1], target[0]) if swap else target)


# ---------------------------------------------------------------------------------------------
# Capture date


def exif_taken_at(exif: Image.Exif | None) -> str | None:
    """EXIF DateTimeOriginal as 'YYYY-MM-DDTHH:MM:SS', or None."""
    if exif is None:
        return None
    try:
        value = exif.get_ifd(EXIF_IFD_TAG).get(DATETIME_ORIGINAL_TAG)
        if value is None:  # some writers put it in IFD0
            value = exif.get(DATETIME_ORIGINAL_TAG)
    except EXIF_ERRORS:
        return None
    return exif_date(value)


def exif_date(value: object) -> str | None:
    """An EXIF date value as 'YYYY-MM-DDTHH:MM:SS', or None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 \t\r\n")[:19]
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).isoformat(timespec="seconds")
        except ValueError:
            continue
    return None
