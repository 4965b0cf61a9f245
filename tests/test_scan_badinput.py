"""A scan over malformed and unusual files: each bad one is recorded with its reason, the good
ones are catalogued, nothing crashes and no file is modified."""

from __future__ import annotations

import os

import pytest
from oddfiles import make_odd_corpus
from test_scan import snapshot, write_photos

import album.scan.reading as reading
from album.catalog import Catalog
from album.catalog.records import display_path
from album.cli import main
from album.images import load_image
from album.scan import Scanner


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF", "ignore::PIL.Image.DecompressionBombWarning")
def test_scan_survives_the_odd_file_corpus(
    lfw, tmp_path, detector, embedder, monkeypatch, capsys
) -> None:
    root = tmp_path / "odd"
    expected = make_odd_corpus(root)
    # 'photo.jpg' is a folder: the scan walks into it instead of reading it.
    expected.pop("photo.jpg")
    write_photos(lfw, root, 2, faces=(1, 1), seed=5, prefix="face")
    expected.update({"face_0000.jpg": None, "face_0001.jpg": None})
    sub = root / "deeper"
    sub.mkdir()
    (sub / "nested.png").write_bytes((root / "image.bmp").read_bytes())  # BMP named .png
    expected["deeper/nested.png"] = None
    os.symlink(root, sub / "loop")  # a folder link back to the top: walked once
    os.symlink(root / "self_a.jpg", root / "self_b.jpg")  # file links in a circle
    os.symlink(root / "self_b.jpg", root / "self_a.jpg")
    expected["self_a.jpg"] = expected["self_b.jpg"] = "symbolic links"
    bad_name = os.fsdecode(b"latin1_caf\xe9.jpg")  # not UTF-8
    (root / bad_name).write_bytes((root / "image.gif").read_bytes())
    expected[bad_name] = None
    (root / ".hidden.jpg").write_bytes(b"AppleDouble junk")  # hidden: not a photo
    (root / "notes.txt").write_text("not a photo extension")
    # Files that change under the scan's feet, between listing/hashing and decoding.
    for name in ("vanishing.jpg", "rewritten.jpg"):  # unique bytes: must be decoded
        (root / name).write_bytes((root / "face_0000.jpg").read_bytes() + name.encode())
    expected["vanishing.jpg"] = "disappeared"
    expected["rewritten.jpg"] = "changed while"
    real_load = reading.load_image

    def racing_load(path, *args, **kwargs):
        name = os.path.basename(os.fsdecode(path))
        if name == "vanishing.jpg":
            os.remove(path)
        elif name == "rewritten.jpg":
            with open(path, "ab") as fp:
                fp.write(b"\0" * 100)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(reading, "load_image", racing_load)
    assert len(expected) >= 70
    before = {
        k: v
        for k, v in snapshot(root).items()
        if not k.endswith(("vanishing.jpg", "rewritten.jpg"))
    }

    with Catalog(tmp_path / "c.db") as cat:
        summary = Scanner(cat, detector, embedder).run([root])
        photos = {os.path.relpath(p.path, root): p for p in cat.photos()}
        assert set(photos) == set(expected), set(photos) ^ set(expected)
        for name, outcome in expected.items():
            p = photos[name]
            if outcome is None:
                assert (p.status, p.error) == ("done", None), (name, p.error)
                assert p.width and p.height and p.content_hash
            else:
                assert p.status == "error", name
                assert outcome.lower() in p.error.lower(), (name, p.error)
        assert summary.errors == sum(1 for v in expected.values() if v is not None)
        assert summary.photos + summary.errors == len(expected)
        assert len(cat.faces_of_photo(photos["face_0000.jpg"])) == 1
        assert photos["orient_6.jpg"].orientation == 6
        assert (photos["huge_6000x4000.jpg"].width, photos["huge_6000x4000.jpg"].height) == (
            6000,
            4000,
        )
        assert cat.integrity_check() == "ok"

        # `album status --errors` names every bad file (printable, one per line) and why.
        assert main(["--library", str(cat.path), "status", "--errors"]) == 0
        listed = capsys.readouterr().out
        for name, outcome in expected.items():
            if outcome is not None:
                assert f"{display_path(str(root / name))}: {photos[name].error}" in listed

        # Next scan: the rewritten file is read normally, the vanished one is forgotten, the
        # other errors are not retried (unchanged files).
        monkeypatch.setattr(reading, "load_image", real_load)
        again = Scanner(cat, detector, embedder).run([root])
        assert (again.photos, again.errors) == (1, 0)
        assert cat.photo_by_path(root / "rewritten.jpg").status == "done"
        assert cat.photo_by_path(root / "vanishing.jpg") is None
        retry = Scanner(cat, detector, embedder).run([root], retry_errors=True)
        assert retry.errors == summary.errors - 2 and retry.photos == 0
    assert snapshot(root).items() >= before.items()  # no file written by the scan


def test_decoder_bug_is_recorded_not_raised(lfw, tmp_path, detector, embedder, monkeypatch) -> None:
    write_photos(lfw, tmp_path / "p", 3, faces=(1, 1), seed=2)

    def buggy(path, *args, **kwargs):
        if str(path).endswith("img_0001.jpg"):
            raise TypeError("a bug in some decoder")
        return load_image(path, *args, **kwargs)

    monkeypatch.setattr(reading, "load_image", buggy)
    with Catalog(tmp_path / "c.db") as cat:
        s = Scanner(cat, detector, embedder).run([tmp_path / "p"])
        assert (s.photos, s.errors) == (2, 1)
        err = cat.photo_by_path(tmp_path / "p" / "img_0001.jpg")
        assert err.status == "error" and "TypeError" in err.error
