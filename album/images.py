"""Opening photos: the one place the app decodes an image file.

Pure Python + Pillow + numpy (no Qt). Every photo the app looks at goes through
:func:`load_image`, which

* opens the file read-only (it never writes, moves or deletes anything),
* refuses decompression bombs *before* decoding (``max_pixels``),
* decodes JPEGs at reduced size when only a small image is needed (``max_side``),
* converts every Pillow mode to 8-bit RGB (alpha composited over white, 16-bit scaled),
* applies the EXIF orientation, and
* turns every kind of bad input into :class:`ImageError` with a short user-facing reason.

Module-level side effect (documented on purpose): Pillow warns about images above
``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 MP by default) and refuses those above twice that.
We do our own, clearer size check against ``max_pixels``, so on import this module raises
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

import io
import os
import re
import stat
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

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

# Pillow format names we let Image.open identify. Restricting the list keeps exotic
# plugins (EPS -> Ghostscript, PSD, ICO, ...) out of the path of untrusted files.
# (Multi-picture JPEGs come back from the "JPEG" opener with format "MPO".)
_BASE_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
_HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})

# Exceptions Pillow (and its plugins) raise for bad *input* while opening or decoding.
# Anything else (TypeError, AttributeError, ...) is a bug and is allowed to propagate.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)
# Exceptions a corrupt EXIF block may raise while being parsed; never fatal.
_EXIF_ERRORS: tuple[type[BaseException], ...] = (*_DECODE_ERRORS, TypeError, AttributeError)

_ORIENTATION_TAG = 0x0112
_EXIF_IFD_TAG = 0x8769
_DATETIME_ORIGINAL_TAG = 0x9003

# EXIF orientation -> transpose that makes the image upright (same table as
# PIL.ImageOps.exif_transpose).
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


class ImageError(Exception):
    """A photo could not be opened; ``reason`` is a short user-facing explanation.

    ``str(exc)`` is the reason. ``path`` is the file concerned (or ``None``). The original
    low-level exception, if any, is chained as ``__cause__``.
    """

    def __init__(self, reason: str, path: str | os.PathLike[str] | bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        return self.reason


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


# ---------------------------------------------------------------------------------------------
# Public API


def is_supported(path: str | os.PathLike[str] | bytes) -> bool:
    """True if ``path`` has one of :data:`SUPPORTED_EXTENSIONS` (case-insensitive)."""
    return _extension(path) in SUPPORTED_EXTENSIONS


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
    fspath = _check_path(path)
    if _extension(fspath) in RAW_EXTENSIONS:
        with _open_raw(fspath) as raw:
            orientation, (w, h) = _raw_geometry(raw)
        return (h, w) if orientation in _SWAPS_AXES else (w, h)
    with _open_file(fspath) as fp:
        im = _identify(fp, fspath, max_pixels=None)
        with im:
            orientation, _exif = _header_orientation(im)
            w, h = _stored_size(im)
    return (h, w) if orientation in _SWAPS_AXES else (w, h)


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

    fspath = _check_path(path)
    if _extension(fspath) in RAW_EXTENSIONS:
        return _load_raw(fspath, max_side, max_pixels)
    with _open_file(fspath) as fp:
        im = _identify(fp, fspath, max_pixels=max_pixels)
        with im:
            return _decode(im, fspath, max_side, max_pixels)


# ---------------------------------------------------------------------------------------------
# File-system checks


def _extension(path: str | os.PathLike[str] | bytes) -> str:
    return os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower()


def _check_path(path: str | os.PathLike[str] | bytes) -> str | bytes:
    """Validate that ``path`` names a non-empty regular file; return it as str/bytes."""
    fspath = os.fspath(path)
    try:
        st = os.stat(fspath)
    except FileNotFoundError as e:
        if os.path.islink(fspath):
            raise ImageError("broken symbolic link", fspath) from e
        raise ImageError("file not found", fspath) from e
    except NotADirectoryError as e:
        raise ImageError("file not found", fspath) from e
    except PermissionError as e:
        raise ImageError("permission denied", fspath) from e
    except ValueError as e:  # e.g. embedded NUL character
        raise ImageError("invalid file name", fspath) from e
    except OSError as e:
        raise ImageError(f"cannot access file ({e.strerror or e})", fspath) from e
    if stat.S_ISDIR(st.st_mode):
        raise ImageError("is a directory, not an image file", fspath)
    if not stat.S_ISREG(st.st_mode):
        # FIFOs, sockets, devices: opening a FIFO would block forever.
        raise ImageError("not a regular file", fspath)
    if st.st_size == 0:
        raise ImageError("file is empty", fspath)
    return fspath


def _open_file(fspath: str | bytes) -> BinaryIO:
    """Open read-only; the caller closes it (with-statement)."""
    try:
        return open(fspath, "rb")
    except PermissionError as e:
        raise ImageError("permission denied", fspath) from e
    except IsADirectoryError as e:
        raise ImageError("is a directory, not an image file", fspath) from e
    except FileNotFoundError as e:
        raise ImageError("file not found", fspath) from e
    except OSError as e:
        raise ImageError(f"cannot read file ({e.strerror or e})", fspath) from e


# ---------------------------------------------------------------------------------------------
# HEIF support (optional pillow-heif)

_heif_lock = threading.Lock()
_heif_state: bool | None = None  # None: not tried yet; True: registered; False: unavailable


def _heif_available() -> bool:
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
# RAW photos (LibRaw through rawpy)

# LibRaw's flip code -> EXIF orientation (LibRaw maps the EXIF tag through "50132467").
_LIBRAW_FLIP = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}
# A preview this much smaller than the request still serves (previews are often a few
# pixels smaller than LibRaw's output, e.g. 6000x4000 for 6024x4024).
_PREVIEW_SLACK = 0.97


def _open_raw(fspath: str | bytes):
    """``rawpy.imread`` (header and metadata only); errors become ImageError."""
    try:
        import rawpy
    except ImportError as e:
        raise ImageError("RAW photos need the rawpy package", fspath) from e
    try:
        return rawpy.imread(os.fsdecode(fspath))
    except Exception as e:
        raise _raw_error(e, fspath) from e


def _raw_error(e: BaseException, fspath: str | bytes) -> ImageError:
    """Word a LibRaw failure (rawpy's exception classes) as an ImageError."""
    if isinstance(e, ImageError):
        return e
    if isinstance(e, MemoryError):
        return ImageError("not enough memory to open image", fspath)
    name = type(e).__name__
    if name == "LibRawFileUnsupportedError":
        return ImageError("unsupported RAW file (format or camera unknown to LibRaw)", fspath)
    if name in ("LibRawIOError", "LibRawDataError"):
        return ImageError("corrupt or truncated RAW file", fspath)
    if name in ("LibRawTooBigError", "LibRawUnsufficientMemoryError", "LibRawMemPoolOverflowError"):
        return ImageError("RAW image too large to decode", fspath)
    if isinstance(e, OSError) and e.errno is not None:
        return ImageError(f"read error ({e.strerror or e})", fspath)
    return ImageError(f"unreadable RAW file ({name}: {e})", fspath)


def _raw_geometry(raw) -> tuple[int, tuple[int, int]]:
    """(EXIF orientation, stored (width, height) of LibRaw's full-size output)."""
    sizes = raw.sizes
    return _LIBRAW_FLIP.get(sizes.flip, 1), (sizes.width, sizes.height)


def _raw_taken_at(fspath: str | bytes) -> str | None:
    """DateTimeOriginal of a TIFF-based RAW (DNG, CR2, NEF, ARW, ORF, RW2, PEF...), read from
    its EXIF directory with Pillow's TIFF directory parser (only the directories are read;
    rawpy's ``other.timestamp`` would unpack the whole raw image first). None for other
    containers (CR3, RAF) or when absent."""
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    try:
        with open(fspath, "rb") as fp:
            head = fp.read(8)
            # ORF ("IIRO") and RW2 ("IIU") are TIFF with another magic number.
            prefix = {b"II": b"II*\x00", b"MM": b"MM\x00*"}.get(head[:2])
            if prefix is None or len(head) < 8:
                return None
            ifd0 = ImageFileDirectory_v2(prefix + head[4:8])
            fp.seek(ifd0.next)
            ifd0.load(fp)
            value = ifd0.get(_DATETIME_ORIGINAL_TAG)
            exif_at = ifd0.get(_EXIF_IFD_TAG)
            if isinstance(exif_at, int) and exif_at > 0:
                sub = ImageFileDirectory_v2(prefix + head[4:8])
                fp.seek(exif_at)
                sub.load(fp)
                value = sub.get(_DATETIME_ORIGINAL_TAG) or value
    except _EXIF_ERRORS:
        return None
    return _exif_date(value)


def _load_raw(fspath: str | bytes, max_side: int | None, max_pixels: int) -> LoadedImage:
    with _open_raw(fspath) as raw:
        try:
            orientation, stored = _raw_geometry(raw)
            pixels = stored[0] * stored[1]
            if pixels > max_pixels:
                limit = _mp(max_pixels)
                raise ImageError(f"image too large ({_mp(pixels)} > {limit} limit)", fspath)
            upright_long = max(stored)
            wanted = upright_long if max_side is None else min(max_side, upright_long)
            taken_at = _raw_taken_at(fspath)
            preview = _raw_preview(raw, stored, orientation, wanted)
            if preview is not None:
                im, to_apply = preview
            else:
                # Half size skips interpolation: ~4x less work, when it is still big enough.
                half = max_side is not None and upright_long // 2 >= max_side
                rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8, user_flip=0)
                im, to_apply = Image.fromarray(rgb), orientation
        except ImageError:
            raise
        except Exception as e:
            raise _raw_error(e, fspath) from e
    return _finish_raw(im, stored, to_apply, orientation, max_side, taken_at)


