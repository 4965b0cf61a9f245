"""Camera RAW photos through LibRaw (rawpy): orientation, the embedded-preview shortcut, clear
reasons for bad files, and a scan that finds the faces in a DNG and a NEF.

The RAW files are made at test time (``rawfiles.py``): a Bayer DNG written with tifffile and
a Nikon-style NEF (JPEG preview + uncompressed Bayer data) that LibRaw and exiftool both
identify as NEF. They are not camera-made files.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from rawfiles import write_dng, write_nef
from test_scan import snapshot

import album.images.raw as raw_images
from album.catalog import Catalog
from album.images import ImageError, image_size, is_supported, load_image
from album.scan import Scanner
from album.scan.writer import iou

pytest.importorskip("rawpy", reason="RAW support needs rawpy")
pytest.importorskip("tifffile", reason="the DNG test photos are written with tifffile")

WRITERS = {
    "dng": lambda p, im, o: write_dng(p.with_suffix(".dng"), im, o),
    "nef": lambda p, im, o: write_nef(p.with_suffix(".nef"), im, o),
    "nef-no-preview": lambda p, im, o: write_nef(p.with_suffix(".nef"), im, o, preview=False),
}


def quadrants_pattern(w: int = 320, h: int = 240) -> np.ndarray:
    """Top-left bright, top-right mid-grey, the rest dark: tells all 8 orientations apart."""
    im = np.full((h, w, 3), 30, np.uint8)
    im[: h // 2, : w // 2] = 240
    im[: h // 2, w // 2 :] = 120
    return im


def quadrant_means(rgb: np.ndarray) -> list[float]:
    h, w = rgb.shape[:2]
    g = rgb.mean(axis=2)
    return [
        g[: h // 2, : w // 2].mean(),
        g[: h // 2, w // 2 :].mean(),
        g[h // 2 :, : w // 2].mean(),
        g[h // 2 :, w // 2 :].mean(),
    ]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_raw_photos_come_out_upright(tmp_path, kind: str, orientation: int) -> None:
    path = WRITERS[kind](tmp_path / "photo", quadrants_pattern(), orientation)
    assert is_supported(path)
    im = load_image(path)
    assert im.orientation == orientation
    assert im.format == "RAW"
    w, h = im.original_size
    assert abs(w - 320) <= 8 and abs(h - 240) <= 8  # LibRaw trims some cameras' margins
    assert im.rgb.shape == (h, w, 3) and im.scale == 1.0
    tl, tr, bl, br = quadrant_means(im.rgb)
    assert tl > tr > max(bl, br) + 20, (tl, tr, bl, br)
    assert image_size(path) == (w, h)
    small = load_image(path, max_side=100)
    assert max(small.rgb.shape[:2]) == 100 and small.original_size == (w, h)
    assert small.scale == pytest.approx(100 / w, abs=0.01)


def test_preview_is_used_when_large_enough(tmp_path, monkeypatch) -> None:
    """The NEF's full-size JPEG preview serves scan-sized requests; a bitmap thumbnail
    (the NEF without preview) does not, and the raw data is demosaiced."""
    calls: list[bool] = []
    real = raw_images._raw_preview

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(raw_images, "_raw_preview", spy)
    with_preview = write_nef(tmp_path / "a.nef", quadrants_pattern(640, 480), 6)
    without = write_nef(tmp_path / "b.nef", quadrants_pattern(640, 480), 6, preview=False)
    a, b = load_image(with_preview, max_side=400), load_image(without, max_side=400)
    assert calls == [True, False]
    assert a.rgb.shape == b.rgb.shape and a.original_size == b.original_size
    assert quadrant_means(a.rgb)[0] > 150 and quadrant_means(b.rgb)[0] > 150


def test_bad_raw_files_get_a_reason(tmp_path) -> None:
    good = write_dng(tmp_path / "good.dng", quadrants_pattern(), 1)
    cases = {
        "garbage.cr2": np.random.default_rng(0).bytes(5000),
        "truncated.dng": good.read_bytes()[:3000],
        "text.nef": b"not a raw file at all\n" * 100,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageError) as err:
            load_image(tmp_path / name, max_side=500)
        reason = err.value.reason
        assert "RAW" in reason, (name, reason)
        assert reason.startswith(("unsupported RAW file", "corrupt or truncated RAW")), reason


def test_raw_photos_are_scanned_with_their_faces(lfw, tmp_path, detector, embedder) -> None:
    """A DNG (stored for orientation 8) and a NEF (orientation 6, full-size preview) of the
    same 1200x800 picture with two LFW faces: both are scanned, upright, with both faces where
    they are in the picture. A broken RAW file is recorded with its reason."""
    people = ("Colin_Powell", "Serena_Williams")
    places = [(150, 200, 380), (700, 260, 330)]  # x, y, side of each pasted LFW image
    canvas = Image.new("RGB", (1200, 800), (120, 140, 160))
    expected = []
    for person, (x, y, side) in zip(people, places, strict=True):
        im = Image.open(lfw / person / f"{person}_0001.jpg").convert("RGB")
        f = detector.detect(np.asarray(im))[0]
        canvas.paste(im.resize((side, side), Image.Resampling.BICUBIC), (x, y))
        expected.append(tuple(f.box * side / 250 + (x, y, x, y)))
    folder = tmp_path / "raw"
    folder.mkdir()
    upright = np.asarray(canvas)
    write_dng(folder / "a.dng", upright, 8, taken="2019:07:14 10:31:02")
    write_nef(folder / "b.nef", upright, 6)
    (folder / "c.cr2").write_bytes(b"II*\x00" + bytes(2000))  # TIFF header, nothing else
    before = snapshot(folder)
    with Catalog(tmp_path / "c.db") as cat:
        summary = Scanner(cat, detector, embedder).run([folder])
        assert (summary.photos, summary.errors) == (2, 1)
        bad = cat.photo_by_path(folder / "c.cr2")
        assert bad.status == "error" and "RAW" in bad.error
        for name, orientation in (("a.dng", 8), ("b.nef", 6)):
            photo = cat.photo_by_path(folder / name)
            assert photo.status == "done", photo.error
            assert photo.orientation == orientation
            assert photo.taken_at == ("2019-07-14T10:31:02" if name == "a.dng" else None)
            assert abs(photo.width - 1200) <= 8 and abs(photo.height - 800) <= 8
            faces = sorted(cat.faces_of_photo(photo), key=lambda f: f.box[0])
            assert len(faces) == 2, name
            for face, want in zip(faces, expected, strict=True):
                assert iou(face.box, want) > 0.7, (name, face.box, want)
        # Both files show the same people: their faces embed alike.
        ids, vectors = cat.embeddings(embedder.name)
        assert len(ids) == 4
        d = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
        assert (d < 0.35).sum() == 4 + 4  # diagonal + the same face in the other file
    assert snapshot(folder) == before  # RAW files only read


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_exiftool_agrees_on_the_test_files(tmp_path) -> None:
    dng = write_dng(tmp_path / "a.dng", quadrants_pattern(), 6)
    nef = write_nef(tmp_path / "b.nef", quadrants_pattern(), 8)
    out = subprocess.run(
        ["exiftool", "-q", "-s3", "-FileType", "-Orientation#", str(dng), str(nef)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [w for w in out if not w.startswith(("=", "/"))] == ["DNG", "6", "NEF", "8"]
