"""``album eval queue``: the simulated user who answers "Same person?" truthfully."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.evaluation.cluster_scores import score_clustering
from album.evaluation.queue_sim import allowed_answers, current_labels, simulate
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people
from models.registry import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]


def _look_alike_album(catalog: Catalog) -> tuple[list[int], dict[int, str | None]]:
    """8 people of 6 faces plus a ninth close to the first (the clustering merges them), and
    one false face; every face in its own photo."""
    x, labels = synthetic_people(8, 6, spread=0.38, seed=2)
    rng = np.random.default_rng(2)
    c = x[labels == 0].mean(0)
    c /= np.linalg.norm(c)
    d = rng.standard_normal(x.shape[1])
    d -= d @ c * c
    d /= np.linalg.norm(d)
    twin = c * np.cos(0.3) + d * np.sin(0.3)  # 0.3 rad from person 0
    extra = twin + 0.38 / np.sqrt(2 * x.shape[1]) * rng.standard_normal((6, x.shape[1]))
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    x = np.vstack([x, extra.astype(np.float32)])
    labels = np.concatenate([labels, np.full(6, 8)])
    ids = fill_catalog(catalog, x, np.arange(len(x)))
    identity: dict[int, str | None] = {f: f"person {k}" for f, k in zip(ids, labels, strict=True)}
    identity[ids[-1]] = None  # a false face
    return ids, identity


def test_truthful_answers_fix_a_merge_and_scores_follow_the_catalog(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        ids, identity = _look_alike_album(cat)
        svc = PeopleService(cat)
        steps = []
        r = simulate(svc, identity, budget=100, on_step=steps.append)
        assert r.faces == len(ids) and r.false_faces == 1 and r.identities == 9
        assert r.answers_per_person == 4
        assert r.before.bcubed_f < 0.95 and r.after.bcubed_f > r.before.bcubed_f + 0.03
        assert r.ran_dry and 0 < len(r.steps) < 100 and steps == r.steps
        assert [s.answer for s in r.steps] == list(range(1, len(r.steps) + 1))
        for s in r.steps:  # every answer is the truth; a false face is never "the same"
            a, b = identity[s.face_a], identity[s.face_b]
            assert s.same == (a is not None and a == b)
            assert s.refused is None and 0.0 <= s.probability <= 1.0
        # the final figure is BCubed of the catalog's own grouping, false face on its own
        truth = [identity[f] or "false" for f in ids]
        assert r.after == score_clustering(np.array(truth), current_labels(svc, ids))
        assert {s.kind for s in r.steps} <= {"clusters", "split", "edge", "loose"}
        json.dumps(r.as_dict())


def test_budget_stops_the_answers(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        _, identity = _look_alike_album(cat)
        r = simulate(PeopleService(cat), identity, budget=2)
        assert len(r.steps) == 2 and not r.ran_dry
        assert r.at_per_person is None  # 4 answers per the default 0.5 per person: not reached
    assert allowed_answers(0.5, 30) == 15 and allowed_answers(0.5, 9) == 4


def test_faces_outside_the_album_are_refused(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        ids, identity = _look_alike_album(cat)
        del identity[ids[0]]
        with pytest.raises(ValueError, match="not in the album"):
            simulate(PeopleService(cat), identity, budget=1)


@pytest.fixture(scope="module")
def tiny_album(lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 photos of 3 held-out people, 1-3 faces each, some damage; about 15 s to make."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_album import Damage, make_album

    out = tmp_path_factory.mktemp("album")
    make_album(
        lfw,
        out,
        6,
        size=(1200, 900),
        faces=(1, 3),
        face_size=(70, 220),
        seed=4,
        split="test",
        people=3,
        per_person=4,
        damage=Damage(small_share=0.0, tight_share=0.2, grayscale_share=0.2),
    )
    return out


def test_eval_queue_end_to_end(tiny_album: Path, tmp_path: Path, capsys) -> None:
    """Scan, match, cluster, answer: the printed and JSON figures agree with the truth."""
    from album.cli import main

    truth = json.loads((tiny_album / "truth.json").read_text())
    n_truth = sum(len(v) for v in truth["photos"].values())
    library = tmp_path / "lib.db"
    out = tmp_path / "q.json"
    args = ["eval", "queue", str(tiny_album), "--library", str(library), "--json", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "split          test" in text and "summary" in text
    r = json.loads(out.read_text())
    assert r["split"] == "test" and r["identities"] == 3 and r["truth_faces"] == n_truth
    assert r["budget"] == 1  # 0.5 per person, rounded down
    # every true face is either scored (matched) or counted as missed
    assert r["faces"] - r["false_faces"] + r["missed"] == n_truth
    assert r["missed"] <= 2 and r["before"]["bcubed_f"] > 0.5
    assert len(r["steps"]) <= 1 and r["ran_dry"] == (len(r["steps"]) < 1)

    # The library holds the album now: a second run reuses it (the same faces), and the
    # answers of the first run did not go into it. Truthful answers until the queue is empty
    # leave no face in a wrong group.
    with Catalog(library) as cat:
        assert cat.constraints() == [] and cat.counts().photos == len(truth["photos"])
    assert main([*args, "--answers", "50"]) == 0
    text = capsys.readouterr().out
    again = json.loads(out.read_text())
    assert again["faces"] == r["faces"] and again["before"] == r["before"]
    assert again["ran_dry"] and f"ran dry after {len(again['steps'])} answers" in text
    assert again["after"]["bcubed_precision"] >= r["before"]["bcubed_precision"]
    assert again["after"]["bcubed_f"] >= r["before"]["bcubed_f"]


def test_the_whole_queue_is_watched_once_per_question_with_its_truth(tmp_path: Path) -> None:
    from album.evaluation.calibration import observer

    with Catalog(tmp_path / "c.db") as cat:
        _, identity = _look_alike_album(cat)
        records: list = []
        seen_at: list[int] = []
        look = observer(identity, records, every=2)

        def watch(service, answers: int) -> None:
            seen_at.append(answers)
            look(service, answers)

        r = simulate(PeopleService(cat), identity, budget=6, observe=watch)
    assert seen_at == list(range(len(r.steps) + 1))  # before each answer, and at the end
    assert records and {x.answers for x in records} <= {0, 2, 4, 6}
    assert all(x.kind in ("clusters", "split", "edge", "loose") for x in records)
    # each question once, with the truth the user answered where the user was asked it
    keys = [(x.kind, min(x.a, x.b), max(x.a, x.b)) for x in records]
    assert len(set(keys)) == len(keys)
    truth = dict(zip(keys, (x.same for x in records), strict=True))
    asked = {(s.kind, min(s.face_a, s.face_b), max(s.face_a, s.face_b)): s.same for s in r.steps}
    matched = [same == truth[k] for k, same in asked.items() if k in truth]
    assert matched and all(matched)
    assert all(0.0 <= x.raw <= 1.0 for x in records)


def test_eval_calibration_end_to_end(tiny_album: Path, tmp_path: Path, capsys) -> None:
    from album.cli import main

    out = tmp_path / "questions.jsonl"
    libs = tmp_path / "libs"
    args = ["eval", "calibration", str(tiny_album), "--answers", "2", "--every", "1"]
    assert main([*args, "--libraries", str(libs), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"model     {DEFAULT_MODEL}" in text and "questions seen" in text
    assert "raw (the model's probability" in text and "shown (calibrated)" in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(0.0 <= r["raw"] <= 1.0 and r["kind"] for r in rows)
    assert (libs / f"{tiny_album.name}.db").is_file()  # kept for the next run