def _raw_preview(
    raw, stored: tuple[int, int], orientation: int, wanted: int
) -> tuple[Image.Image, int] | None:
    """The embedded JPEG preview when it is large enough and shows the whole frame, with the
    orientation still to apply to it; None to demosaic instead."""
    try:
        thumb = raw.extract_thumb()
    except Exception:  # no preview, or one LibRaw cannot extract: demosaic
        return None
    if getattr(thumb.format, "name", "") != "JPEG":
        return None
    try:
        im = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
        pw, ph = im.size
        if max(pw, ph) < wanted * _PREVIEW_SLACK:
            return None
        # Previews are stored like the raw data (LibRaw's orientation applies); a camera
        # that stored it upright gives itself away by the other aspect ratio.
        if _same_aspect((pw, ph), stored):
            to_apply = orientation
        elif orientation in _SWAPS_AXES and _same_aspect((pw, ph), (stored[1], stored[0])):
            to_apply = 1
        else:
            return None  # cropped or letterboxed preview: boxes would not fit the raw frame
        target = _plan((pw, ph), 1, wanted if wanted < max(pw, ph) else None)[1]
        if target != (pw, ph):
            im.draft("RGB", target)
        im.load()
        return im, to_apply
    except _DECODE_ERRORS:
        return None


def _same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] / a[1] - b[0] / b[1]) <= 0.02 * (b[0] / b[1])


