"""Decoding an identified Pillow image (JPEG, PNG, WebP, TIFF, BMP, GIF, HEIF) into a
:class:`LoadedImage`: the pixel limit, JPEG draft-mode reduction, EXIF orientation and the
conversion to 8-bit RGB. RAW photos take their own path (:mod:`album.images.raw`)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from album.images.errors import DECODE_ERRORS, ImageError, decode_error, too_large
from album.images.exif import (
    TRANSPOSE,
    exif_orientation,
    exif_taken_at,
    header_orientation,
    safe_exif,
    size_plan,
    stored_size,
    valid_orientation,
)
from album.images.pixels import LoadedImage, to_rgb


def decode_image(
    im: Image.Image, fspath: str | bytes, max_side: int | None, max_pixels: int
) -> LoadedImage:
    """Decode ``im`` (opened by :func:`album.images.identify.open_image`); see load_image."""
    fmt = "JPEG" if im.format == "MPO" else (im.format or "unknown")
    pixels = im.size[0] * im.size[1]
    if pixels > max_pixels:
        raise too_large(pixels, max_pixels, fspath)

    header_turn, _exif = header_orientation(im)
    stored = stored_size(im)
    try:
        if fmt == "JPEG" and max_side is not None:
            # DCT-domain downscale before decoding: 1/2, 1/4 or 1/8 size, never below the
            # request. max_side applies to the upright image, hence the orientation.
            _orig, stored_target = size_plan(stored, header_turn, max_side)
            if stored_target != stored:
                im.draft("RGB", stored_target)
        im.load()
    except MemoryError as e:
        raise ImageError("not enough memory to open image", fspath) from e
    except Image.DecompressionBombError as e:
        raise ImageError("image too large", fspath) from e
    except DECODE_ERRORS as e:
        raise decode_error(e, fmt, fspath) from e

    # Pixels are loaded, so reading EXIF is safe for every format now (PNG may keep its
    # eXIf chunk after the image data).
    exif = safe_exif(im)
    if fmt == "HEIF":
        # libheif already rotated the pixels (pillow-heif resets EXIF orientation to 1).
        to_apply = 1
        reported = valid_orientation(im.info.get("original_orientation"))
        stored = im.size
    elif header_turn != 1 and exif_orientation(exif) == 1:
        # Pillow rotated the pixels itself while loading and dropped the tag (TIFF does
        # this in recent Pillow versions); im.size is now the upright size.
        to_apply = 1
        reported = header_turn
        stored = im.size
    else:
        to_apply = reported = exif_orientation(exif)
    (orig_w, orig_h), stored_target = size_plan(stored, to_apply, max_side)

    try:
        rgb_im = to_rgb(im)
        if rgb_im.size != stored_target:
            rgb_im = rgb_im.resize(stored_target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if to_apply in TRANSPOSE:
            rgb_im = rgb_im.transpose(TRANSPOSE[to_apply])
        rgb = np.array(rgb_im, dtype=np.uint8)
    except MemoryError as e:
        raise ImageError("not enough memory to open image", fspath) from e
    except ValueError as e:  # Pillow: "conversion from X to RGB not supported"
        raise ImageError(f"unsupported colour mode ({im.mode})", fspath) from e
    if rgb.ndim != 3 or rgb.shape[2] != 3:  # pragma: no cover - to_rgb guarantees RGB
        raise ImageError(f"unsupported colour mode ({im.mode})", fspath)

    return LoadedImage(
        rgb=np.ascontiguousarray(rgb),
        original_size=(orig_w, orig_h),
        scale=rgb.shape[1] / orig_w,
        format=fmt,
        orientation=reported,
        taken_at=exif_taken_at(exif),
    )
