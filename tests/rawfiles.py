"""Camera RAW test photos made at test time from an RGB picture (no binaries in git).

* DNG: written with ``tifffile``: a 16-bit RGGB Bayer mosaic of the picture's linear sRGB
  values, with the DNG tags LibRaw needs (version, CFA layout, a colour matrix that makes
  the camera space sRGB, white level) and an EXIF orientation.
* NEF: a Nikon-style TIFF written here by hand: IFD0 holds a full-size JPEG preview (as
  Nikon cameras embed one) with the camera's make, model and orientation, and a SubIFD the
  14-bit uncompressed Bayer data. LibRaw and exiftool both identify it as a NEF. It is not a
  camera-made file: no maker notes, and LibRaw's D700 colour matrix is applied to sRGB data
  (colours come out somewhat grey, which face detection does not mind).

Both store the pixels turned the way a camera held at ``orientation`` would store them; the
upright picture is what a viewer shows.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

# Upright picture -> stored pixels for each EXIF orientation (inverse of what a viewer does).
_TO_STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores for ``upright`` with EXIF ``orientation``."""
    if orientation not in _TO_STORED:
        return upright
    return np.asarray(Image.fromarray(upright).transpose(_TO_STORED[orientation]))


def bayer(rgb: np.ndarray, bits: int) -> np.ndarray:
    """RGGB mosaic of ``rgb``'s linear-light values, scaled to ``bits`` bits."""
    v = rgb.astype(np.float64) / 255
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    q = np.rint(lin * ((1 << bits) - 1)).astype(np.uint16)
    cfa = np.empty(rgb.shape[:2], np.uint16)
    cfa[0::2, 0::2] = q[0::2, 0::2, 0]
    cfa[0::2, 1::2] = q[0::2, 1::2, 1]
    cfa[1::2, 0::2] = q[1::2, 0::2, 1]
    cfa[1::2, 1::2] = q[1::2, 1::2, 2]
    return cfa


def _srational(values: list[float]) -> list[int]:
    out = []
    for v in values:
        out += [round(v * 10000), 10000]
    return out


# XYZ (D65) -> linear sRGB: with it as ColorMatrix1 the "camera" space is sRGB.
_XYZ_TO_SRGB = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570]


def write_dng(
    path: Path, upright: np.ndarray, orientation: int = 1, taken: str | None = None
) -> Path:
    """A Bayer DNG of ``upright`` (even width and height) written with tifffile; ``taken``
    ("YYYY:MM:DD HH:MM:SS") becomes its DateTimeOriginal."""
    import tifffile

    cfa = bayer(stored(upright, orientation), 16)
    tags = [
        (254, 4, 1, 0, True),  # NewSubfileType: main image
        (271, "s", 0, "Album", True),
        (272, "s", 0, "Test DNG", True),
        (274, 3, 1, orientation, True),
        (33421, 3, 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, 1, 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50706, 1, 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, 1, 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "Album Test DNG", True),  # UniqueCameraModel
        (50714, 3, 1, 0, True),  # BlackLevel
        (50717, 3, 1, 65535, True),  # WhiteLevel
        (50721, 10, 9, _srational(_XYZ_TO_SRGB), True),  # ColorMatrix1
        (50728, 5, 3, [1, 1, 1, 1, 1, 1], True),  # AsShotNeutral
        (50778, 3, 1, 21, True),  # CalibrationIlluminant1: D65
    ]
    if taken:
        tags.append((36867, "s", 0, taken, True))  # DateTimeOriginal (in IFD0, as DNG allows)
    tifffile.imwrite(path, cfa, photometric=32803, extratags=tags, metadata=None)
    return path


# TIFF field types: BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED
_TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("I", 4), 7: ("B", 1)}


