"""Honest probabilities for questions about two groups: fitted on groups the clustering made,
with how much a group's size adds measured rather than assumed."""

from __future__ import annotations

import numpy as np
import pytest

from album.evaluation.group_calibration import (
    GroupQuestion,
    album_questions,
    fit_groups,
    group_reliability,
    shown_groups,
)
from album.evaluation.lfw_faces import LabelledFaces
from album.people.verification import (
    SHOWN_RANGE,
    group_calibrated,
    group_probability,
    same_person_queue,
    separation,
)
from models.registry import get_spec


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


def test_the_group_entry_for_the_kind_and_pose_is_used() -> None:
    table = (("clusters", False, 1.0, 0.5, -2.0, -1.0), ("split", True, 2.0, 0.0, 0.0, 0.0))
    logit = float(np.log(0.8 / 0.2))
    g = 2 * 4 * 6 / 10
    want = _sigmoid(logit + 0.5 * logit * np.log(g) - 2.0 * 0.1 - 1.0)
    assert group_calibrated(0.8, (4, 6), 0.1, "clusters", False, table) == pytest.approx(want)
    # A missing pose takes the kind's other entry; a missing kind gives None.
    assert group_calibrated(0.8, (4, 6), 0.1, "clusters", True, table) == pytest.approx(want)
    assert group_calibrated(0.8, (4, 6), 0.1, "edge", False, table) is None
    assert group_calibrated(0.8, (4, 6), 0.1, "clusters", False, ()) is None
    # Never certain while it is asked.
    assert group_calibrated(1.0 - 1e-9, (50, 50), 0.0, "split", True, table) == SHOWN_RANGE[1]
    # Groups further apart than their own faces are less likely one person.
    assert group_calibrated(0.8, (4, 6), 0.3, "clusters", False, table) < want
    assert separation(0.5, (0.2, 0.4), 0.5) == pytest.approx(0.4)


THRESHOLD = 0.5


def _records(rng: np.random.Generator, n: int) -> list[GroupQuestion]:
    """Groups whose truth follows the pair calibration with no sharpening by size at all:
    what look-alike groups do when their distances are not independent draws."""
    out = []
    for _ in range(n):
        pair = float(rng.uniform(0.02, 0.98))
        a, b = (int(v) for v in rng.integers(2, 30, size=2))
        d = float(rng.uniform(0.3, 0.7))
        out.append(
            GroupQuestion(
                "clusters",
                False,
                pair,
                (a, b),
                group_probability(pair, a, b),
                bool(rng.random() < pair),
                "test",
                distance=d,
                spreads=(d, d),
            )
        )
    return out


def test_fit_measures_what_size_adds_and_is_calibrated_on_new_groups() -> None:
    rng = np.random.default_rng(3)
    table = fit_groups(_records(rng, 3000), THRESHOLD)
    assert [e[:2] for e in table] == [("clusters", False)]
    held_out = _records(rng, 3000)
    raw = group_reliability(held_out, (), THRESHOLD)
    cal = group_reliability(held_out, table, THRESHOLD)
    # The sharpened probabilities are far off in their extreme bins; the fitted ones are not.
    assert max(abs(b.shown - b.observed) for b in raw if b.questions >= 100) > 0.2
    assert max(abs(b.shown - b.observed) for b in cal if b.questions >= 100) < 0.08
    p = shown_groups(held_out, table, THRESHOLD)
    assert SHOWN_RANGE[0] <= p.min() and p.max() <= SHOWN_RANGE[1]


def test_the_queue_shows_the_group_calibration_and_records_the_sizes() -> None:
    rng = np.random.default_rng(1)
    centre = rng.normal(size=(1, 64))
    x = centre + 0.25 * rng.normal(size=(12, 64))  # one person, grouped in two by mistake
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.repeat([0, 1], [5, 7])
    spec = get_spec("dlib-resnet-v1")
    table = (("clusters", False, 0.5, 0.0, -1.0, 0.0), ("split", False, 0.5, 0.0, -1.0, 0.0))
    args = (x, labels, spec.threshold, spec.probability_same)
    plain = {q.kind: q for q in same_person_queue(*args, min_change=0.0)}
    grouped = {q.kind: q for q in same_person_queue(*args, min_change=0.0, groups=table)}
    q = grouped["clusters"]
    assert q.sizes == (5, 7) and plain["clusters"].sizes == (5, 7)
    assert min(q.spreads) > 0 and max(q.spreads) < q.distance + 0.2
    apart = separation(q.distance, q.spreads, spec.threshold)
    pair = float(spec.probability_same(q.distance))
    want = group_calibrated(pair, (5, 7), apart, "clusters", False, table)
    assert q.probability == pytest.approx(want)
    assert q.raw == pytest.approx(plain["clusters"].raw)  # the raw one is kept


def test_album_questions_read_the_truth_of_the_faces_shown() -> None:
    rng = np.random.default_rng(0)
    spec = get_spec("dlib-resnet-v1")
    centres = rng.normal(size=(6, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(6), 8)
    x = centres[labels] + 0.02 * rng.normal(size=(48, 128))
    # Person 5 looks like person 0 (one centre, a little apart): a look-alike the
    # clustering may merge, so a group question about them is "different".
    x[labels == 5] = centres[0] + 0.02 * rng.normal(size=(8, 128))
    x[40:44] += 0.03 * rng.normal(size=(1, 128))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    faces = LabelledFaces(
        x.astype(np.float32),
        np.ones(48),
        labels,
        [str(i) for i in range(6)],
        [f"{i}.jpg" for i in range(48)],
        spec.name,
        0,
        np.ones(48, bool),
        np.zeros(48),
    )
    rows = np.arange(48)
    qs = album_questions(faces, rows, spec, "synthetic")
    assert qs and {q.source for q in qs} == {"synthetic"}
    assert all(q.kind in ("clusters", "split") for q in qs)
    assert all(min(q.sizes) >= 1 for q in qs)
    assert all(q.same == (labels[q.faces[0]] == labels[q.faces[1]]) for q in qs)
    # Persons 0 and 5 look alike (one centre): grouped together, asked apart as "different".
    assert any(not q.same and {labels[f] for f in q.faces} == {0, 5} for q in qs)
