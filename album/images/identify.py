"""Identifying a photo from its header, before any pixel data is decoded.

``Image.open`` is restricted to the formats the app reads, so exotic Pillow plugins (EPS ->
Ghostscript, PSD, ICO, ...) stay out of the path of untrusted files. HEIC/HEIF goes through
the optional ``pillow-heif`` package, whose opener is registered the first time a HEIF file
(by extension or by content) is opened. The first bytes are sniffed only to word errors
("corrupt PNG file", "unsupported image format (PSD)").
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from album.images.errors import DECODE_ERRORS, ImageError, decode_error, megapixels, pretty
from album.images.files import extension

# Pillow format names we let Image.open identify.
# (Multi-picture JPEGs come back from the "JPEG" opener with format "MPO".)
_BASE_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


# ---------------------------------------------------------------------------------------------
# HEIF support (optional pillow-heif)

_heif_lock = threading.Lock()
_heif_state: bool | None = None  # None: not tried yet; True: registered; False: unavailable


def heif_available() -> bool:
    """Register pillow-heif's Pillow opener once; False if the package is missing."""
    global _heif_state
    if _heif_state is None:
        with _heif_lock:
            if _heif_state is None:
                try:
                    import pillow_heif
                except ImportError:
                    _heif_state = False
                else:
                    pillow_heif.register_heif_opener()
                    _heif_state = True
    return _heif_state


# ---------------------------------------------------------------------------------------------
# Identification


def sniff(head: bytes) -> str | None:
    """Best guess of the format from the first bytes, used only to word error messages."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "HEIF"
        if brand in (b"avif", b"avis"):
            return "AVIF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xffO\xffQ")):
        return "JPEG 2000"
    return None


def open_image(fp: BinaryIO, fspath: str | bytes, max_pixels: int | None) -> Image.Image:
    """Image.open on ``fp`` restricted to our formats; errors become ImageError."""
    head = fp.read(32)
    fp.seek(0)
    sniffed = sniff(head)
    heif_wanted = sniffed == "HEIF" or extension(fspath) in HEIF_EXTENSIONS
    formats = _BASE_FORMATS
    if heif_wanted and heif_available():
        formats = (*_BASE_FORMATS, "HEIF")

    try:
        if (
            max_pixels is not None
            and Image.MAX_IMAGE_PIXELS is not None
            and (max_pixels > Image.MAX_IMAGE_PIXELS)
        ):
            # The caller allows more than Pillow does: silence Pillow's warning for sizes we
            # accept (not thread-safe, so only on this unusual path). Above twice Pillow's
            # limit Pillow still refuses, reported as "image too large" below.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                return Image.open(fp, formats=formats)
        return Image.open(fp, formats=formats)
    except Image.DecompressionBombError as e:
        # Over twice Pillow's limit: refused inside Image.open, before our own check.
        m = re.search(r"\((\d+) pixels\)", str(e))
        got = int(m.group(1)) if m else None
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        if max_pixels is not None and (got is None or got > max_pixels):
            limit = min(limit, max_pixels)
        size = f"{megapixels(got)} > " if got is not None else ""
        raise ImageError(f"image too large ({size}{megapixels(limit)} limit)", fspath) from e
    except UnidentifiedImageError as e:
        if heif_wanted and not heif_available():
            raise ImageError("HEIC support needs pillow-heif", fspath) from e
        if sniffed in ("PSD", "JPEG 2000", "AVIF"):
            raise ImageError(f"unsupported image format ({sniffed})", fspath) from e
        if sniffed is not None:
            raise ImageError(f"corrupt {pretty(sniffed)} file (unreadable header)", fspath) from e
        raise ImageError("not an image file", fspath) from e
    except DECODE_ERRORS as e:
        raise decode_error(e, sniffed, fspath) from e
