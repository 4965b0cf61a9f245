"""Split a person who is two people: the planning on arrays, then the service on a catalog."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.evaluation.cluster_scores import best_split_f
from album.people.errors import PeopleError
from album.people.service import PeopleService
from album.people.split import SplitPart, plan_split
from album.people.synthetic import fill_catalog

DLIB = 0.416  # dlib-resnet-v1's threshold, the synthetic catalogs' model


def look_alikes(per_person: int = 30, apart: float = 0.45, noise: float = 0.2, seed: int = 0):
    """Two people whose mean faces are ``apart`` (unit vectors), faces spread ``noise``
    around them: a person's faces are about 0.28 apart (0.7 of dlib's threshold), the two
    people's about 0.53 (1.3 of it). Returns (x, truth)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=128)
    a /= np.linalg.norm(a)
    step = rng.normal(size=128)
    step -= step @ a * a
    b = a + apart * step / np.linalg.norm(step)
    b /= np.linalg.norm(b)
    truth = np.repeat([0, 1], per_person)
    x = np.stack([a, b])[truth] + noise / np.sqrt(128) * rng.normal(size=(2 * per_person, 128))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


def test_two_look_alikes_come_apart_and_the_plan_is_repeatable() -> None:
    x, truth = look_alikes()
    labels = plan_split(x, threshold=DLIB)
    assert set(labels.tolist()) == {0, 1}
    assert best_split_f(labels, truth) == 1.0
    assert np.array_equal(plan_split(x, threshold=DLIB), labels)
    # the same faces in another order: the same sub-groups
    order = np.random.default_rng(1).permutation(len(x))
    assert best_split_f(plan_split(x[order], threshold=DLIB), truth[order]) == 1.0


def test_odd_faces_join_a_sizeable_group_or_stand_apart() -> None:
    x, truth = look_alikes(per_person=40)
    rng = np.random.default_rng(3)
    odd = rng.normal(size=(2, 128)).astype(np.float32)  # two faces like nobody else
    odd /= np.linalg.norm(odd, axis=1, keepdims=True)
    labels = plan_split(np.concatenate([x, odd]), threshold=DLIB)
    assert int(labels.max()) == 1  # two sub-groups: the two odd faces are not a third
    assert best_split_f(labels[:80], truth) == 1.0
    # one person and the odd faces: the odd faces are offered apart
    one = plan_split(np.concatenate([x[:40], odd]), threshold=DLIB)
    assert np.array_equal(one, np.r_[np.zeros(40, int), np.ones(2, int)])


def test_a_persons_own_side_views_do_not_cut_them_in_two() -> None:
    # One person: 30 frontal faces, and 6 side views that lie as far from them as another
    # person would (a side view of someone is far from their frontal faces).
    x, truth = look_alikes(per_person=30, apart=0.5)
    person = np.r_[x[:30], x[30:36]]
    yaw = np.r_[np.zeros(30), np.full(6, 70.0)]
    assert int(plan_split(person, threshold=DLIB).max()) == 1  # without the pose: two groups
    assert plan_split(person, threshold=DLIB, yaw=yaw).tolist() == [0] * 36
    # Two people, each with side views: the cut parts the people, the side views follow.
    side = np.r_[np.zeros(25), np.full(5, 70.0), np.zeros(25), np.full(5, 80.0)]
    assert best_split_f(plan_split(x, threshold=DLIB, yaw=side), truth) == 1.0


def test_the_users_decisions_win() -> None:
    x, truth = look_alikes()
    a, b = 0, 1  # the same true person, marked different (or in one photo)
    labels = plan_split(x, cannot_link=[(a, b)], threshold=DLIB)
    assert labels[a] != labels[b]
    c, d = 2, 40  # different true people, marked the same
    labels = plan_split(x, must_link=[(c, d)], threshold=DLIB)
    assert labels[c] == labels[d]
    labels = plan_split(x, groups=3, threshold=DLIB)
    assert int(labels.max()) == 2 and best_split_f(labels, truth) == 1.0
    assert plan_split(x[:1]).tolist() == [0]


