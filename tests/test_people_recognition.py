"""Recognition (1:K), verification (1:1) and the "same person?" queue."""

from __future__ import annotations

import numpy as np
import pytest

from album.people.recognition import (
    ASSIGN,
    SUGGEST,
    UNKNOWN,
    Gallery,
    RecognitionSettings,
    identify,
)
from album.people.synthetic import synthetic_people
from album.people.verification import (
    group_probability,
    logistic,
    merge_suggestions,
    same_person_queue,
    verify,
)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def test_one_photo_is_enough_to_recognise() -> None:
    x, y = synthetic_people(5, 4, spread=0.25, seed=1)
    gallery = Gallery(x[y == 0][:1], [10])  # one confirmed face of person 10
    matches = identify(x[y == 0][1:], gallery, 0.42)
    assert all(m.person == 10 and m.decision in (ASSIGN, SUGGEST) for m in matches)
    strangers = identify(x[y == 3], gallery, 0.42)
    assert all(m.decision == UNKNOWN and m.person is None for m in strangers)


def test_k_nearest_faces_beat_a_centroid() -> None:
    # A person photographed in two very different looks: the centroid is near neither.
    rng = np.random.default_rng(2)
    a, b = unit(rng.standard_normal(128)), unit(rng.standard_normal(128))
    looks = unit(
        np.stack(
            [a + 0.02 * rng.standard_normal(128) for _ in range(3)]
            + [b + 0.02 * rng.standard_normal(128) for _ in range(3)]
        )
    )
    gallery = Gallery(looks, [7] * 6)
    query = unit(b + 0.02 * rng.standard_normal(128))[None]
    centroid = unit(looks.mean(0))
    assert np.linalg.norm(query[0] - centroid) > 0.42  # a centroid would miss it
    m = identify(query, gallery, 0.42)[0]
    assert m.person == 7 and m.distance < 0.42


def test_look_alikes_get_a_suggestion_not_an_assignment() -> None:
    rng = np.random.default_rng(3)
    base = unit(rng.standard_normal(128))
    p1 = unit(base + 0.015 * rng.standard_normal((3, 128)))
    p2 = unit(base + 0.015 * rng.standard_normal((3, 128)))
    gallery = Gallery(np.vstack([p1, p2]), [1, 1, 1, 2, 2, 2])
    q = unit(base + 0.015 * rng.standard_normal(128))[None]
    rec = RecognitionSettings(assign_below=0.35 / 0.42, margin=0.05 / 0.42)
    m = identify(q, gallery, 0.42, rec)[0]
    assert m.decision == SUGGEST  # both siblings are close: the user decides
    assert {c.person for c in m.candidates} == {1, 2}
    off = identify(
        x := unit(p1[:1] + 0.001),
        Gallery(p1, [1, 1, 1]),
        0.42,
        RecognitionSettings(assign_below=None),
    )[0]
    assert x.shape == (1, 128) and off.decision == SUGGEST


def test_verify_uses_the_models_threshold_and_calibration() -> None:
    from models.registry import get_spec

    spec = get_spec("dlib-resnet-v1")
    a = unit(np.ones(128))
    v = verify(a, a, spec)
    assert v.distance == pytest.approx(0, abs=1e-6) and v.same and v.probability > 0.9
    b = unit(-np.ones(128))
    v = verify(a, b, spec)
    assert not v.same and v.probability < 0.01 and v.threshold == spec.threshold
    p = np.asarray(spec.probability_same(np.array([0.2, spec.threshold, 0.8])))
    assert p[0] > p[1] > p[2]


