"""Scanning real LFW faces into a real catalog file: coordinates, incremental rescans, moves,
deletions, model switches, thumbnails, pause/cancel, and the CLI."""

from __future__ import annotations

import json
import os
import random
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from album.catalog import Catalog
from album.cli import main
from album.people import PeopleService
from album.scan import ModelMismatchError, ScanControl, Scanner, ScanSettings
from album.scan.reembed import Reembedder
from album.scan.thumbnails import Thumbnails
from album.scan.writer import iou
from models.registry import DEFAULT_MODEL

PEOPLE = [
    "Colin_Powell",
    "Tony_Blair",
    "Serena_Williams",
    "Hans_Blix",
    "Yao_Ming",
    "George_W_Bush",
    "Gloria_Macapagal_Arroyo",
    "Jennifer_Capriati",
]


def write_photos(
    lfw: Path,
    folder: Path,
    count: int,
    size=(640, 480),
    faces=(1, 2),
    face_px=(110, 190),
    seed: int = 0,
    prefix: str = "img",
    ext: str = ".jpg",
    people: list[str] | None = None,
) -> dict[str, list[tuple[int, int, int]]]:
    """``count`` photos with whole LFW images (each holding one face) pasted at random, on
    random gradients; returns {file name: [(x, y, side) of each pasted LFW image]}."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = people or PEOPLE
    out = {}
    w, h = size
    for n in range(count):
        a, b = nprng.integers(30, 225, 3), nprng.integers(30, 225, 3)
        ramp = np.linspace(0, 1, h)[:, None, None]
        arr = (a * (1 - ramp) + b * ramp) + nprng.normal(0, 3, (h, w, 1))
        canvas = Image.fromarray(np.clip(np.broadcast_to(arr, (h, w, 3)), 0, 255).astype(np.uint8))
        placed: list[tuple[int, int, int]] = []
        for _ in range(rng.randint(*faces)):
            side = rng.randint(*face_px)
            for _try in range(30):
                x, y = rng.randint(0, w - side), rng.randint(0, h - side)
                if all(
                    x + side <= px or px + ps <= x or y + side <= py or py + ps <= y
                    for px, py, ps in placed
                ):
                    person = rng.choice(people)
                    src = lfw / person / f"{person}_{rng.randint(1, 3):04d}.jpg"
                    canvas.paste(Image.open(src).convert("RGB").resize((side, side)), (x, y))
                    placed.append((x, y, side))
                    break
        name = f"{prefix}_{n:04d}{ext}"
        canvas.save(folder / name, quality=92) if ext == ".jpg" else canvas.save(folder / name)
        out[name] = placed
    return out


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file under ``folder`` (the scan must change neither)."""
    return {
        str(p): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """What ``album scan`` does on a 2-core machine: two spinning torch threads beside the
    decode threads make a busy machine several times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def album(lfw: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    write_photos(lfw, folder, 6, seed=1)
    return folder


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog(tmp_path / "catalog.db") as cat:
        yield cat


@pytest.fixture
def scanner(catalog, detector, embedder) -> Scanner:
    return Scanner(catalog, detector, embedder, ScanSettings(batch_size=2))


def face_set(cat: Catalog) -> dict[int, tuple]:
    return {f.id: (f.content_hash, f.box) for f in cat.all_faces()}


def test_boxes_are_in_original_upright_pixels(lfw, tmp_path, detector, embedder) -> None:
    """A 3000x2000 photo is decoded at 2000 px and detected at 1000 px; the stored boxes must
    still land on the faces, also when EXIF orientation 6 stores the pixels rotated."""
    src = [lfw / p / f"{p}_0001.jpg" for p in ("Colin_Powell", "Serena_Williams")]
    places = [(300, 500, 700), (1900, 900, 550)]  # x, y, side of each pasted LFW image
    canvas = Image.new("RGB", (3000, 2000), (120, 140, 160))
    expected = []
    for path, (x, y, side) in zip(src, places, strict=True):
        im = Image.open(path).convert("RGB")
        f = detector.detect(np.asarray(im))[0]
        canvas.paste(im.resize((side, side), Image.Resampling.BICUBIC), (x, y))
        expected.append(tuple(f.box * side / 250 + (x, y, x, y)))
    folder = tmp_path / "big"
    folder.mkdir()
    canvas.save(folder / "upright.jpg", quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": store it turned the other way
    canvas.transpose(Image.Transpose.ROTATE_90).save(
        folder / "rotated.jpg", quality=92, exif=exif.tobytes()
    )
    before = snapshot(folder)
    with Catalog(tmp_path / "c.db") as cat:
        summary = Scanner(cat, detector, embedder).run([folder])
        assert (summary.photos, summary.errors) == (2, 0)
        for name in ("upright.jpg", "rotated.jpg"):
            photo = cat.photo_by_path(folder / name)
            assert (photo.width, photo.height) == (3000, 2000)
            assert photo.orientation == (6 if name == "rotated.jpg" else 1)
            faces = cat.faces_of_photo(photo)
            assert len(faces) == 2, name
            for face, want in zip(faces, expected, strict=True):
                assert iou(face.box, want) > 0.8, (name, face.box, want)
                lm = np.asarray(face.landmarks)
                assert (lm[:, 0] > want[0]).all() and (lm[:, 0] < want[2]).all()
                assert 0 < face.quality <= 1
                assert abs(face.yaw) < 25  # both look at the camera: stored as frontal
        stored = cat.db.execute("SELECT yaw, sharpness FROM faces").fetchall()
        assert all(y is not None and 0 < s <= 1 for y, s in stored)
        # Chips were cut right: each face's vector matches the LFW source's own.
        ids, vectors = cat.embeddings(embedder.name)
        assert len(ids) == 4
        for path in src:
            im = np.asarray(Image.open(path).convert("RGB"))
            ref = embedder.embed(im, detector.detect(im)[:1])[0]
            assert (np.linalg.norm(vectors - ref, axis=1) < 0.3).sum() == 2
    assert snapshot(folder) == before  # photos never written


def test_photos_detected_two_at_once_get_the_faces_of_one_at_once(
    album, tmp_path, detector, embedder, monkeypatch
) -> None:
    def faces(settings: ScanSettings, name: str) -> dict[str, list]:  # photo -> boxes
        with Catalog(tmp_path / name) as cat:
            Scanner(cat, detector, embedder, settings).run([str(album)])
            by_content: dict[str, list] = {}
            for f in cat.all_faces():
                by_content.setdefault(f.content_hash, []).append(f.box)
            return {k: sorted(v) for k, v in by_content.items()}

    one = faces(ScanSettings(batch_size=3, detect_threads=1), "one.db")
    two = faces(ScanSettings(batch_size=3, detect_threads=2), "two.db")
    assert one.keys() == two.keys() and len(one) == 6
    for name in one:
        assert np.allclose(one[name], two[name], atol=1e-6)

    # A detection that fails costs its own photo only, with the reason on record.
    real, calls, lock = detector.detect, [], threading.Lock()

    def detect(rgb):
        with lock:
            calls.append(1)
            broken = len(calls) == 2
        if broken:
            raise RuntimeError("broken kernel")
        return real(rgb)

    monkeypatch.setattr(detector, "detect", detect)
    with Catalog(tmp_path / "bad.db") as cat:
        summary = Scanner(cat, detector, embedder, ScanSettings(batch_size=3)).run([str(album)])
        assert summary.errors == 1
        errors = cat.db.execute("SELECT error FROM photos WHERE error IS NOT NULL")
        assert [r[0] for r in errors.fetchall()] == [
            "face detection failed (RuntimeError: broken kernel)"
        ]
        assert len({f.content_hash for f in cat.all_faces()}) == 5


def test_rescan_reads_only_new_and_changed_files(album, lfw, scanner, catalog) -> None:
    first = scanner.run([album])
    assert first.photos == 6 and first.faces >= 6 and first.errors == 0
    faces = face_set(catalog)
    again = scanner.run([album])
    assert (again.photos, again.faces, again.unchanged) == (0, 0, 6)
    assert face_set(catalog) == faces

    # A touched file (same bytes, new mtime) is hashed, not decoded; its faces stay.
    touched = album / "img_0000.jpg"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    # A rewritten file is read again and gets its new faces.
    changed = album / "img_0001.jpg"
    old_hash = catalog.photo_by_path(changed).content_hash
    write_photos(lfw, album, 1, faces=(2, 2), seed=99, prefix="tmp")
    os.replace(album / "tmp_0000.jpg", changed)
    # And a new one appears.
    write_photos(lfw, album, 1, faces=(1, 1), seed=7, prefix="new")
    third = scanner.run([album])
    assert (third.photos, third.unchanged, third.errors) == (3, 4, 0)
    assert catalog.photo_by_path(changed).content_hash != old_hash
    assert len(catalog.faces_of_photo(catalog.photo_by_path(changed))) == 2
    assert catalog.faces_of_content(old_hash) == []  # unlabelled faces of old content go
    kept = {i: v for i, v in face_set(catalog).items() if v[0] != old_hash}
    assert {i: v for i, v in faces.items() if v[0] != old_hash}.items() <= kept.items()


def test_moved_and_copied_photos_keep_faces_and_labels(album, scanner, catalog) -> None:
    scanner.run([album])
    src = album / "img_0002.jpg"
    photo = catalog.photo_by_path(src)
    face = catalog.faces_of_photo(photo)[0]
    person = PeopleService(catalog).enroll(face.id, "Somebody")
    faces = face_set(catalog)

    (album / "2024" / "trip").mkdir(parents=True)
    moved = album / "2024" / "trip" / "renamed.jpg"
    os.rename(src, moved)
    shutil.copy2(album / "img_0003.jpg", album / "copy of img_0003.jpg")
    s = scanner.run([album])
    assert (s.moved, s.copies, s.missing, s.faces) == (1, 1, 0, 0)
    assert catalog.photo_by_path(src) is None
    after = catalog.photo_by_path(moved)
    assert after.id == photo.id and after.status == "done"
    assert face_set(catalog) == faces  # no face deleted or re-created
    assert [(a.person_id, a.source) for a in catalog.assignments(face.id)] == [
        (person.id, "confirmed")
    ]
    copy = catalog.photo_by_path(album / "copy of img_0003.jpg")
    assert catalog.faces_of_photo(copy) == catalog.faces_of_photo(
        catalog.photo_by_path(album / "img_0003.jpg")
    )


def test_swapping_two_file_names_keeps_every_face(album, scanner, catalog) -> None:
    scanner.run([album])
    faces = face_set(catalog)
    a, b, tmp = album / "img_0000.jpg", album / "img_0001.jpg", album / "swap.tmp"
    hashes = catalog.photo_by_path(a).content_hash, catalog.photo_by_path(b).content_hash
    os.rename(a, tmp)
    os.rename(b, a)
    os.rename(tmp, b)
    os.utime(a)  # renames keep mtimes; make sure both files look changed
    os.utime(b)
    s = scanner.run([album])
    assert s.faces == 0 and s.errors == 0
    assert face_set(catalog) == faces
    assert (catalog.photo_by_path(b).content_hash, catalog.photo_by_path(a).content_hash) == hashes


def test_pixel_identical_edit_keeps_face_ids(lfw, tmp_path, scanner, catalog) -> None:
    """Editing metadata changes the file's hash, not its faces: ids and labels carry over."""
    folder = tmp_path / "png"
    write_photos(lfw, folder, 2, faces=(2, 2), ext=".png", seed=3)
    scanner.run([folder])
    path = folder / "img_0000.png"
    faces = catalog.faces_of_photo(catalog.photo_by_path(path))
    PeopleService(catalog).enroll(faces[0].id, "Tagged")
    info = PngInfo()
    info.add_text("Comment", "edited in another app")
    Image.open(path).save(path, pnginfo=info)
    s = scanner.run([folder])
    assert s.photos == 1 and s.faces == 0
    after = catalog.faces_of_photo(catalog.photo_by_path(path))
    assert [f.id for f in after] == [f.id for f in faces]
    assert after[0].content_hash != faces[0].content_hash
    assert catalog.assignments(faces[0].id)[0].source == "confirmed"


def test_deleted_photo_goes_missing_then_purge_removes_it(album, scanner, catalog, capsys) -> None:
    scanner.run([album])
    gone = album / "img_0004.jpg"
    face = catalog.faces_of_photo(catalog.photo_by_path(gone))[0]
    person = PeopleService(catalog).enroll(face.id, "Gone")
    gone.unlink()
    s = scanner.run([album])
    assert s.missing == 1
    assert catalog.photo_by_path(gone).status == "missing"
    assert catalog.face(face.id) is not None  # kept with its label until the user purges
    assert catalog.assignments(face.id)[0].source == "confirmed"
    assert catalog.counts().faces_missing == len(catalog.faces_of_content(face.content_hash))
    lib = str(catalog.path)
    assert main(["--library", lib, "purge-missing", "--dry-run"]) == 0
    assert "would remove 1 missing photos" in capsys.readouterr().out
    assert catalog.face(face.id) is not None
    assert main(["--library", lib, "purge-missing"]) == 0
    assert "removed 1 missing photos" in capsys.readouterr().out
    assert catalog.photo_by_path(gone) is None and catalog.face(face.id) is None
    assert catalog.counts().photos == 5 and catalog.person(person.id) is not None


def test_model_switch_adds_embeddings_resumably(album, scanner, catalog, detector, capsys) -> None:
    from models.embedder import Embedder
    from models.registry import get_spec, register

    scanner.run([album])
    base = catalog.model
    faces = face_set(catalog)
    face_id = next(iter(faces))
    PeopleService(catalog).enroll(face_id, "Kept")
    spec = replace(get_spec(base), name=f"{base}-noflip-test", flip=False)
    register(spec)
    new = Embedder(spec, flip=False)

    control = ScanControl()
    first = Reembedder(catalog, new, batch_size=2).run(
        progress=lambda p: control.cancel() if p.photos_done >= 2 else None, control=control
    )
    assert first.cancelled and not first.switched and catalog.model == base
    done_first = catalog.db.execute(
        "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (spec.name,)
    ).fetchone()[0]
    assert 0 < done_first < len(faces)
    second = Reembedder(catalog, new, batch_size=2).run()
    assert second.switched and catalog.model == spec.name
    assert second.faces == len(faces) - done_first  # nothing embedded twice
    assert catalog.counts().embeddings == {base: len(faces), spec.name: len(faces)}
    assert face_set(catalog) == faces  # boxes untouched
    assert catalog.assignments(face_id)[0].source == "confirmed"
    # The flip-less vectors differ slightly from the flipped ones but describe the same face.
    a, b = catalog.embedding(face_id, base), catalog.embedding(face_id, spec.name)
    assert 0 < np.linalg.norm(a - b) < 0.2
    with pytest.raises(ModelMismatchError):
        Scanner(catalog, detector, scanner.embedder)
    assert Scanner(catalog, detector, new).run([album]).unchanged == 6
    # The command line: switching back re-embeds nothing (the old vectors are still there).
    lib = str(catalog.path)
    assert main(["--library", lib, "reembed", "--model", base, "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["faces"], out["switched"]) == (0, True) and catalog.model == base


def test_thumbnails_are_made_lazily_and_photos_stay_untouched(album, scanner, catalog) -> None:
    scanner.run([album])
    before = snapshot(album)
    photo = catalog.photo_by_path(album / "img_0000.jpg")
    face = catalog.faces_of_photo(photo)[0]
    root = Path(os.environ["ALBUM_HOME"]) / "cache" / "thumbnails"
    assert not root.exists()  # nothing until asked
    thumbs = Thumbnails(catalog)
    p = thumbs.photo(photo.id, size=128)
    f = thumbs.face(face.id, size=96)
    assert p.is_relative_to(root) and f.is_relative_to(root)
    assert max(Image.open(p).size) == 128 and Image.open(f).size == (96, 96)
    stamp = f.stat().st_mtime_ns
    assert thumbs.face(face.id, size=96) == f and f.stat().st_mtime_ns == stamp  # cached
    assert snapshot(album) == before


def test_progress_pause_and_cancel(album, scanner, catalog) -> None:
    control = ScanControl()
    reports = []
    resumed = threading.Event()

    def progress(p) -> None:
        reports.append(p)
        if p.photos_done == 2 and not resumed.is_set():
            control.pause()  # a GUI's pause button; resumed from another thread
            threading.Timer(0.3, lambda: (resumed.set(), control.resume())).start()
        if p.photos_done == 4:
            control.cancel()

    s = scanner.run([album], progress=progress, control=control)
    assert resumed.is_set() and s.cancelled and s.photos == 4
    done = [r.photos_done for r in reports]
    assert done == sorted(done) and reports[-1].photos_total == 6
    assert reports[-1].rate > 0 and reports[-1].eta_seconds is not None
    assert reports[-1].current_path is not None
    assert catalog.scan_runs(1)[0].status == "cancelled"
    rest = scanner.run([album])
    assert (rest.photos, rest.unchanged) == (2, 4)
    total = len(catalog.all_faces())
    with Catalog(catalog.path.parent / "fresh.db") as fresh:
        Scanner(fresh, scanner.detector, scanner.embedder).run([album])
        assert len(fresh.all_faces()) == total


def test_a_scan_without_names_or_grouping_loads_no_people_code(album, tmp_path) -> None:
    """Start-up: the people service (and the clustering's scipy) loads only when a photo
    carries names or the scan groups."""
    import subprocess
    import sys

    code = (
        "import sys; from album.cli import main; "
        f"assert main(['--library', {str(tmp_path / 'one.db')!r}, 'scan', '--no-progress', "
        f"{str(album)!r}]) == 0; print('album.people.service' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"


def test_cli_scan_status_faces_rescan(album, tmp_path, capsys) -> None:
    lib = str(tmp_path / "cli.db")
    assert main(["--library", lib, "scan", "--json", "--no-progress", str(album)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["photos"] == 6 and out["errors"] == 0 and out["faces"] >= 6
    assert out["seconds"] > 0 and out["groups"] is None  # grouping is 'album cluster''s
    with Catalog(lib) as cat:
        assert cat.people() == []
    # --group: the app's sequence (scan, names from metadata, grouping)
    assert main(["--library", lib, "scan", "--group", "--no-progress", str(album)]) == 0
    assert "people: " in capsys.readouterr().out
    with Catalog(lib) as cat:
        assert cat.people() and cat.assignments()
    (album / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert main(["--library", lib, "rescan", "--json", "--no-progress"]) == 0
    out2 = json.loads(capsys.readouterr().out)
    assert (out2["photos"], out2["errors"], out2["unchanged"]) == (0, 1, 6)
    assert main(["--library", lib, "status", "--errors"]) == 0
    text = capsys.readouterr().out
    assert "photos     7 (6 done, 1 errors, 0 missing)" in text
    assert f"{album / 'broken.jpg'}: " in text
    assert main(["--library", lib, "faces", str(album / "img_0000.jpg")]) == 0
    text = capsys.readouterr().out
    assert "face " in text and "box (" in text and DEFAULT_MODEL in text
    assert main(["--library", lib, "faces", str(tmp_path / "nope.jpg")]) == 2
    assert main(["--library", str(tmp_path / "none.db"), "status"]) == 2