@pytest.fixture
def merged(tmp_path: Path):
    """A catalog where two look-alikes were merged into one person, Ada."""
    x, truth = look_alikes(per_person=12, seed=5)
    photo = np.arange(len(x))
    photo[13] = photo[0]  # faces 0 and 13 (different people) share a photo
    with Catalog(tmp_path / "album.db") as cat:
        ids = np.array(fill_catalog(cat, x, photo))
        svc = PeopleService(cat)
        svc.recluster()
        target = svc.person_of(int(ids[0])).person_id
        for f in ids[1:]:
            label = svc.person_of(int(f))
            if label is not None and label.person_id != target:
                svc.merge(label.person_id, target)
            elif label is None and f != ids[13]:  # left alone by the grouping: moved in
                svc.move([int(f)], target)
        svc.name(target, "Ada")
        yield svc, ids, truth, target


def test_split_offers_the_two_people_and_applies_in_one_undo_step(merged) -> None:
    svc, ids, truth, ada = merged
    members = {f.face_id for f in svc.faces_of(ada)}
    assert len(members) >= len(ids) - 2 and not {int(ids[0]), int(ids[13])} <= members
    before = svc.catalog.db.execute("SELECT * FROM assignments ORDER BY 1, 2").fetchall()
    proposal = svc.split_proposal(ada)
    assert proposal.person_id == ada and len(proposal.groups) == 2
    face_truth = dict(zip(ids.tolist(), truth.tolist(), strict=True))
    for group in proposal.groups:
        assert len({face_truth[f] for f in group.faces}) == 1
    assert sum(len(g.faces) for g in proposal.groups) == len(svc.faces_of(ada))

    other = 1 - proposal.keep
    parts = [
        SplitPart(proposal.groups[proposal.keep].faces),
        SplitPart(proposal.groups[other].faces, "Bea"),
    ]
    [bea] = svc.split_apart(ada, parts)
    assert bea.name == "Bea"
    assert {f.face_id for f in svc.faces_of(bea.id)} == set(proposal.groups[other].faces)
    assert {f.face_id for f in svc.faces_of(ada)} == set(proposal.groups[proposal.keep].faces)
    rejected = {f.face_id for f in svc.faces_of(ada, ("rejected",))}
    assert rejected >= set(proposal.groups[other].faces)
    svc.recluster()  # the split survives a re-grouping (which may add Bea's left-out face)
    assert {f.face_id for f in svc.faces_of(bea.id)} >= set(proposal.groups[other].faces)
    assert {f.face_id for f in svc.faces_of(ada)} == set(proposal.groups[proposal.keep].faces)
    assert svc.history(1)[0].action == "split"
    svc.undo()
    after = svc.catalog.db.execute("SELECT * FROM assignments ORDER BY 1, 2").fetchall()
    assert [r for r in after if r[2] != "automatic"] == [r for r in before if r[2] != "automatic"]
    assert svc.by_name("Bea") is None


def test_split_refuses_what_it_cannot_do_in_words(merged) -> None:
    svc, _ids, _truth, ada = merged
    proposal = svc.split_proposal(ada)
    with pytest.raises(PeopleError, match="nothing to do"):
        svc.split_apart(ada, [SplitPart(g.faces) for g in proposal.groups])
    with pytest.raises(PeopleError, match="nothing to do"):
        svc.split_apart(ada, [SplitPart(proposal.groups[0].faces, "Ada")])
    with pytest.raises(PeopleError, match="two sub-groups"):
        svc.split_apart(ada, [SplitPart(proposal.groups[0].faces, "")] * 2)
    alone = svc.split(ada, [proposal.groups[1].faces[0]])  # that face is not Ada's any more
    with pytest.raises(PeopleError, match="is not Ada"):
        svc.split_apart(ada, [SplitPart(proposal.groups[1].faces, "")])
    with pytest.raises(PeopleError, match="nothing to split"):
        svc.split_proposal(alone.id)


