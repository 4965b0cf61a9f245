"""Honest probabilities: the queue's calibration (fit, map, reliability) and what it shows."""

from __future__ import annotations

import numpy as np
import pytest

from album.evaluation.calibration import Observed, fit, reliability, shown
from album.people.verification import SHOWN_RANGE, calibrated, same_person_queue


def test_a_question_still_asked_is_never_shown_as_certain() -> None:
    assert calibrated(1.0, "loose", False, None) == SHOWN_RANGE[1]
    assert calibrated(0.0, "split", True, None) == SHOWN_RANGE[0]
    assert calibrated(0.7, "edge", False, None) == pytest.approx(0.7)


def test_the_calibration_entry_for_the_kind_and_pose_is_used() -> None:
    table = (("loose", False, 1.0, 0.0), ("loose", True, 0.2, -0.8))
    assert calibrated(0.7, "loose", False, table) == pytest.approx(0.7)
    side = calibrated(0.999, "loose", True, table)  # log-odds 6.9 -> 0.2 * 6.9 - 0.8 = 0.58
    assert side == pytest.approx(1 / (1 + np.exp(-(0.2 * np.log(999) - 0.8))))
    assert calibrated(0.999, "edge", True, table) == SHOWN_RANGE[1]  # no entry: raw, clipped
    only_frontal = (("edge", False, 0.5, 0.0),)
    assert calibrated(0.9, "edge", True, only_frontal) == pytest.approx(0.75)  # the kind's other


def test_fit_maps_overconfident_raw_probabilities_to_what_was_observed() -> None:
    rng = np.random.default_rng(0)
    records = []
    for _ in range(400):  # side views: raw says 99%, the truth is the same person 30% of times
        records.append(Observed("loose", True, 0.99, bool(rng.random() < 0.3), 0))
    for _ in range(400):  # frontal: raw is honest
        p = rng.uniform(0.05, 0.95)
        records.append(Observed("loose", False, p, bool(rng.random() < p), 0))
    table = fit(records)
    assert {(k, s) for k, s, *_ in table} == {("loose", False), ("loose", True)}
    side = [r for r in records if r.side_view]
    assert shown(side, table).mean() == pytest.approx(0.3, abs=0.06)
    for b in reliability(records, table):
        if b.questions >= 50:
            assert abs(b.shown - b.observed) < 0.1
    raw_bins = reliability(side, None)
    assert raw_bins[-1].shown == pytest.approx(0.99) and raw_bins[-1].observed < 0.4


def test_the_queue_shows_calibrated_probabilities_and_keeps_the_raw_ones() -> None:
    rng = np.random.default_rng(1)
    centre = rng.normal(size=(3, 64))
    x = np.concatenate([c + 0.05 * rng.normal(size=(6, 64)) for c in centre])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.repeat([0, 1, -1], 6)
    labels[12:] = [2, 2, 2, 2, 2, -1]  # a lone face beside the third person
    yaw = np.zeros(len(x))
    yaw[-1] = 80.0  # asked about as a side view
    table = (("loose", True, 0.1, -1.5),)

    def prob(d):  # dlib-resnet-v1's pair calibration
        return 1.0 / (1.0 + np.exp(63.73 * (np.asarray(d) - 0.4229)))

    raw = same_person_queue(x, labels, 0.42, prob, yaw=yaw)
    cal = same_person_queue(x, labels, 0.42, prob, yaw=yaw, calibration=table)
    loose_raw = [q for q in raw if q.kind == "loose"]
    loose_cal = [q for q in cal if q.kind == "loose"]
    assert loose_raw and loose_cal and loose_cal[0].side_view
    assert loose_raw[0].probability == SHOWN_RANGE[1] and loose_raw[0].raw > 0.99
    assert loose_cal[0].raw == pytest.approx(loose_raw[0].raw)
    assert loose_cal[0].probability < 0.9
    assert all(SHOWN_RANGE[0] <= q.probability <= SHOWN_RANGE[1] for q in raw + cal)
