"""Side views asked about in batches: "which of these side views are Ada?" settles several
faces in one answer, one undo step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.people.errors import PeopleError
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog
from models.registry import get_spec

THRESHOLD = get_spec("dlib-resnet-v1").threshold


def _at(centre: np.ndarray, distance: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector ``distance`` (Euclidean) from unit ``centre``, in a random direction."""
    d = rng.standard_normal(centre.shape)
    d -= d @ centre * centre
    d /= np.linalg.norm(d)
    angle = 2 * np.arcsin(distance / 2)
    return centre * np.cos(angle) + d * np.sin(angle)


def _album(cat: Catalog) -> tuple[list[int], list[int], list[int]]:
    """Ada: 6 frontal faces; 4 of her side views a little beyond the threshold from her
    frontal faces; 2 side views of a stranger near her. Each face in its own photo."""
    rng = np.random.default_rng(4)
    centre = rng.standard_normal(128)
    centre /= np.linalg.norm(centre)
    frontal = [_at(centre, 0.12, rng) for _ in range(6)]
    hers = [_at(centre, 0.95 * THRESHOLD, rng) for _ in range(4)]
    strangers = [_at(centre, 1.15 * THRESHOLD, rng) for _ in range(2)]
    x = np.array(frontal + hers + strangers, dtype=np.float32)
    ids = fill_catalog(cat, x, np.arange(len(x)))
    cat.db.execute("UPDATE faces SET yaw = 0")
    side = ids[6:]
    cat.db.execute(f"UPDATE faces SET yaw = 80 WHERE id IN ({','.join('?' * len(side))})", side)
    return ids[:6], ids[6:10], ids[10:]


def test_side_views_are_asked_about_together_and_answered_in_one_step(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        frontal, hers, strangers = _album(cat)
        svc = PeopleService(cat, "dlib-resnet-v1")
        ada = svc.enroll(frontal[0], "Ada").id
        svc.move(frontal[1:], ada)
        svc.recluster()
        batches = svc.side_view_batches()
        assert [b.person_id for b in batches] == [ada]
        batch = batches[0]
        assert set(batch.faces) == set(hers) | set(strangers)  # every side view near her
        assert len(batch.probabilities) == len(batch.faces)
        assert all(0.01 <= p <= 0.99 for p in batch.probabilities)
        assert list(batch.probabilities) == sorted(batch.probabilities, reverse=True)
        assert set(batch.examples) <= set(frontal) and len(batch.examples) == 3

        assert svc.answer_side_views(ada, hers, strangers) == (4, 2)
        assert {f.face_id for f in svc.faces_of(ada, ("confirmed",))} == set(frontal) | set(hers)
        svc.recluster()
        for f in strangers:  # not Ada, however near: re-grouping keeps them away
            mine = svc.person_of(f)
            assert mine is None or mine.person_id != ada
        assert svc.side_view_batches() == []  # nothing left to ask about her side views
        assert svc.history(1)[0].summary == "side views: 4 are Ada, 2 are not"

        svc.undo()  # one step
        assert not {f.face_id for f in svc.faces_of(ada, ("confirmed",))} & set(hers)


def test_a_batch_answer_that_contradicts_itself_is_refused(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        frontal, hers, _ = _album(cat)
        svc = PeopleService(cat, "dlib-resnet-v1")
        ada = svc.enroll(frontal[0], "Ada").id
        with pytest.raises(PeopleError, match="both"):
            svc.answer_side_views(ada, hers, hers[:1])
        with pytest.raises(PeopleError, match="no face"):
            svc.answer_side_views(ada, [], [])
        assert [e.action for e in svc.history(5)] == ["enroll"]  # nothing written


def test_side_view_batches_from_the_command_line(tmp_path: Path, capsys) -> None:
    import json

    from album.cli import main

    db = tmp_path / "c.db"
    with Catalog(db) as cat:
        frontal, hers, strangers = _album(cat)
        svc = PeopleService(cat, "dlib-resnet-v1")
        ada = svc.enroll(frontal[0], "Ada").id
        svc.move(frontal[1:], ada)
        svc.recluster()
    assert main(["--library", str(db), "queue", "--side-views", "--json"]) == 0
    (batch,) = json.loads(capsys.readouterr().out)
    assert batch["person_id"] == ada and set(batch["faces"]) == set(hers) | set(strangers)
    yes, no = ",".join(map(str, hers)), ",".join(map(str, strangers))
    args = ["--library", str(db), "queue", "--side-views", "--person", "Ada"]
    assert main([*args, "--yes", yes, "--no", no]) == 0
    assert "side views: 4 are Ada, 2 are not" in capsys.readouterr().out
    assert main([*args, "--yes", "x"]) == 2  # said in words, no traceback
    assert "face ids separated by commas" in capsys.readouterr().err