def _finish_raw(
    im: Image.Image,
    stored: tuple[int, int],
    to_apply: int,
    orientation: int,
    max_side: int | None,
    taken_at: str | None,
) -> LoadedImage:
    """Resize (in the frame ``im`` is in) and orient; sizes are LibRaw's full output's."""
    rgb_im = _to_rgb(im)
    orig, in_stored = _plan(stored, orientation, max_side)
    # ``im`` is either still in the stored frame (to_apply = orientation) or already upright.
    upright = (in_stored[1], in_stored[0]) if orientation in _SWAPS_AXES else in_stored
    in_frame = (upright[1], upright[0]) if to_apply in _SWAPS_AXES else upright
    if rgb_im.size != in_frame:
        rgb_im = rgb_im.resize(in_frame, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if to_apply in _TRANSPOSE:
        rgb_im = rgb_im.transpose(_TRANSPOSE[to_apply])
    rgb = np.array(rgb_im, dtype=np.uint8)
    return LoadedImage(
        rgb=np.ascontiguousarray(rgb),
        original_size=orig,
        scale=rgb.shape[1] / orig[0],
        format="RAW",
        orientation=orientation,
        taken_at=taken_at,
    )


# ---------------------------------------------------------------------------------------------
# Identification (header only)

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)


_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def _sniff(head: bytes) -> str | None:
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


