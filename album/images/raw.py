"""RAW photos, through LibRaw (the ``rawpy`` package).

Most cameras embed a JPEG preview of (nearly) full size; when it is at least as large as the
request and shows the whole frame, it is decoded instead of the raw data, many times faster.
Otherwise the raw data is demosaiced (half size when that is still large enough). Either way
the camera's orientation is applied and sizes are those of LibRaw's full-size output. The
capture date comes from the TIFF directories of TIFF-based RAWs (headers only).
"""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from album.images.errors import DECODE_ERRORS, EXIF_ERRORS, ImageError, too_large
from album.images.exif import (
    DATETIME_ORIGINAL_TAG,
    EXIF_IFD_TAG,
    SWAPS_AXES,
    TRANSPOSE,
    exif_date,
    size_plan,
)
from album.images.pixels import LoadedImage, to_rgb

# LibRaw's flip code -> EXIF orientation (LibRaw maps the EXIF tag through "50132467").
_LIBRAW_FLIP = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}
# A preview this much smaller than the request still serves (previews are often a few
# pixels smaller than LibRaw's output, e.g. 6000x4000 for 6024x4024).
_PREVIEW_SLACK = 0.97


def open_raw(fspath: str | bytes):
    """``rawpy.imread`` (header and metadata only); errors become ImageError."""
    try:
        import rawpy
    except ImportError as e:
        raise ImageError("RAW photos need the rawpy package", fspath) from e
    try:
        return rawpy.imread(os.fsdecode(fspath))
    except Exception as e:
        raise _raw_error(e, fspath) from e


def raw_geometry(raw) -> tuple[int, tuple[int, int]]:
    """(EXIF orientation, stored (width, height) of LibRaw's full-size output)."""
    sizes = raw.sizes
    return _LIBRAW_FLIP.get(sizes.flip, 1), (sizes.width, sizes.height)


def load_raw(fspath: str | bytes, max_side: int | None, max_pixels: int) -> LoadedImage:
    """Decode the RAW photo at ``fspath`` (see load_image)."""
    with open_raw(fspath) as raw:
        try:
            orientation, stored = raw_geometry(raw)
            pixels = stored[0] * stored[1]
            if pixels > max_pixels:
                raise too_large(pixels, max_pixels, fspath)
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
            value = ifd0.get(DATETIME_ORIGINAL_TAG)
            exif_at = ifd0.get(EXIF_IFD_TAG)
            if isinstance(exif_at, int) and exif_at > 0:
                sub = ImageFileDirectory_v2(prefix + head[4:8])
                fp.seek(exif_at)
                sub.load(fp)
                value = sub.get(DATETIME_ORIGINAL_TAG) or value
    except EXIF_ERRORS:
        return None
    return exif_date(value)


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
        elif orientation in SWAPS_AXES and _same_aspect((pw, ph), (stored[1], stored[0])):
            to_apply = 1
        else:
            return None  # cropped or letterboxed preview: boxes would not fit the raw frame
        target = size_plan((pw, ph), 1, wanted if wanted < max(pw, ph) else None)[1]
        if target != (pw, ph):
            im.draft("RGB", target)
        im.load()
        return im, to_apply
    except DECODE_ERRORS:
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
    rgb_im = to_rgb(im)
    orig, in_stored = size_plan(stored, orientation, max_side)
    # ``im`` is either still in the stored frame (to_apply = orientation) or already upright.
    upright = (in_stored[1], in_stored[0]) if orientation in SWAPS_AXES else in_stored
    in_frame = (upright[1], upright[0]) if to_apply in SWAPS_AXES else upright
    if rgb_im.size != in_frame:
        rgb_im = rgb_im.resize(in_frame, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if to_apply in TRANSPOSE:
        rgb_im = rgb_im.transpose(TRANSPOSE[to_apply])
    rgb = np.array(rgb_im, dtype=np.uint8)
    return LoadedImage(
        rgb=np.ascontiguousarray(rgb),
        original_size=orig,
        scale=rgb.shape[1] / orig[0],
        format="RAW",
        orientation=orientation,
        taken_at=taken_at,
    )
