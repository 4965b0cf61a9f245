"""A corpus of malformed and unusual image files, generated at test time (no binaries in git).

:func:`make_odd_corpus` writes the files into a directory and returns, for each file name
(relative to that directory), the expected outcome of ``album.images.load_image``:

* ``None``: the file must load to a valid (H, W, 3) uint8 array;
* a keyword: loading must raise ``ImageError`` whose reason contains it (case-insensitive).

Platform notes (decided at generation time, so the expectations are always right):

* ``no_permission.jpg`` is chmod 000. A privileged process (root, CAP_DAC_OVERRIDE) or a file
  system that ignores modes (Windows) can still read it; the corpus detects this by trying
  to open the file and then expects it to load (``None``) instead of "permission denied".
* ``broken_link.jpg``, ``link_to_ok.jpg`` and ``fifo.jpg`` are left out where the OS cannot
  create symbolic links or FIFOs.
* ``garbage.heic`` / ``random_bytes.heic`` expect "corrupt" / "not an image" when
  pillow-heif is installed and "pillow-heif" otherwise; the real HEIC files are only
  written when pillow-heif can encode.

Everything is small except ``huge_6000x4000.jpg`` (a smooth gradient, ~0.5 MB); generating the
whole corpus takes well under 2 seconds.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# --- Orientation test pattern -----------------------------------------------------------------
# The *upright* picture is ORIENT_SIZE (width, height): grey, with a red square in the top-left
# corner and a green square in the top-right corner. Two markers make all 8 EXIF orientations
# distinguishable (one marker alone cannot tell orientation 5 from 1 by content).
ORIENT_SIZE = (96, 64)
MARK = 24  # marker side in pixels (multiple of the 8x8 JPEG block, 16x16 chroma block)
RED = (230, 20, 20)
GREEN = (20, 200, 20)
GREY = (128, 128, 128)

# Stored pixels = upright.transpose(_TO_STORED[k]); a correct loader applies the inverse.
_TO_STORED: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # EXIF 6 means "rotate 90° clockwise to view"
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

# Values in the 16-bit test images and what they must become in 8 bits.
GRAY16_VALUES = (0, 257, 32768, 65535)
GRAY16_EXPECTED = (0, 1, 128, 255)

ANIMATION_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))  # frame 0, 1, 2

TAKEN_AT_EXIF = "2021:07:04 12:34:56"
TAKEN_AT_ISO = "2021-07-04T12:34:56"


def upright_pattern() -> Image.Image:
    """The upright orientation test picture (see ORIENT_SIZE)."""
    w, h = ORIENT_SIZE
    im = Image.new("RGB", (w, h), GREY)
    im.paste(RED, (0, 0, MARK, MARK))
    im.paste(GREEN, (w - MARK, 0, w, MARK))
    return im


def stored_for_orientation(orientation: int) -> Image.Image:
    """Pixels to store so that applying EXIF ``orientation`` gives upright_pattern()."""
    im = upright_pattern()
    t = _TO_STORED[orientation]
    return im if t is None else im.transpose(t)


def exif_bytes(orientation: int | None = None, taken_at: str | None = None) -> bytes:
    """A valid EXIF block (with the 'Exif\\0\\0' header) holding the given tags."""
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if taken_at is not None:
        exif.get_ifd(0x8769)[0x9003] = taken_at
    return exif.tobytes()


def jpeg_bytes(im: Image.Image, **save_args: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95, **save_args)
    return buf.getvalue()


def encode(im: Image.Image, fmt: str, **save_args: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **save_args)
    return buf.getvalue()


def noise_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def gradient_rgb(width: int, height: int) -> Image.Image:
    """A smooth image: compresses well and encodes fast even when large."""
    a = np.empty((height, width, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, width).astype(np.uint8)[None, :]
    a[..., 1] = np.linspace(0, 255, height).astype(np.uint8)[:, None]
    a[..., 2] = 128
    return Image.fromarray(a)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG claiming ``width`` x ``height`` (8-bit grey) with almost no pixel data.

    Opening it reads only the header, so it is safe for any claimed size; decoding it would
    need width * height bytes and then fail as truncated.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_with_claimed_size(width: int, height: int) -> bytes:
    """A small real JPEG whose SOF header is patched to claim ``width`` x ``height``."""
    data = bytearray(jpeg_bytes(Image.new("RGB", (16, 16), GREY)))
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):  # SOF0/1/2: length, precision, height, width
            data[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker found")  # pragma: no cover


def _tiff_ifd_exif(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """Raw little-endian EXIF block with one IFD of (tag, type, count, 4-byte value)."""
    body = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        body += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")[:4]
    body += struct.pack("<I", 0)
    return b"Exif\x00\x00" + body


def heif_can_encode() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    return bool(pillow_heif.libheif_info().get("HEIF"))


def heic_bytes(im: Image.Image, exif: bytes | None = None) -> bytes:
    """Encode with pillow-heif directly (without registering its Pillow plugin)."""
    import pillow_heif

    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": 90}
    if exif is not None:
        kwargs["exif"] = exif
    pillow_heif.from_pillow(im).save(buf, **kwargs)
    return buf.getvalue()


def make_odd_corpus(root: Path) -> dict[str, str | None]:
    """Write the odd-file corpus into ``root``; return {file name: expected outcome}.

    Outcome ``None``: must load fine. A string: keyword expected (case-insensitively) in the
    ``ImageError`` reason.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str | None] = {}

    def put(name: str, data: bytes, outcome: str | None) -> Path:
        path = root / name
        path.write_bytes(data)
        expected[name] = outcome
        return path

    rgb = noise_rgb(64, 48)
    good_jpeg = jpeg_bytes(rgb)
    good_png = encode(rgb, "PNG")
    rng = np.random.default_rng(1234)

    # --- not images / broken data ------------------------------------------------------------
    put("empty.jpg", b"", "empty")
    put("truncated_half.jpg", good_jpeg[: len(good_jpeg) // 2], "truncated")
    put("truncated_header.jpg", good_jpeg[:40], "truncated")
    put("truncated_half.png", good_png[: len(good_png) // 2], "truncated")
    put(
        "random_bytes.jpg",
        b"\x00" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "not an image",
    )
    put("text.png", b"This is not a picture, just some text.\n" * 20, "not an image")
    put("html.jpg", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n", "not an image")
    bad_crc = bytearray(good_png)
    bad_crc[29] ^= 0xFF  # inside the IHDR CRC
    put("bad_crc.png", bytes(bad_crc), "corrupt")
    good_bmp = encode(rgb, "BMP")
    put("truncated.bmp", good_bmp[:200], "truncated")
    bad_depth = bytearray(good_bmp)
    bad_depth[28:30] = struct.pack("<H", 7)  # 7 bits per pixel does not exist
    put("bad_depth.bmp", bytes(bad_depth), "corrupt")
    put("psd_named.jpg", b"8BPS\x00\x01" + bytes(100), "unsupported")
    put(
        "garbage.heic",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(range(256)) * 4,
        "corrupt" if _heif_installed() else "pillow-heif",
    )
    put(
        "random_bytes.heic",
        b"\x00" + rng.integers(0, 256, 512, dtype=np.uint8).tobytes(),
        "not an image" if _heif_installed() else "pillow-heif",
    )

    # --- decompression bombs (tiny files, huge claimed sizes; never decoded) -----------------
    put("bomb_20000x20000.png", png_header_only(20000, 20000), "too large")
    put("bomb_60000x60000.png", png_header_only(60000, 60000), "too large")
    put("bomb_65000x65000.jpg", jpeg_with_claimed_size(65000, 65000), "too large")

    # --- colour modes ------------------------------------------------------------------------
    put("cmyk.jpg", jpeg_bytes(Image.new("CMYK", (32, 32), (255, 0, 0, 0))), None)
    put("gray.jpg", jpeg_bytes(rgb.convert("L")), None)
    put("progressive.jpg", jpeg_bytes(rgb, progressive=True), None)
    gray16 = np.tile(np.array(GRAY16_VALUES, dtype=np.uint16), (4, 1))
    put("gray16.png", encode(Image.fromarray(gray16), "PNG"), None)
    put("gray16_big_endian.tif", encode(Image.fromarray(gray16.astype(">u2")), "TIFF"), None)
    rgb48 = np.zeros((4, 4, 3), np.uint16)
    rgb48[..., 0] = 65535
    put("rgb48.png", _png_rgb48(rgb48), None)
    put("float.tif", encode(Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32)), "TIFF"), None)
    put("int32.tif", encode(Image.fromarray(np.array([[-100, 0, 100]], np.int32)), "TIFF"), None)
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    put("palette.png", encode(pal, "PNG"), None)
    put("palette_transparent.png", encode(pal, "PNG", transparency=0), None)
    put("la.png", encode(Image.new("LA", (8, 8), (100, 128)), "PNG"), None)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    put("rgba.png", encode(rgba, "PNG"), None)
    put("rgb_trns.png", encode(rgb, "PNG", transparency=(0, 0, 0)), None)
    bilevel = Image.fromarray((np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8))
    put("bilevel.bmp", encode(bilevel.convert("1"), "BMP"), None)

    # --- formats -----------------------------------------------------------------------------
    frames = [Image.new("RGB", (20, 10), c) for c in ANIMATION_COLOURS]
    put(
        "animated.gif",
        encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0),
        None,
    )
    put(
        "animated.webp",
        encode(
            frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True
        ),
        None,
    )
    put("image.tif", encode(rgb, "TIFF", compression="tiff_lzw"), None)
    put("image.webp", encode(rgb, "WEBP", quality=90), None)
    put("image.bmp", encode(rgb, "BMP"), None)
    put("image.gif", encode(rgb, "GIF"), None)
    put("multi_picture.jpg", encode(rgb, "MPO", save_all=True, append_images=[rgb]), None)
    if heif_can_encode():
        put("real.heic", heic_bytes(rgb), None)
        put("real.heif", heic_bytes(rgb), None)

    # --- EXIF orientation (1..8) and broken EXIF ---------------------------------------------
    for k in range(1, 9):
        put(f"orient_{k}.jpg", jpeg_bytes(stored_for_orientation(k), exif=exif_bytes(k)), None)
    put("orient_6.png", encode(stored_for_orientation(6), "PNG", exif=exif_bytes(6)), None)
    put(
        "orient_6.webp",
        encode(stored_for_orientation(6), "WEBP", lossless=True, exif=exif_bytes(6)),
        None,
    )
    put("orient_6.tif", _tiff_with_orientation(stored_for_orientation(6), 6), None)
    put("exif_garbage.jpg", jpeg_bytes(rgb, exif=b"Exif\x00\x00" + bytes(range(200))), None)
    put(
        "exif_bad_offset.jpg",
        jpeg_bytes(rgb, exif=b"Exif\x00\x00II*\x00" + struct.pack("<I", 0x7FFFFFF0)),
        None,
    )
    put(
        "exif_truncated_ifd.jpg",
        jpeg_bytes(rgb, exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03"),
        None,
    )
    put("exif_orientation_9.jpg", jpeg_bytes(rgb, exif=exif_bytes(9)), None)
    put("exif_orientation_0.jpg", jpeg_bytes(rgb, exif=exif_bytes(0)), None)
    put(
        "exif_orientation_text.jpg",
        jpeg_bytes(rgb, exif=_tiff_ifd_exif([(0x0112, 2, 4, b"six\x00")])),
        None,
    )
    put("exif_bad_date.jpg", jpeg_bytes(rgb, exif=exif_bytes(1, "not a date at all!!")), None)
    put("exif_date.jpg", jpeg_bytes(rgb, exif=exif_bytes(1, TAKEN_AT_EXIF)), None)

    # --- sizes -------------------------------------------------------------------------------
    put("huge_6000x4000.jpg", jpeg_bytes(gradient_rgb(6000, 4000)), None)
    put("tiny_10x10.png", encode(noise_rgb(10, 10), "PNG"), None)
    put("tiny_1x1.jpg", jpeg_bytes(Image.new("RGB", (1, 1), RED)), None)
    put("tiny_1x1.png", encode(Image.new("RGB", (1, 1), RED), "PNG"), None)
    put("tall_1x300.png", encode(noise_rgb(1, 300), "PNG"), None)

    # --- names and extensions ----------------------------------------------------------------
    put("unicodé 照片 ☃.jpg", good_jpeg, None)
    put("with spaces in name.jpg", good_jpeg, None)
    put("new\nline.jpg", good_jpeg, None)
    put("UPPER.JPG", good_jpeg, None)
    put("jpeg_named.png", good_jpeg, None)
    put("png_named.jpg", good_png, None)
    put("trailing_garbage.jpg", good_jpeg + b"\x00garbage after EOI" * 10, None)

    # --- file-system oddities ----------------------------------------------------------------
    (root / "photo.jpg").mkdir()
    expected["photo.jpg"] = "directory"

    noperm = put("no_permission.jpg", good_jpeg, "permission")
    os.chmod(noperm, 0)
    try:
        with open(noperm, "rb"):
            pass
    except PermissionError:
        pass
    else:  # privileged process or no POSIX permissions: the file is readable after all
        expected["no_permission.jpg"] = None

    try:
        os.symlink(root / "does_not_exist.jpg", root / "broken_link.jpg")
        os.symlink(root / "UPPER.JPG", root / "link_to_ok.jpg")
    except (OSError, NotImplementedError):  # e.g. Windows without symlink privilege
        pass
    else:
        expected["broken_link.jpg"] = "broken symbolic link"
        expected["link_to_ok.jpg"] = None

    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.jpg")
        expected["fifo.jpg"] = "not a regular file"

    return expected


def _heif_installed() -> bool:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return True


def _png_rgb48(arr: np.ndarray) -> bytes:
    """Hand-written 16-bit-per-channel RGB PNG (Pillow cannot write RGB 16-bit)."""
    h, w, _ = arr.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _tiff_with_orientation(im: Image.Image, orientation: int) -> bytes:
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    ifd = ImageFileDirectory_v2()
    ifd[0x0112] = orientation
    return encode(im, "TIFF", tiffinfo=ifd)