def _identify(fp: BinaryIO, fspath: str | bytes, max_pixels: int | None) -> Image.Image:
    """Image.open on ``fp`` restricted to our formats; errors become ImageError."""
    head = fp.read(32)
    fp.seek(0)
    sniffed = _sniff(head)
    heif_wanted = sniffed == "HEIF" or _extension(fspath) in _HEIF_EXTENSIONS
    formats = _BASE_FORMATS
    if heif_wanted and _heif_available():
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
        size = f"{_mp(got)} > " if got is not None else ""
        raise ImageError(f"image too large ({size}{_mp(limit)} limit)", fspath) from e
    except UnidentifiedImageError as e:
        if heif_wanted and not _heif_available():
            raise ImageError("HEIC support needs pillow-heif", fspath) from e
        if sniffed in ("PSD", "JPEG 2000", "AVIF"):
            raise ImageError(f"unsupported image format ({sniffed})", fspath) from e
        if sniffed is not None:
            raise ImageError(f"corrupt {_pretty(sniffed)} file (unreadable header)", fspath) from e
        raise ImageError("not an image file", fspath) from e
    except _DECODE_ERRORS as e:
        raise _decode_error(e, sniffed, fspath) from e


def _decode_error(e: BaseException, fmt: str | None, fspath: str | bytes) -> ImageError:
    """Word a decode-time exception as an ImageError."""
    name = _pretty(fmt) if fmt else "image"
    if isinstance(e, OSError) and e.errno is not None:  # a real I/O error, not bad data
        return ImageError(f"read error ({e.strerror or e})", fspath)
    if isinstance(e, EOFError) or "truncated" in str(e).lower():
        return ImageError(f"truncated {name} file", fspath)
    return ImageError(f"corrupt {name} file", fspath)


def _pretty(fmt: str) -> str:
    return {"WEBP": "WebP", "HEIF": "HEIC/HEIF", "MPO": "JPEG"}.get(fmt, fmt)


def _mp(pixels: int) -> str:
    """Pixel count in megapixels for messages: '250 MP', '24 MP', '0.5 MP'."""
    mp = pixels / 1e6
    if mp >= 10:
        return f"{mp:.0f} MP"
    return f"{mp:.2g} MP"


# ---------------------------------------------------------------------------------------------
# EXIF


def _header_orientation(im: Image.Image) -> tuple[int, Image.Exif | None]:
    """Orientation still to be applied, read without decoding pixels (PNG: see image_size).

    pillow-heif already applies the HEIF transforms while decoding (and resets the EXIF
    orientation to 1), so HEIF images need no further rotation.
    """
    if im.format == "HEIF":
        return 1, None
    if im.format == "PNG" and "exif" not in im.info:
        return 1, None  # PngImageFile.getexif() would decode the whole image
    exif = _safe_exif(im)
    return _orientation(exif), exif


def _safe_exif(im: Image.Image) -> Image.Exif | None:
    try:
        return im.getexif()
    except _EXIF_ERRORS:
        return None


def _orientation(exif: Image.Exif | None) -> int:
    if exif is None:
        return 1
    try:
        value = exif.get(_ORIENTATION_TAG)
    except _EXIF_ERRORS:
        return 1
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return 1


def _taken_at(exif: Image.Exif | None) -> str | None:
    """EXIF DateTimeOriginal as 'YYYY-MM-DDTHH:MM:SS', or None."""
    if exif is None:
        return None
    try:
        value = exif.get_ifd(_EXIF_IFD_TAG).get(_DATETIME_ORIGINAL_TAG)
        if value is None:  # some writers put it in IFD0
            value = exif.get(_DATETIME_ORIGINAL_TAG)
    except _EXIF_ERRORS:
        return None
    return _exif_date(value)


