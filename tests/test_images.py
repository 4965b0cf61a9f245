"""Tests for album.images: the single place the app opens a photo."""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from album import images
from album.images import (
    SUPPORTED_EXTENSIONS,
    ImageError,
    LoadedImage,
    identify,
    image_size,
    is_supported,
    load_image,
)

try:  # works whether or not tests/ is a package
    from tests import oddfiles
except ImportError:  # pragma: no cover - depends on how pytest puts tests/ on sys.path
    import oddfiles  # type: ignore[no-redef]

try:
    import pillow_heif  # noqa: F401

    HAVE_HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is optional
    HAVE_HEIF = False

# Pillow itself warns about corrupt EXIF blocks (the load still succeeds), and about the
# 20000x20000 bomb (400 MP, over our 200 MP limit) before we reject it.
IGNORE_EXPECTED_WARNINGS = [
    pytest.mark.filterwarnings("ignore:.*corrupt EXIF:UserWarning"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]


# --------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    root = tmp_path_factory.mktemp("odd")
    return root, oddfiles.make_odd_corpus(root)


@pytest.fixture(scope="module")
def photo_4000x3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "photo_4000x3000.jpg"
    path.write_bytes(oddfiles.jpeg_bytes(_test_card(4000, 3000)))
    return path


def _test_card(width: int, height: int) -> Image.Image:
    """Smooth gradient with a few coarse blocks: cheap to encode, meaningful to compare."""
    im = oddfiles.gradient_rgb(width, height)
    im.paste((20, 20, 200), (0, 0, width // 4, height // 4))
    im.paste((250, 250, 0), (width // 2, height // 2, width // 2 + width // 5, height - 1))
    return im


def _load_spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record the size each image has when its pixels are decoded (ImageFile.load)."""
    sizes: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        if self.tile:  # not yet decoded
            sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


def _assert_valid(result: LoadedImage) -> None:
    rgb = result.rgb
    assert isinstance(rgb, np.ndarray)
    assert rgb.dtype == np.uint8
    assert rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[0] >= 1 and rgb.shape[1] >= 1
    assert rgb.flags.c_contiguous and rgb.flags.writeable
    w, h = result.original_size
    assert rgb.shape[1] <= w and rgb.shape[0] <= h
    assert 0 < result.scale <= 1.0
    assert result.scale == pytest.approx(rgb.shape[1] / w)
    assert 1 <= result.orientation <= 8
    assert isinstance(result.format, str) and result.format


def _near(pixel: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tol))


# --------------------------------------------------------------------------------------------
# The odd-file corpus


def test_corpus_has_the_required_cases(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, expected = corpus
    assert len(expected) >= 40
    required = [
        "empty.jpg", "truncated_half.jpg", "random_bytes.jpg", "text.png",
        "bomb_20000x20000.png", "cmyk.jpg", "gray16.png", "palette_transparent.png", "la.png",
        "rgba.png", "bilevel.bmp", "animated.gif", "image.tif", "image.webp",
        *(f"orient_{k}.jpg" for k in range(1, 9)),
        "exif_garbage.jpg", "huge_6000x4000.jpg", "tiny_10x10.png", "tiny_1x1.jpg",
        "unicodé 照片 ☃.jpg", "with spaces in name.jpg", "new\nline.jpg", "UPPER.JPG",
        "jpeg_named.png", "no_permission.jpg", "photo.jpg", "garbage.heic",
    ]  # fmt: skip
    missing = [name for name in required if name not in expected]
    assert not missing
    if hasattr(os, "symlink") and os.name != "nt":
        assert expected["broken_link.jpg"] == "broken symbolic link"
    for name in expected:
        assert os.path.lexists(root / name), name
    assert sum(v is None for v in expected.values()) >= 20
    assert sum(v is not None for v in expected.values()) >= 10


@IGNORE_EXPECTED_WARNINGS[0]
@IGNORE_EXPECTED_WARNINGS[1]
def test_every_corpus_file_loads_or_fails_cleanly(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    root, expected = corpus
    problems: list[str] = []
    for name, outcome in expected.items():
        try:
            result = load_image(root / name)
        except ImageError as e:
            assert str(e) == e.reason
            assert "\n" not in e.reason and len(e.reason) <= 80, e.reason
            if outcome is None:
                problems.append(f"{name!r}: expected to load, got ImageError({e.reason!r})")
            elif outcome.lower() not in e.reason.lower():
                problems.append(f"{name!r}: reason {e.reason!r} lacks {outcome!r}")
        else:
            if outcome is not None:
                problems.append(f"{name!r}: expected ImageError({outcome!r}), but it loaded")
            else:
                _assert_valid(result)
    assert not problems, "\n".join(problems)


@IGNORE_EXPECTED_WARNINGS[0]
@IGNORE_EXPECTED_WARNINGS[1]
def test_image_size_agrees_with_load_image(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    root, expected = corpus
    for name, outcome in expected.items():
        if outcome is None:
            assert image_size(root / name) == load_image(root / name).original_size, name
        else:
            try:  # a header may be readable even when the pixels are not
                size = image_size(root / name)
            except ImageError:
                continue
            assert all(isinstance(v, int) and v > 0 for v in size), name


@IGNORE_EXPECTED_WARNINGS[0]
@IGNORE_EXPECTED_WARNINGS[1]
def test_loading_never_writes(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, expected = corpus

    def snapshot() -> dict[str, tuple[str, int, int]]:
        state = {}
        for entry in os.scandir(root):
            st = entry.stat(follow_symlinks=False)
            digest = ""
            if entry.is_file(follow_symlinks=False) and os.access(entry.path, os.R_OK):
                digest = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
            state[entry.name] = (digest, st.st_mtime_ns, st.st_mode)
        return state

    before = snapshot()
    for name in expected:
        for func in (load_image, image_size):
            with contextlib.suppress(ImageError):
                func(root / name)
    load_image(root / "huge_6000x4000.jpg", max_side=500)
    assert snapshot() == before  # same files, same bytes, same mtimes and modes


def test_corpus_permission_case_matches_the_platform(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    root, expected = corpus
    path = root / "no_permission.jpg"
    try:
        with open(path, "rb"):
            readable = True
    except PermissionError:
        readable = False
    if readable:  # root / CAP_DAC_OVERRIDE / no POSIX permissions: the file loads
        assert expected["no_permission.jpg"] is None
        _assert_valid(load_image(path))
    else:
        with pytest.raises(ImageError, match="permission denied"):
            load_image(path)


def test_unreadable_file_reports_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Works even as root: simulate the OS refusing the open.
    path = tmp_path / "secret.jpg"
    path.write_bytes(oddfiles.jpeg_bytes(oddfiles.noise_rgb(8, 8)))
    real_open = open

    def refusing_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.reason == "permission denied"
    assert isinstance(info.value.__cause__, PermissionError)


@pytest.mark.parametrize(
    ("make", "keyword"),
    [
        (lambda p: None, "not found"),
        (lambda p: p.mkdir(), "directory"),
        (lambda p: p.write_bytes(b""), "empty"),
    ],
    ids=["missing", "directory", "empty"],
)
def test_file_system_errors(tmp_path: Path, make, keyword: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.jpg"
    make(path)
    for func in (load_image, image_size):
        with pytest.raises(ImageError, match=keyword):
            func(path)


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs symlinks")
def test_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "gone.jpg"
    link.symlink_to(tmp_path / "never_existed.jpg")
    with pytest.raises(ImageError, match="broken symbolic link"):
        load_image(link)


def test_path_types(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(oddfiles.encode(oddfiles.noise_rgb(5, 4), "PNG"))
    for p in (path, str(path), os.fsencode(path)):
        assert load_image(p).rgb.shape == (4, 5, 3)
        assert image_size(p) == (5, 4)


# --------------------------------------------------------------------------------------------
# Orientation


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("max_side", [None, 48])
def test_exif_orientation_jpeg(
    corpus: tuple[Path, dict[str, str | None]], orientation: int, max_side: int | None
) -> None:
    root, _ = corpus
    path = root / f"orient_{orientation}.jpg"
    with Image.open(path) as raw:  # the test file really stores rotated pixels
        assert raw.getexif().get(0x0112) == orientation
        stored_size = raw.size
        reference = np.asarray(ImageOps.exif_transpose(raw).convert("RGB"))
    upright_w, upright_h = oddfiles.ORIENT_SIZE
    swapped = orientation in (5, 6, 7, 8)
    assert stored_size == ((upright_h, upright_w) if swapped else (upright_w, upright_h))

    result = load_image(path, max_side=max_side)
    assert result.orientation == orientation
    assert result.original_size == oddfiles.ORIENT_SIZE
    assert image_size(path) == oddfiles.ORIENT_SIZE
    factor = 1 if max_side is None else upright_w // max_side
    assert result.rgb.shape == (upright_h // factor, upright_w // factor, 3)
    assert result.scale == pytest.approx(1 / factor)
    _assert_corners(result.rgb)
    if max_side is None:  # identical to Pillow's own exif_transpose
        assert np.abs(result.rgb.astype(int) - reference).max() <= 1


def _assert_corners(rgb: np.ndarray) -> None:
    """Red marker top-left, green top-right, grey bottom corners (upright test pattern)."""
    h, w, _ = rgb.shape
    m = oddfiles.MARK * w // oddfiles.ORIENT_SIZE[0]  # marker size at this scale
    c = m // 2
    assert _near(rgb[c, c], oddfiles.RED), rgb[c, c]
    assert _near(rgb[c, w - 1 - c], oddfiles.GREEN), rgb[c, w - 1 - c]
    assert _near(rgb[h - 1 - c, c], oddfiles.GREY), rgb[h - 1 - c, c]
    assert _near(rgb[h - 1 - c, w - 1 - c], oddfiles.GREY), rgb[h - 1 - c, w - 1 - c]


@pytest.mark.parametrize("name", ["orient_6.png", "orient_6.webp", "orient_6.tif"])
def test_exif_orientation_other_formats(
    corpus: tuple[Path, dict[str, str | None]], name: str
) -> None:
    root, _ = corpus
    result = load_image(root / name)
    assert result.orientation == 6
    assert result.original_size == oddfiles.ORIENT_SIZE
    assert image_size(root / name) == oddfiles.ORIENT_SIZE
    _assert_corners(result.rgb)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_tiff_all(tmp_path: Path, orientation: int) -> None:
    # Recent Pillow rotates TIFFs itself while loading; must not be applied twice.
    path = tmp_path / "o.tif"
    stored = oddfiles.stored_for_orientation(orientation)
    path.write_bytes(oddfiles.encode(stored, "TIFF", tiffinfo={0x0112: orientation}))
    for max_side in (None, 48):
        result = load_image(path, max_side=max_side)
        assert result.orientation == orientation
        assert result.original_size == oddfiles.ORIENT_SIZE
        _assert_corners(result.rgb)
    assert image_size(path) == oddfiles.ORIENT_SIZE


@pytest.mark.filterwarnings("ignore:.*corrupt EXIF:UserWarning")
@pytest.mark.parametrize(
    "name",
    [
        "exif_garbage.jpg", "exif_bad_offset.jpg", "exif_truncated_ifd.jpg",
        "exif_orientation_9.jpg", "exif_orientation_0.jpg", "exif_orientation_text.jpg",
    ],
)  # fmt: skip
def test_corrupt_exif_falls_back_to_orientation_1(
    corpus: tuple[Path, dict[str, str | None]], name: str
) -> None:
    root, _ = corpus
    result = load_image(root / name)
    assert result.orientation == 1
    assert result.original_size == (64, 48)
    assert result.rgb.shape == (48, 64, 3)
    assert result.taken_at is None


def test_taken_at(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    assert load_image(root / "exif_date.jpg").taken_at == oddfiles.TAKEN_AT_ISO
    assert load_image(root / "exif_bad_date.jpg").taken_at is None
    assert load_image(root / "tiny_1x1.png").taken_at is None  # no EXIF at all


# --------------------------------------------------------------------------------------------
# Reduced decoding (max_side)


def test_max_side_jpeg_uses_draft(photo_4000x3000: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _load_spy(monkeypatch)
    result = load_image(photo_4000x3000, max_side=1600)
    assert decoded == [(2000, 1500)]  # DCT-scaled by 1/2, not decoded at 4000x3000
    assert result.rgb.shape == (1200, 1600, 3)
    assert result.original_size == (4000, 3000)
    assert result.scale == pytest.approx(0.4)
    assert result.format == "JPEG"

    # Content matches a full decode resized by Pillow.
    monkeypatch.undo()
    with Image.open(photo_4000x3000) as im:
        reference = np.asarray(im.convert("RGB").resize((1600, 1200), Image.Resampling.LANCZOS))
    assert np.abs(result.rgb.astype(int) - reference).mean() < 2.0


@pytest.mark.parametrize(
    ("max_side", "decoded_size", "shape"),
    [
        (1000, (1000, 750), (750, 1000, 3)),  # 1/4 exactly
        (500, (500, 375), (375, 500, 3)),  # 1/8 exactly
        (300, (500, 375), (225, 300, 3)),  # 1/8 is the smallest DCT scale
        (3999, (4000, 3000), (2999, 3999, 3)),  # no reduction possible
        (4000, (4000, 3000), (3000, 4000, 3)),  # nothing to do
        (10_000, (4000, 3000), (3000, 4000, 3)),  # never enlarged
    ],
)
def test_max_side_jpeg_sizes(
    photo_4000x3000: Path,
    monkeypatch: pytest.MonkeyPatch,
    max_side: int,
    decoded_size: tuple[int, int],
    shape: tuple[int, int, int],
) -> None:
    decoded = _load_spy(monkeypatch)
    result = load_image(photo_4000x3000, max_side=max_side)
    assert decoded == [decoded_size]
    assert result.rgb.shape == shape
    assert max(result.rgb.shape[:2]) <= max_side
    assert result.scale == pytest.approx(shape[1] / 4000)


def test_max_side_with_rotated_jpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stored 4000x3000 with orientation 6: the upright photo is 3000x4000 (portrait).
    path = tmp_path / "portrait.jpg"
    path.write_bytes(oddfiles.jpeg_bytes(_test_card(4000, 3000), exif=oddfiles.exif_bytes(6)))
    decoded = _load_spy(monkeypatch)
    result = load_image(path, max_side=1000)
    assert decoded == [(1000, 750)]  # stored axes, 1/4 scale
    assert result.rgb.shape == (1000, 750, 3)  # upright: longer side (height) = max_side
    assert result.original_size == (3000, 4000)
    assert result.scale == pytest.approx(0.25)
    assert result.orientation == 6


@pytest.mark.parametrize("size", [(300, 200), (10, 1000), (1000, 10), (777, 333), (1, 500)])
def test_max_side_other_formats(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(oddfiles.encode(oddfiles.noise_rgb(*size), "PNG"))
    result = load_image(path, max_side=100)
    h, w, _ = result.rgb.shape
    assert max(h, w) == 100
    assert min(h, w) >= 1
    assert result.original_size == size
    assert result.scale == pytest.approx(w / size[0])
    expected = round(min(size) * 100 / max(size)) or 1
    assert min(h, w) == expected


def test_max_side_invalid() -> None:
    with pytest.raises(ValueError):
        load_image("whatever.jpg", max_side=0)
    with pytest.raises(ValueError):
        load_image("whatever.jpg", max_pixels=0)


# --------------------------------------------------------------------------------------------
# Colour modes


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([oddfiles.GRAY16_VALUES], dtype=np.uint16)
    for name, im in [
        ("g16.png", Image.fromarray(values)),
        ("g16be.tif", Image.fromarray(values.astype(">u2"))),
    ]:
        path = tmp_path / name
        im.save(path)
        with Image.open(path) as check:
            assert check.mode.startswith("I;16")
        rgb = load_image(path).rgb
        assert rgb[0, :, 0].tolist() == list(oddfiles.GRAY16_EXPECTED)
        assert rgb[0, 2, 0] == 128  # 32768 -> 128
        assert rgb[0, 3, 0] == 255  # 65535 -> 255
        assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()


def test_int32_and_float_modes(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    # int32 values outside 0..65535 are stretched min..max -> 0..255
    assert load_image(root / "int32.tif").rgb[0, :, 0].tolist() == [0, 128, 255]
    # float in 0..1 is multiplied by 255
    assert load_image(root / "float.tif").rgb[0, :, 0].tolist() == [0, 128, 255]


def test_rgb48_png(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    assert (load_image(root / "rgb48.png").rgb == [255, 0, 0]).all()


def test_rgba_transparent_pixels_become_white(tmp_path: Path) -> None:
    px = np.array(
        [[[0, 0, 0, 0], [0, 0, 255, 255], [255, 0, 0, 128], [10, 200, 30, 0]]], dtype=np.uint8
    )
    path = tmp_path / "rgba.png"
    Image.fromarray(px).save(path)
    rgb = load_image(path).rgb
    assert rgb[0, 0].tolist() == [255, 255, 255]  # fully transparent black -> white
    assert rgb[0, 1].tolist() == [0, 0, 255]  # opaque stays
    assert _near(rgb[0, 2], (255, 127, 127), tol=2)  # half transparent red over white
    assert rgb[0, 3].tolist() == [255, 255, 255]


def test_la_and_palette_transparency(tmp_path: Path) -> None:
    la = tmp_path / "la.png"
    Image.frombytes("LA", (2, 1), bytes([0, 0, 50, 255])).save(la)
    rgb = load_image(la).rgb
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [50, 50, 50]

    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = tmp_path / "p.png"
    pal.save(path, transparency=0)
    rgb = load_image(path).rgb
    assert rgb[0, 0].tolist() == [255, 255, 255]  # transparent index -> white
    assert rgb[0, 1].tolist() == [200, 10, 10]

    gif = tmp_path / "p.gif"
    pal.save(gif, transparency=0)
    assert load_image(gif).rgb[0].tolist() == [[255, 255, 255], [200, 10, 10]]


def test_rgb_with_trns_colour(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    # rgb_trns.png declares black as transparent; the noise image has no pure black pixel,
    # so it must look exactly like the plain image.
    plain = load_image(root / "png_named.jpg").rgb
    with_trns = load_image(root / "rgb_trns.png").rgb
    black = (plain == 0).all(axis=2)
    assert np.array_equal(with_trns[~black], plain[~black])
    assert (with_trns[black] == 255).all()


def test_cmyk_jpeg(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    with Image.open(root / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
        assert "adobe" in im.info  # Pillow writes Adobe (inverted) CMYK; reading un-inverts
    result = load_image(root / "cmyk.jpg")
    assert result.format == "JPEG"
    assert _near(result.rgb[16, 16], (0, 255, 255), tol=8)  # pure cyan
    assert load_image(root / "cmyk.jpg", max_side=8).rgb.shape == (8, 8, 3)


def test_bilevel_bmp(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    with Image.open(root / "bilevel.bmp") as im:
        assert im.mode == "1"
    rgb = load_image(root / "bilevel.bmp").rgb
    expected = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)
    assert np.array_equal(rgb[..., 0], expected)


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animation_returns_first_frame(
    corpus: tuple[Path, dict[str, str | None]], name: str
) -> None:
    root, _ = corpus
    with Image.open(root / name) as im:
        assert getattr(im, "n_frames", 1) == 3
    rgb = load_image(root / name).rgb
    assert rgb.shape == (10, 20, 3)
    assert (rgb == oddfiles.ANIMATION_COLOURS[0]).all()


def test_formats_reported(corpus: tuple[Path, dict[str, str | None]]) -> None:
    root, _ = corpus
    assert load_image(root / "image.tif").format == "TIFF"
    assert load_image(root / "image.webp").format == "WEBP"
    assert load_image(root / "image.bmp").format == "BMP"
    assert load_image(root / "image.gif").format == "GIF"
    assert load_image(root / "png_named.jpg").format == "PNG"
    assert load_image(root / "jpeg_named.png").format == "JPEG"
    assert load_image(root / "multi_picture.jpg").format == "JPEG"  # Pillow says "MPO"


def test_lossless_content_round_trips(tmp_path: Path) -> None:
    src = oddfiles.noise_rgb(31, 17, seed=5)
    for fmt, ext in [("PNG", "png"), ("TIFF", "tif"), ("BMP", "bmp")]:
        path = tmp_path / f"x.{ext}"
        src.save(path, fmt)
        assert np.array_equal(load_image(path).rgb, np.asarray(src)), fmt
    path = tmp_path / "x.webp"
    src.save(path, "WEBP", lossless=True)
    assert np.array_equal(load_image(path).rgb, np.asarray(src))


# --------------------------------------------------------------------------------------------
# Decompression bombs and truncation


def test_pillow_limit_raised_to_ours() -> None:
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= images.DEFAULT_MAX_PIXELS


def test_big_header_under_limit_no_pillow_warning_and_no_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 12000 x 12000 = 144 MP: above Pillow's default 89 MP, below our 200 MP default.
    path = tmp_path / "big.png"
    path.write_bytes(oddfiles.png_header_only(12000, 12000))
    decoded = _load_spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any DecompressionBombWarning fails the test
        assert image_size(path) == (12000, 12000)
        with pytest.raises(ImageError) as info:
            load_image(path, max_pixels=100_000_000)
    assert info.value.reason == "image too large (144 MP > 100 MP limit)"
    assert decoded == []  # rejected from the header, nothing decoded


def test_bomb_rejected_before_decoding(
    corpus: tuple[Path, dict[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = corpus
    decoded = _load_spy(monkeypatch)
    # Pillow itself warns about a 400 MP header (over our limit) before we reject it.
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ImageError) as info:
        load_image(root / "bomb_20000x20000.png")
    assert info.value.reason == "image too large (400 MP > 200 MP limit)"
    for name in ("bomb_60000x60000.png", "bomb_65000x65000.jpg"):  # refused inside Pillow
        with pytest.raises(ImageError, match=r"image too large \(\d+ MP > 200 MP limit\)"):
            load_image(root / name)
    assert decoded == []


def test_max_pixels_parameter(
    corpus: tuple[Path, dict[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = corpus
    decoded = _load_spy(monkeypatch)
    with pytest.raises(ImageError, match=r"image too large \(24 MP > 10 MP limit\)"):
        load_image(root / "huge_6000x4000.jpg", max_pixels=10_000_000)
    assert decoded == []
    result = load_image(root / "huge_6000x4000.jpg", max_side=600, max_pixels=24_000_000)
    assert result.rgb.shape == (400, 600, 3)


def test_caller_limit_above_pillows_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Someone lowered Pillow's global limit below ours: images we accept must still load
    # without Pillow's warning; beyond twice Pillow's limit Pillow refuses, reported cleanly.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    small.write_bytes(oddfiles.encode(oddfiles.noise_rgb(40, 40), "PNG"))  # 1600 px
    large.write_bytes(oddfiles.encode(oddfiles.noise_rgb(64, 48), "PNG"))  # 3072 px
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(small).rgb.shape == (40, 40, 3)
        with pytest.raises(ImageError) as info:
            load_image(large)
    assert info.value.reason == "image too large (0.0031 MP > 0.002 MP limit)"
    with pytest.raises(ImageError) as info:
        load_image(large, max_pixels=1500)
    assert info.value.reason == "image too large (0.0031 MP > 0.0015 MP limit)"


def test_max_pixels_boundary(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(oddfiles.encode(oddfiles.noise_rgb(20, 10), "PNG"))
    assert load_image(path, max_pixels=200).rgb.shape == (10, 20, 3)
    with pytest.raises(ImageError, match="too large"):
        load_image(path, max_pixels=199)


def test_truncated_files_are_reported_not_padded(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    root, _ = corpus
    for name in ("truncated_half.jpg", "truncated_half.png"):
        with pytest.raises(ImageError, match="truncated") as info:
            load_image(root / name)
        assert isinstance(info.value.__cause__, OSError)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# Pillow warns freely about damaged headers (bad tags, huge claimed sizes); that is fine.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_damaged_files_never_leak_raw_exceptions(tmp_path: Path) -> None:
    rgb = oddfiles.noise_rgb(24, 16, seed=3)
    sources = {
        "a.jpg": oddfiles.jpeg_bytes(rgb, exif=oddfiles.exif_bytes(6, oddfiles.TAKEN_AT_EXIF)),
        "a.png": oddfiles.encode(rgb, "PNG", exif=oddfiles.exif_bytes(3)),
        "a.gif": oddfiles.encode(rgb, "GIF"),
        "a.webp": oddfiles.encode(rgb, "WEBP"),
        "a.tif": oddfiles.encode(rgb, "TIFF"),
        "a.bmp": oddfiles.encode(rgb, "BMP"),
    }
    rng = np.random.default_rng(42)
    count = 0
    for name, data in sources.items():
        variants = [data[:n] for n in np.linspace(1, len(data) - 1, 8).astype(int)]
        for _ in range(15):
            damaged = bytearray(data)
            for i in rng.integers(0, len(data), size=3):
                damaged[i] = int(rng.integers(0, 256))
            variants.append(bytes(damaged))
        for i, blob in enumerate(variants):
            path = tmp_path / f"{i}_{name}"
            path.write_bytes(blob)
            for func in (load_image, image_size):
                try:
                    result = func(path)
                except ImageError as e:
                    assert e.reason and "\n" not in e.reason
                else:
                    if isinstance(result, LoadedImage):
                        _assert_valid(result)
                count += 1
    assert count == 2 * 6 * 23


# --------------------------------------------------------------------------------------------
# HEIC / HEIF


@pytest.mark.skipif(not HAVE_HEIF, reason="pillow-heif not installed")
def test_heic_loads(corpus: tuple[Path, dict[str, str | None]], tmp_path: Path) -> None:
    if not oddfiles.heif_can_encode():  # pragma: no cover
        pytest.skip("pillow-heif cannot encode HEIC here")
    root, _ = corpus
    result = load_image(root / "real.heic")
    assert result.format == "HEIF"
    assert result.rgb.shape == (48, 64, 3)
    assert load_image(root / "real.heic", max_side=32).rgb.shape == (24, 32, 3)

    path = tmp_path / "rotated.heic"
    stored = oddfiles.stored_for_orientation(6)
    path.write_bytes(oddfiles.heic_bytes(stored, exif=oddfiles.exif_bytes(6)))
    result = load_image(path)
    assert result.orientation == 6  # applied once (by libheif), reported as EXIF 6
    assert result.original_size == oddfiles.ORIENT_SIZE
    assert image_size(path) == oddfiles.ORIENT_SIZE
    _assert_corners(result.rgb)


def test_heic_without_pillow_heif(
    corpus: tuple[Path, dict[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = corpus
    monkeypatch.setattr(identify, "_heif_state", False)  # as if the import had failed
    names = ["garbage.heic", "random_bytes.heic"]
    if "real.heic" in corpus[1]:
        names.append("real.heic")
    for name in names:
        with pytest.raises(ImageError) as info:
            load_image(root / name)
        assert info.value.reason == "HEIC support needs pillow-heif"
    # other formats are unaffected
    _assert_valid(load_image(root / "tiny_1x1.jpg"))


# --------------------------------------------------------------------------------------------
# Extensions


def test_supported_extensions() -> None:
    expected = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif"}
    expected |= {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng", ".raf", ".orf", ".rw2", ".pef"}
    expected |= {".srw"}
    assert isinstance(SUPPORTED_EXTENSIONS, frozenset)
    assert expected == SUPPORTED_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SUPPORTED_EXTENSIONS)


@pytest.mark.parametrize(
    ("path", "supported"),
    [
        ("a.jpg", True), ("A.JPG", True), ("x/y/photo.JpEg", True), ("p.heic", True),
        ("p.HEIF", True), ("scan.tiff", True), ("x.webp", True), (Path("d/a.png"), True),
        (b"bytes.gif", True), ("notes.txt", False), ("photo.jpg.txt", False),
        ("noext", False), (".jpg", False), ("archive.tar.gz", False), ("raw.cr2", True),
        ("IMG_1.CR3", True), ("photo.nef.xmp", False),
    ],
)  # fmt: skip
def test_is_supported(path: str | Path | bytes, supported: bool) -> None:
    assert is_supported(path) is supported


def test_image_error_api() -> None:
    e = ImageError("file is empty", "/x.jpg")
    assert isinstance(e, Exception)
    assert e.reason == "file is empty" == str(e)
    assert e.path == "/x.jpg"
