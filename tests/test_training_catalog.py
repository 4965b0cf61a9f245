"""Training data from the catalog: the user's confirmed faces, cut with their stored landmarks."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from album.catalog import Catalog
from album.catalog.schema import now
from album.cli import main
from album.people import PeopleService
from models.registry import get_spec
from training.data import chips_from_confirmed, confirmed_faces

# Where the eyes, nose and mouth corners of a face roughly are in these 200x200 test photos.
LANDMARKS = [[80.0, 90.0], [120.0, 90.0], [100.0, 112.0], [84.0, 135.0], [116.0, 135.0]]


def _catalog(tmp_path, extra_people: int = 0):
    """Three photos: two confirmed as Ann, one as an unnamed person, plus an unconfirmed face
    and a rejected one; ``extra_people`` more people with two confirmed photos each."""
    path = tmp_path / "catalog.db"
    rng = np.random.default_rng(0)
    with Catalog(path) as cat:
        folder = cat.add_folder(tmp_path)
        face_ids = []
        for i in range(5 + 2 * extra_people):
            photo = tmp_path / f"p{i}.jpg"
            Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(photo)
            h = f"hash{i}"
            cat.db.execute(
                "INSERT INTO photos (folder_id, path, size, mtime_ns, content_hash, width, "
                "height, status, updated_at) VALUES (?, ?, ?, ?, ?, 200, 200, 'done', ?)",
                (folder.id, str(photo), photo.stat().st_size, photo.stat().st_mtime_ns, h, now()),
            )
            cur = cat.db.execute(
                "INSERT INTO faces (content_hash, face_key, box_left, box_top, box_right, "
                "box_bottom, landmarks, score, quality, updated_at) "
                "VALUES (?, 'k', 60, 60, 140, 160, ?, 0.99, 0.9, ?)",
                (h, json.dumps(LANDMARKS), now()),
            )
            face_ids.append(cur.lastrowid)
        svc = PeopleService(cat)
        ann = svc.enroll(face_ids[0], "Ann")
        svc.move([face_ids[1]], ann.id)
        other = svc.split(svc.enroll(face_ids[2], "Other").id, [face_ids[2]])  # unnamed
        svc.reject([face_ids[3]], ann.id)
        for j in range(extra_people):
            person = svc.enroll(face_ids[5 + 2 * j], f"P{j}")
            svc.move([face_ids[6 + 2 * j]], person.id)
        cat.db.conn.commit()
    return path, ann.id, other.id


def test_confirmed_faces_become_a_chip_dataset(tmp_path) -> None:
    path, _, other = _catalog(tmp_path)
    faces = confirmed_faces(path)
    assert sorted(f.person for f in faces) == ["Ann", "Ann", f"person-{other}"]
    assert all(f.landmarks.shape == (5, 2) for f in faces)
    data = chips_from_confirmed(faces, "dlib-resnet-v1")
    assert data.chips.shape == (3, 150, 150, 3) and data.chips.dtype == np.uint8
    assert data.identities == ["Ann", f"person-{other}"]
    assert data.labels.tolist().count(0) == 2
    again = chips_from_confirmed(faces, get_spec("dlib-resnet-v1"))  # from the cache
    assert np.array_equal(again.chips, data.chips)


def test_train_from_catalog_with_too_few_people_says_so(tmp_path, capsys) -> None:
    path, _, _ = _catalog(tmp_path)
    # --network: the chips recipe (the default --from-catalog is tests/test_training_personal.py)
    assert main(["--library", str(path), "train", "--from-catalog", "--network", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "people" in err and "--batch-p" not in err
    assert main(["--library", str(tmp_path / "none.db"), "train", "--from-catalog"]) == 2


def test_train_from_catalog_registers_a_model(tmp_path, capsys) -> None:
    path, _, _ = _catalog(tmp_path, extra_people=2)
    name = f"family-{tmp_path.name[-8:]}".replace("_", "-")
    # No --batch-p: P comes from what the album has (3 people with two faces, not 16).
    args = ["--library", str(path), "train", "--from-catalog", "--network", "--out", name,
            "--quiet", "--batch-k", "2", "--epochs", "1", "--batches-per-epoch", "1",
            "--val-fraction", "0", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "7 confirmed faces of 4 people" in out and f"registered model {name}" in out
    assert "batches of 3 people (all there are)" in out
    assert "too few identities" not in out  # --val-fraction 0: no split asked for
    spec = get_spec(name)
    assert spec.origin == "trained" and spec.threshold == get_spec("dlib-resnet-v1").threshold
