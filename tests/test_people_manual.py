"""A face marked by hand on a photo: stored with landmarks and an embedding, confirmed as the
person named, kept by rescans, and removed again by undo."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.people.errors import PeopleError
from album.people.manual import ManualFaceError, template_landmarks
from album.people.service import PeopleService

NAME = "George_W_Bush"


@pytest.fixture
def scanned(lfw: Path, tmp_path: Path):
    from album.scan import Scanner

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(lfw / NAME / f"{NAME}_0001.jpg", photos / "a.jpg")
    cat = Catalog(tmp_path / "catalog.db")
    scanner = Scanner(cat)
    scanner.run([photos])
    yield cat, scanner, photos
    cat.close()


def test_template_landmarks_fill_the_box() -> None:
    lm = template_landmarks((100.0, 200.0, 260.0, 360.0))
    assert lm.shape == (5, 2)
    assert (lm[:, 0] > 100).all() and (lm[:, 0] < 260).all()
    assert lm[0, 0] < lm[1, 0] and lm[2, 1] < lm[3, 1]  # eyes left to right, nose above mouth


def test_mark_a_face_by_hand_then_rescan_and_undo(scanned) -> None:
    from album.scan import Scanner

    cat, scanner, photos = scanned
    photo = cat.photos()[0]
    assert photo is not None
    faces = cat.faces_of_photo(photo)
    assert faces, "the scan finds the LFW face"
    svc = PeopleService(cat)
    # The scanned face is already there: marking it again is refused.
    with pytest.raises(PeopleError):
        svc.add_manual_face(photo.id, faces[0].box, "Ada", embedder=scanner.embedder)
    with pytest.raises(ManualFaceError):
        svc.add_manual_face(photo.id, (10, 10, 12, 12), "Ada", embedder=scanner.embedder)
    with pytest.raises(PeopleError):
        svc.add_manual_face(photo.id, (10, 10, 60, 60), "  ", embedder=scanner.embedder)

    # A region in the photo's corner (no face there: landmarks from the mean layout).
    box = (5.0, 5.0, 65.0, 75.0)
    fid = svc.add_manual_face(photo.id, box, "Ada", embedder=scanner.embedder)
    face = cat.face(fid)
    assert face is not None and face.content_hash == photo.content_hash
    assert face.box == pytest.approx(box, abs=0.1)
    lm = np.asarray(face.landmarks)
    assert lm.shape == (5, 2)
    assert (lm[:, 0] >= 5).all() and (lm[:, 0] <= 65).all()
    assert 0.0 <= face.quality <= 1.0
    (blob, dim) = cat.db.execute(
        "SELECT vector, dim FROM embeddings WHERE face_id = ? AND model_id = ?",
        (fid, svc.model_id),
    ).fetchone()
    vec = np.frombuffer(blob, dtype="<f4")
    assert len(vec) == dim and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-3
    lab = svc.person_of(fid)
    ada = svc.by_name("Ada")
    assert ada is not None and lab is not None
    assert (lab.person_id, lab.source) == (ada.id, "confirmed")

    # Rescan: unchanged content keeps every face, the hand-marked one included.
    Scanner(cat, embedder=scanner.embedder, detector=scanner.detector).run([photos])
    assert cat.face(fid) is not None
    assert svc.person_of(fid).source == "confirmed"
    # Even after the photo is gone and a scan sweeps orphans, the user's face stays.
    (photos / "a.jpg").unlink()
    Scanner(cat, embedder=scanner.embedder, detector=scanner.detector).run([photos])
    assert cat.face(fid) is not None

    # Undo removes the face, its embedding and the new person.
    entry = svc.undo()
    assert entry is not None and entry.action == "add face"
    assert cat.face(fid) is None and svc.by_name("Ada") is None


def test_hand_marked_face_found_by_the_detector_goes_to_an_existing_name(
    scanned, lfw: Path
) -> None:
    cat, scanner, _photos = scanned
    photo = cat.photos()[0]
    svc = PeopleService(cat)
    real = cat.faces_of_photo(photo)[0]
    svc.enroll(real.id, "George")
    # Remove the scanned face so the region is free, then mark it by hand.
    cat.db.execute("DELETE FROM assignments WHERE face_id = ?", (real.id,))
    cat.db.execute("DELETE FROM embeddings WHERE face_id = ?", (real.id,))
    cat.db.execute("DELETE FROM faces WHERE id = ?", (real.id,))
    x0, y0, x1, y1 = real.box
    drawn = (x0 + 4, y0 - 3, x1 + 5, y1 + 2)
    from album.people.manual import measure_face

    m = measure_face(cat, photo.id, drawn, svc.model_id, embedder=scanner.embedder)
    assert m.detected
    assert np.abs(m.landmarks - np.asarray(real.landmarks)).max() < 8
    fid = svc.add_face(m, "george")  # names match case-insensitively
    lab = svc.person_of(fid)
    assert lab.source == "confirmed" and lab.person_id == svc.by_name("George").id
    before = len(svc.history())
    svc.undo()
    assert cat.face(fid) is None
    assert (
        cat.db.execute("SELECT COUNT(*) FROM embeddings WHERE face_id = ?", (fid,)).fetchone()[0]
        == 0
    )
    assert len(svc.history()) == before - 1