def test_sub_groups_can_go_to_an_existing_person_and_a_new_unnamed_one(merged) -> None:
    svc, _ids, _truth, ada = merged
    proposal = svc.split_proposal(ada, groups=3)
    assert len(proposal.groups) >= 3
    first, second = proposal.groups[0], proposal.groups[1]
    cara = svc.split(ada, [proposal.groups[2].faces[0]], "Cara")
    moved = svc.split_apart(ada, [SplitPart(first.faces, "Cara"), SplitPart(second.faces, "")])
    assert moved[0].id == cara.id and moved[1].name is None
    assert {f.face_id for f in svc.faces_of(cara.id)} >= set(first.faces)


def test_album_split_shows_then_applies_and_says_what_it_cannot(merged, capsys) -> None:
    from album.cli import main

    svc = merged[0]
    library = ["--library", str(svc.catalog.path)]
    assert main([*library, "split", "Ada"]) == 0
    out = capsys.readouterr().out
    assert "in 2 sub-groups" in out and "(stays Ada)" in out and "--as 2=NAME" in out
    assert main([*library, "split", "Ada", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    leaving = set(shown["groups"][2 - shown["keep"]]["faces"])
    assert main([*library, "split", "Ada", "--as", f"{3 - shown['keep']}=Bea"]) == 0
    assert "into Bea" in capsys.readouterr().out
    with Catalog(svc.catalog.path) as cat:
        fresh = PeopleService(cat)
        assert {f.face_id for f in fresh.faces_of(fresh.by_name("Bea").id)} == leaving
    assert main([*library, "split", "Ada", "--as", "7=x"]) == 2
    assert "there are sub-groups 1 to" in capsys.readouterr().err
    assert main([*library, "split", "Ada", "--as", "Bea"]) == 2
    assert "write K=NAME" in capsys.readouterr().err


def test_two_people_merged_in_a_scanned_album_come_apart(lfw: Path, tmp_path: Path) -> None:
    """A benchmarks/make_album.py album of held-out people, scanned and grouped for real; the
    two people with the most faces merged into one on purpose, then split."""
    import sys

    from album.evaluation.queue_sim import match_album, read_truth
    from album.scan import Scanner

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from make_album import make_album

    folder = tmp_path / "album"
    make_album(
        lfw, folder, 12, size=(1600, 1200), faces=(2, 3), face_size=(90, 260), seed=5,
        split="test", people=4, per_person=6,
    )  # fmt: skip
    with Catalog(tmp_path / "album.db") as cat:
        Scanner(cat).run([folder])
        svc = PeopleService(cat)
        svc.recluster()
        match = match_album(cat, folder, read_truth(folder))
        identity = {f: r["identity"] for f, r in match.records.items()}
        counts: dict[str, int] = {}
        for who in identity.values():
            counts[who] = counts.get(who, 0) + 1
        a, b = sorted(counts, key=lambda who: -counts[who])[:2]

        def person(who: str) -> int:
            votes = [svc.person_of(f).person_id for f, i in identity.items() if i == who
                     and svc.person_of(f)]  # fmt: skip
            return max(set(votes), key=votes.count)

        pa, pb = person(a), person(b)
        svc.merge(pb, pa)
        faces = [f.face_id for f in svc.faces_of(pa)]
        assert {identity.get(f) for f in faces} >= {a, b}
        proposal = svc.split_proposal(pa)
        labels = np.empty(len(faces), dtype=np.int64)
        for k, group in enumerate(proposal.groups):
            for f in group.faces:
                labels[faces.index(f)] = k
        truth = np.array([identity.get(f, f"false face {f}") for f in faces])
        assert best_split_f(labels, truth) >= 0.95
