"""PeopleService on a real catalog file: operations, undo, re-clustering, recognition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.people.errors import ConstraintError, PeopleError
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people


@pytest.fixture
def album(tmp_path: Path):
    """8 people x 6 faces; faces 0 and 6 (people 0 and 1) share a photo."""
    x, truth = synthetic_people(8, 6, spread=0.28, seed=11)
    photo = np.arange(len(truth))
    photo[6] = photo[0]
    with Catalog(tmp_path / "album.db") as cat:
        ids = fill_catalog(cat, x, photo)
        svc = PeopleService(cat)
        svc.recluster()
        yield svc, np.array(ids), truth


def person_of(svc: PeopleService, face: int) -> int | None:
    label = svc.person_of(int(face))
    return label.person_id if label else None


def test_clusters_are_people_and_names_confirm(album) -> None:
    svc, ids, _truth = album
    clusters = svc.people()
    assert len(clusters) == 8 and all(c.cluster and c.faces == 6 for c in clusters)
    pid = person_of(svc, ids[0])
    svc.name(pid, "Ada")
    ada = svc.find("ada")
    assert ada.id == pid and svc.people(named_only=True)[0].confirmed == 6
    assert not svc.people(named_only=True)[0].cluster


def test_naming_with_an_existing_name_merges(album) -> None:
    svc, ids, _truth = album
    a, b = person_of(svc, ids[0]), person_of(svc, ids[12])
    svc.name(a, "Ada")
    merged = svc.name(b, "ada")
    assert merged.id == a
    assert len(svc.faces_of(a)) == 12
    assert svc.person(b).merged_into == a
    svc.undo()
    assert svc.person(b).merged_into is None and len(svc.faces_of(a)) == 6


def test_same_photo_faces_never_share_a_person(album) -> None:
    svc, ids, _truth = album
    a, b = person_of(svc, ids[0]), person_of(svc, ids[6])
    svc.name(a, "Ada")
    svc.name(b, "Bob")
    with pytest.raises(ConstraintError, match="same photo"):
        svc.merge(b, a)
    with pytest.raises(ConstraintError):
        svc.move([int(ids[6])], a)
    assert person_of(svc, ids[6]) == b


def test_rejected_face_never_comes_back(album) -> None:
    svc, ids, _truth = album
    pid = person_of(svc, ids[18])
    svc.name(pid, "Cy")
    svc.reject([int(ids[19])], pid)
    assert person_of(svc, ids[19]) != pid
    for _ in range(2):
        svc.recluster()
        assert person_of(svc, ids[19]) != pid
    # And not via a merge either: merging Cy into Dee carries the rejection over.
    dee = svc.name(person_of(svc, ids[24]), "Dee")
    svc.merge(pid, dee.id)
    svc.recluster()
    assert person_of(svc, ids[19]) != dee.id


def test_recluster_keeps_confirmations_names_and_cluster_ids(album) -> None:
    svc, ids, _truth = album
    ada = svc.name(person_of(svc, ids[0]), "Ada")
    clusters_before = {c.id for c in svc.people() if c.cluster}
    svc.recluster()
    assert {c.id for c in svc.people() if c.cluster} == clusters_before
    assert svc.find("Ada").id == ada.id and len(svc.faces_of(ada.id, ("confirmed",))) == 6


def test_new_faces_are_recognised_against_confirmed_ones(album, tmp_path) -> None:
    svc, ids, _truth = album
    ada = svc.name(person_of(svc, ids[0]), "Ada")
    x = np.stack([svc.catalog.embedding(int(f), svc.model_id) for f in ids[:6]])
    rng = np.random.default_rng(5)
    new = x[:2] + 0.01 * rng.standard_normal(x[:2].shape)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    new_ids = fill_catalog(svc.catalog, new, [900, 901])
    r = svc.recluster()
    assert r.assigned + r.suggested >= 2
    for f in new_ids:
        label = svc.person_of(f)
        assert label is not None and label.person_id == ada.id
        assert label.source in ("automatic", "suggested")
    svc.confirm(ada.id)
    assert len(svc.faces_of(ada.id, ("confirmed",))) == 8


def test_split_move_hide_cover_and_undo_all(album) -> None:
    svc, ids, _truth = album
    pid = person_of(svc, ids[30])
    svc.name(pid, "Eve")
    before = svc.catalog.db.execute("SELECT * FROM assignments ORDER BY 1, 2").fetchall()
    new = svc.split(pid, [int(ids[30]), int(ids[31])], "Eva")
    assert new.name == "Eva" and len(svc.faces_of(new.id)) == 2
    assert {f.face_id for f in svc.faces_of(pid, ("rejected",))} == {int(ids[30]), int(ids[31])}
    svc.move([int(ids[31])], pid)
    svc.hide(new.id)
    svc.set_cover(pid, int(ids[32]))
    with pytest.raises(PeopleError):
        svc.set_cover(pid, int(ids[0]))
    assert len(svc.history()) >= 5
    while svc.history()[0].action != "name":
        svc.undo()
    assert svc.catalog.db.execute("SELECT * FROM assignments ORDER BY 1, 2").fetchall() == before
    assert svc.catalog.person(new.id) is None


def test_answers_are_constraints_applied_at_once(album) -> None:
    svc, ids, _truth = album
    a, b = person_of(svc, ids[36]), person_of(svc, ids[42])
    svc.answer(int(ids[36]), int(ids[42]), same=True)
    assert person_of(svc, ids[36]) == person_of(svc, ids[42])
    kinds = svc.catalog.db.execute("SELECT kind FROM constraints").fetchall()
    assert kinds == [("must-link",)]
    svc.recluster()  # the must-link keeps them together
    assert person_of(svc, ids[36]) == person_of(svc, ids[42])
    svc.undo()
    svc.answer(int(ids[36]), int(ids[37]), same=False)
    assert person_of(svc, ids[36]) != person_of(svc, ids[37])
    svc.recluster()
    assert person_of(svc, ids[36]) != person_of(svc, ids[37]) or person_of(svc, ids[36]) is None
    assert a != b


def test_the_face_asked_about_leaves_and_stays_out(album) -> None:
    svc, ids, _truth = album
    faces = [int(f) for f in ids[12:18]]
    person = person_of(svc, faces[0])
    assert all(person_of(svc, f) == person for f in faces)
    # Of two faces, ask about the one that fits the person better (the default would pick
    # the other): "different", and that face leaves.
    x = np.stack([svc.catalog.embedding(f, svc.model_id) for f in faces])
    spread = np.linalg.norm(x[:, None] - x[None], axis=2).mean(1)
    a, b = faces[int(np.argmin(spread))], faces[int(np.argmax(spread))]
    other = next(f for f in faces if f not in (a, b))
    with pytest.raises(PeopleError, match="not one of the two faces"):
        svc.answer(a, b, same=False, leaving=other)
    svc.answer(a, b, same=False, leaving=a)
    assert person_of(svc, a) != person and person_of(svc, b) == person
    svc.recluster()  # it stays out; the others stay together
    assert person_of(svc, a) != person_of(svc, b)
    assert len({person_of(svc, f) for f in faces if f != a}) == 1


def test_queue_verify_identify_and_merge_suggestions(album) -> None:
    svc, ids, _truth = album
    v = svc.verify(int(ids[0]), int(ids[1]))
    assert v.same and 0.5 < v.probability <= 1
    assert not svc.verify(int(ids[0]), int(ids[6])).same
    svc.name(person_of(svc, ids[0]), "Ada")
    x = svc.catalog.embedding(int(ids[2]), svc.model_id)
    m = svc.identify(x)[0]
    assert m.person == svc.find("Ada").id
    assert isinstance(svc.queue(5), list)
    assert isinstance(svc.merge_suggestions(5), list)
    with pytest.raises(PeopleError):
        svc.find("Nobody")


def test_threshold_is_a_share_of_the_models_and_survives_a_switch(album) -> None:
    from album.people.keys import ASSIGN_KEY, LEGACY_THRESHOLD_KEY, THRESHOLD_KEY
    from album.people.settings import PeopleSettings
    from models.registry import get_spec

    svc, _ids, _truth = album
    cat = svc.catalog
    dlib, facenet = get_spec("dlib-resnet-v1"), get_spec("facenet-vggface2")
    assert dlib.threshold != facenet.threshold
    # What an older version saved: an absolute distance on dlib's scale.
    cat.set_setting(LEGACY_THRESHOLD_KEY, f"{0.9 * dlib.threshold:.4f}")
    assert PeopleService(cat).threshold == pytest.approx(0.9 * dlib.threshold, abs=1e-4)
    cat.set_setting(THRESHOLD_KEY, "0.85")
    settings = PeopleSettings.from_catalog(cat)
    # The same setting means the same strictness for either model.
    assert PeopleService(cat, "dlib-resnet-v1", settings).threshold == pytest.approx(
        0.85 * dlib.threshold
    )
    assert PeopleService(cat, "facenet-vggface2", settings).threshold == pytest.approx(
        0.85 * facenet.threshold
    )
    cat.set_setting(ASSIGN_KEY, "off")
    assert PeopleSettings.from_catalog(cat).recognition.assign_below is None