def _exif_date(value: object) -> str | None:
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


# ---------------------------------------------------------------------------------------------
# Decoding


def _decode(
    im: Image.Image, fspath: str | bytes, max_side: int | None, max_pixels: int
) -> LoadedImage:
    fmt = "JPEG" if im.format == "MPO" else (im.format or "unknown")
    pixels = im.size[0] * im.size[1]
    if pixels > max_pixels:
        raise ImageError(f"image too large ({_mp(pixels)} > {_mp(max_pixels)} limit)", fspath)

    header_orientation, _exif = _header_orientation(im)
    stored = _stored_size(im)
    try:
        if fmt == "JPEG" and max_side is not None:
            # DCT-domain downscale before decoding: 1/2, 1/4 or 1/8 size, never below the
            # request. max_side applies to the upright image, hence the orientation.
            _orig, stored_target = _plan(stored, header_orientation, max_side)
            if stored_target != stored:
                im.draft("RGB", stored_target)
        im.load()
    except MemoryError as e:
        raise ImageError("not enough memory to open image", fspath) from e
    except Image.DecompressionBombError as e:
        raise ImageError("image too large", fspath) from e
    except _DECODE_ERRORS as e:
        raise _decode_error(e, fmt, fspath) from e

    # Pixels are loaded, so reading EXIF is safe for every format now (PNG may keep its
    # eXIf chunk after the image data).
    exif = _safe_exif(im)
    if fmt == "HEIF":
        # libheif already rotated the pixels (pillow-heif resets EXIF orientation to 1).
        to_apply = 1
        reported = _valid_orientation(im.info.get("original_orientation"))
        stored = im.size
    elif header_orientation != 1 and _orientation(exif) == 1:
        # Pillow rotated the pixels itself while loading and dropped the tag (TIFF does
        # this in recent Pillow versions); im.size is now the upright size.
        to_apply = 1
        reported = header_orientation
        stored = im.size
    else:
        to_apply = reported = _orientation(exif)
    (orig_w, orig_h), stored_target = _plan(stored, to_apply, max_side)

    try:
        rgb_im = _to_rgb(im)
        if rgb_im.size != stored_target:
            rgb_im = rgb_im.resize(stored_target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if to_apply in _TRANSPOSE:
            rgb_im = rgb_im.transpose(_TRANSPOSE[to_apply])
        rgb = np.array(rgb_im, dtype=np.uint8)
    except MemoryError as e:
        raise ImageError("not enough memory to open image", fspath) from e
    except ValueError as e:  # Pillow: "conversion from X to RGB not supported"
        raise ImageError(f"unsupported colour mode ({im.mode})", fspath) from e
    if rgb.ndim != 3 or rgb.shape[2] != 3:  # pragma: no cover - _to_rgb guarantees RGB
        raise ImageError(f"unsupported colour mode ({im.mode})", fspath)

    return LoadedImage(
        rgb=np.ascontiguousarray(rgb),
        original_size=(orig_w, orig_h),
        scale=rgb.shape[1] / orig_w,
        format=fmt,
        orientation=reported,
        taken_at=_taken_at(exif),
    )


def _stored_size(im: Image.Image) -> tuple[int, int]:
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


def _plan(
    stored: tuple[int, int], orientation: int, max_side: int | None
) -> tuple[tuple[int, int], tuple[int, int]]:
    """(upright full size, size to resize the *stored* pixels to before transposing)."""
    swap = orientation in _SWAPS_AXES
    orig = (stored[1], stored[0]) if swap else stored
    target = orig
    if max_side is not None and max(orig) > max_side:
        s = max_side / max(orig)
        target = (max(1, round(orig[0] * s)), max(1, round(orig[1] * s)))
    return orig, ((target[1], target[0]) if swap else target)


def _valid_orientation(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return 1


def _to_rgb(im: Image.Image) -> Image.Image:
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