def _ifd(entries: list[tuple[int, int, object]], blobs: bytearray, base: int) -> bytes:
    """One little-endian IFD; values over 4 bytes are appended to ``blobs`` (which starts
    at file offset ``base``)."""
    out = bytearray(struct.pack("<H", len(entries)))
    for tag, kind, value in sorted(entries, key=lambda e: e[0]):
        if kind == 2:
            raw = value.encode("ascii") + b"\x00"  # type: ignore[union-attr]
            count = len(raw)
        elif kind == 7:
            raw = bytes(value)  # type: ignore[arg-type]
            count = len(raw)
        else:
            vals = list(value) if isinstance(value, list | tuple) else [value]
            fmt, _ = _TYPES[kind]
            raw = struct.pack(f"<{len(vals)}{fmt}", *vals)
            count = len(vals) // 2 if kind == 5 else len(vals)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            if len(blobs) % 2:
                blobs.append(0)
            field = struct.pack("<I", base + len(blobs))
            blobs += raw
        out += struct.pack("<HHI", tag, kind, count) + field
    out += struct.pack("<I", 0)
    return bytes(out)


def write_nef(path: Path, upright: np.ndarray, orientation: int = 1, preview: bool = True) -> Path:
    """A Nikon-style NEF of ``upright`` (even width and height), laid out as Nikon cameras
    do: IFD0 a 160x120 RGB thumbnail with the camera's make, model and orientation, and
    SubIFDs holding the full-size JPEG preview (stored frame; left out unless ``preview``)
    and the 14-bit uncompressed Bayer data."""
    pixels = stored(upright, orientation)
    h, w = pixels.shape[:2]
    cfa = bayer(pixels, 14).astype("<u2").tobytes()
    small = Image.fromarray(pixels).resize((160, 120) if w >= h else (120, 160))
    thumb = np.asarray(small).tobytes()
    jpeg = b""
    if preview:
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=92)
        jpeg = buf.getvalue()
    n_ifd0, n_preview, n_raw = 13, 7, 12
    ifd0_at = 8
    preview_at = ifd0_at + 2 + 12 * n_ifd0 + 4
    raw_at = preview_at + (2 + 12 * n_preview + 4 if preview else 0)
    blobs_at = raw_at + 2 + 12 * n_raw + 4
    thumb_at = blobs_at + 1024  # small values go between: far less than 1 KB
    jpeg_at = thumb_at + len(thumb)
    cfa_at = jpeg_at + len(jpeg) + len(jpeg) % 2
    subifds = [preview_at, raw_at] if preview else [raw_at]
    ifd0 = [
        (254, 4, 1),  # NewSubfileType: reduced image
        (256, 4, small.width),
        (257, 4, small.height),
        (258, 3, (8, 8, 8)),
        (259, 3, 1),
        (262, 3, 2),  # RGB
        (271, 2, "NIKON CORPORATION"),
        (272, 2, "NIKON D700"),
        (273, 4, thumb_at),
        (274, 3, orientation),
        (277, 3, 3),
        (279, 4, len(thumb)),
        (330, 4, subifds),  # SubIFDs
    ]
    preview_ifd = [
        (254, 4, 1),
        (256, 4, w),
        (257, 4, h),
        (259, 3, 6),  # old-style JPEG, as Nikon's preview IFD
        (262, 3, 6),  # YCbCr
        (513, 4, jpeg_at),  # JPEGInterchangeFormat
        (514, 4, len(jpeg)),
    ]
    raw_ifd = [
        (254, 4, 0),
        (256, 4, w),
        (257, 4, h),
        (258, 3, 16),
        (259, 3, 1),
        (262, 3, 32803),  # CFA
        (273, 4, cfa_at),
        (277, 3, 1),
        (278, 4, h),
        (279, 4, len(cfa)),
        (33421, 3, (2, 2)),  # CFARepeatPatternDim
        (33422, 7, bytes((0, 1, 1, 2))),  # CFAPattern: RGGB
    ]
    assert (len(ifd0), len(preview_ifd), len(raw_ifd)) == (n_ifd0, n_preview, n_raw)
    blobs = bytearray()
    heads = _ifd(ifd0, blobs, blobs_at)
    if preview:
        heads += _ifd(preview_ifd, blobs, blobs_at)
    heads += _ifd(raw_ifd, blobs, blobs_at)
    assert len(blobs) <= 1024 and 8 + len(heads) == blobs_at
    out = b"II*\x00" + struct.pack("<I", ifd0_at) + heads + bytes(blobs).ljust(1024, b"\x00")
    out += thumb + jpeg + b"\x00" * (len(jpeg) % 2) + cfa
    Path(path).write_bytes(out)
    return Path(path)
