"""Opening photos: the one place the app decodes an image file.

Pure Python + Pillow + numpy (no Qt). Every photo the app looks at goes through
:func:`load_image`, which

* opens the file read-only (it never writes, moves or deletes anything),
* refuses decompression bombs *before* decoding (``max_pixels``),
* decodes JPEGs at reduced size when only a small image is needed (``max_side``),
* converts every Pillow mode to 8-bit RGB (alpha composited over white, 16-bit scaled),
* applies the EXIF orientation, and
* turns every kind of bad input into :class:`ImageError` with a short user-facing reason.

This package module is the public API; the work is done in its modules: ``files`` (checks
before reading), ``identify`` (header identification, optional HEIF support), ``decode``
(Pillow formats), ``raw`` (RAW through LibRaw), ``exif`` (orientation and capture date),
``pixels`` (:class:`LoadedImage` and the conversion to RGB), ``errors`` (:class:`ImageError`
and its wording).

Module-level side effect (documented on purpose): Pillow warns about images above
``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 MP by default) and refuses those above twice that.
We do our own, clearer size check against ``max_pixels``, so on import this package raises
``Image.MAX_IMAGE_PIXELS`` to :data:`DEFAULT_MAX_PIXELS` (200 MP) when it is lower. It never
lowers it and never disables it (``None`` is left alone). With the default limit, Pillow's
own ``DecompressionBombWarning``/``DecompressionBombError`` therefore never fire for images
we accept; for images above our limit Pillow may still warn before we reject them.

HEIC/HEIF is decoded through the optional ``pillow-heif`` package, whose Pillow opener is
registered lazily the first time a HEIF file (by extension or by content) is opened.

RAW photos (:data:`RAW_EXTENSIONS`) go through LibRaw (the ``rawpy`` package). Most cameras
embed a JPEG preview of (nearly) full size; when it is at least as large as the request, it
is decoded instead of the raw data, many times faster. Otherwise the raw data is
demosaiced (half size when that is still large enough). Either way the camera's orientation
is applied and sizes are those of LibRaw's full-size output.
"""

from __future__ import annotations

import os

from PIL import Image

from album.images.decode import decode_image
from album.images.errors import ImageError
from album.images.exif import SWAPS_AXES, header_orientation, stored_size
from album.images.files import check_path, extension, open_file
from album.images.identify import open_image
from album.images.pixels import LoadedImage
from album.images.raw import load_raw, open_raw, raw_geometry

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "RAW_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "ImageError",
    "LoadedImage",
    "image_size",
    "is_supported",
    "load_image",
]

DEFAULT_MAX_PIXELS = 200_000_000
"""Default decompression-bomb limit of :func:`load_image`, in pixels (200 MP)."""

RAW_EXTENSIONS: frozenset[str] = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".raf", ".orf", ".rw2", ".pef", ".srw"}
)
"""Camera RAW files, decoded through LibRaw (``rawpy``)."""

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif"}
    | RAW_EXTENSIONS
)
"""File extensions (lower-case, with the dot) the album scans for."""

# See the module docstring: make Pillow's own bomb check no stricter than ours.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS


def is_supported(path: str | os.PathLike[str] | bytes) -> bool:
    """True if ``path`` has one of :data:`SUPPORTED_EXTENSIONS` (case-insensitive)."""
    return extension(path) in SUPPORTED_EXTENSIONS


def image_size(path: str | os.PathLike[str] | bytes) -> tuple[int, int]:
    """Oriented (width, height) in pixels, reading only the file header.

    EXIF orientations 5..8 swap width and height. For PNG only an eXIf chunk placed before
    the image data is seen (this is where writers normally put it); one after the data
    would need a full decode and is ignored here. No ``max_pixels`` limit is applied (only
    Pillow's own refusal of headers over twice ``Image.MAX_IMAGE_PIXELS``, 400 MP).

    Raises:
        ImageError: the file is missing, unreadable, not a supported image or has an
            unreadable header.
    """
    fspath = check_path(path)
    if extension(fspath) in RAW_EXTENSIONS:
        with open_raw(fspath) as raw:
            orientation, (w, h) = raw_geometry(raw)
        return (h, w) if orientation in SWAPS_AXES else (w, h)
    with open_file(fspath) as fp:
        im = open_image(fp, fspath, max_pixels=None)
        with im:
            orientation, _exif = header_orientation(im)
            w, h = stored_size(im)
    return (h, w) if orientation in SWAPS_AXES else (w, h)


def load_image(
    path: str | os.PathLike[str] | bytes,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> LoadedImage:
    """Decode the photo at ``path`` into an upright 8-bit RGB array.

    Args:
        path: file to open; it is only ever read.
        max_side: if given, the longer side of the returned ``rgb`` is at most this many
            pixels (images are never enlarged). JPEGs are then decoded at reduced size via
            Pillow's draft mode (DCT scaling by 1/2, 1/4 or 1/8) and resized the rest of the
            way with LANCZOS; other formats are decoded fully and resized.
        max_pixels: refuse images with more than this many pixels (width * height), checked
            from the header before any pixel data is decoded.

    Modes are converted as follows: alpha (RGBA, LA, P/L/RGB with transparency) is
    composited over white; 16-bit integer images are scaled 0..65535 -> 0..255 with
    rounding (mode "I" with values outside 0..65535 is min-max stretched); float images in
    0..1 are scaled by 255, others min-max stretched; CMYK (including Adobe-inverted JPEG
    CMYK, which Pillow un-inverts) uses Pillow's conversion. Animated GIF/WebP and multi-page
    TIFF give their first frame.

    Raises:
        ImageError: for any bad input (missing, empty, unreadable, not an image, truncated,
            corrupt, too large, unsupported mode, HEIC without pillow-heif, ...).
        ValueError: for invalid arguments (``max_side`` or ``max_pixels`` < 1).
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side!r}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels!r}")

    fspath = check_path(path)
    if extension(fspath) in RAW_EXTENSIONS:
        return load_raw(fspath, max_side, max_pixels)
    with open_file(fspath) as fp:
        im = open_image(fp, fspath, max_pixels=max_pixels)
        with im:
            return decode_image(im, fspath, max_side, max_pixels)