def test_queue_asks_about_uncertain_pairs_first() -> None:
    rng = np.random.default_rng(4)
    x, labels = synthetic_people(3, 5, spread=0.2, seed=4)
    # Cluster 1 moved next to cluster 0: their closest faces sit near the threshold.
    c0, c1 = x[labels == 0].mean(0), x[labels == 1].mean(0)
    x[labels == 1] = unit(x[labels == 1] - c1 + c0 + 0.04 * unit(rng.standard_normal(128)))
    qs = same_person_queue(x, labels, 0.42, logistic(0.42))
    assert qs and qs[0].kind == "clusters"
    assert {labels[qs[0].a], labels[qs[0].b]} == {0, 1}
    answered = [(qs[0].a, qs[0].b)]
    forbidden = [(0, 1)]
    qs2 = same_person_queue(x, labels, 0.42, answered=answered, forbidden=forbidden)
    assert all({labels[q.a], labels[q.b]} != {0, 1} for q in qs2 if q.kind == "clusters")
    sugg = merge_suggestions(x, labels, 0.42)
    assert sugg and (sugg[0].a, sugg[0].b) == (0, 1) and "distance" in sugg[0].reason
    assert merge_suggestions(x, labels, 0.42, forbidden=[(1, 0)]) == [] or all(
        (m.a, m.b) != (0, 1) for m in merge_suggestions(x, labels, 0.42, forbidden=[(1, 0)])
    )


def test_queue_keeps_asking_about_lone_faces_until_settled() -> None:
    x, labels = synthetic_people(2, 6, spread=0.15, seed=9)
    rng = np.random.default_rng(9)
    # A face well beyond the threshold from person 0 (the model is sure it is someone else,
    # as it often is about a profile of a known person).
    c0 = x[labels == 0].mean(0)
    far = unit(c0 / np.linalg.norm(c0) + 0.05 * unit(rng.standard_normal(128)))
    while np.linalg.norm(x[labels == 0] - far, axis=1).min() < 0.5:
        far = unit(far + 0.02 * unit(rng.standard_normal(128)))
    x = np.vstack([x, far[None]]).astype(np.float32)
    labels = np.append(labels, -1)
    lone = len(x) - 1
    qs = same_person_queue(x, labels, 0.42, logistic(0.42, slope=60), limit=50)
    mine = [q for q in qs if lone in (q.a, q.b)]
    assert mine and mine[0].kind == "loose" and mine[0].probability < 0.05
    # Turned, the same face gets a fairer chance: its distance is discounted.
    yaw = np.zeros(len(x))
    yaw[lone] = 80.0
    turned = same_person_queue(x, labels, 0.42, logistic(0.42, slope=60), limit=50, yaw=yaw)
    assert next(q for q in turned if lone in (q.a, q.b)).probability > mine[0].probability
    # Two answers about it settle it: it is not asked again.
    others = np.flatnonzero(labels == 0)[:2]
    done = [(lone, int(o)) for o in others]
    later = same_person_queue(x, labels, 0.42, logistic(0.42, slope=60), answered=done)
    assert all(lone not in (q.a, q.b) for q in later)


def test_group_probability_sharpens_with_the_groups_sizes() -> None:
    assert group_probability(0.8, 1, 1) == pytest.approx(0.8)  # two faces: the pair's own
    assert group_probability(0.5, 20, 20) == pytest.approx(0.5)
    small, big = group_probability(0.8, 2, 2), group_probability(0.8, 10, 10)
    assert 0.8 < small < big
    assert group_probability(0.2, 10, 10) < 1e-4  # a little beyond: surely two people
    assert group_probability(1e-300, 500, 500) == pytest.approx(0.0)  # no overflow


def test_cluster_questions_show_each_persons_best_face() -> None:
    rng = np.random.default_rng(4)
    x, labels = synthetic_people(3, 5, spread=0.2, seed=4)
    c0, c1 = x[labels == 0].mean(0), x[labels == 1].mean(0)
    x[labels == 1] = unit(x[labels == 1] - c1 + c0 + 0.04 * unit(rng.standard_normal(128)))
    quality = np.full(len(x), 0.8)
    best = {0: int(np.flatnonzero(labels == 0)[3]), 1: int(np.flatnonzero(labels == 1)[2])}
    quality[list(best.values())] = 1.0
    qs = same_person_queue(x, labels, 0.42, logistic(0.42), quality=quality)
    q = next(q for q in qs if q.kind == "clusters" and {labels[q.a], labels[q.b]} == {0, 1})
    # Not the closest pair: "yes" merges the two people, so the user judges the people.
    assert {q.a, q.b} == set(best.values())
