"""Verification metrics and LFW pairs parsing."""

from __future__ import annotations

import numpy as np

from album.evaluation.lfw import read_pairs
from album.evaluation.metrics import (
    best_threshold,
    kfold_report,
    threshold_for_far,
    val_far,
)


def test_best_threshold_separates_separable_pairs() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    same = np.array([1, 1, 1, 0, 0, 0], bool)
    t = best_threshold(d, same)
    assert 0.3 < t < 0.7
    assert best_threshold(np.array([0.5, 0.5]), np.array([True, False])) != 0.5


def test_threshold_for_far_allows_at_most_the_target_rate() -> None:
    rng = np.random.default_rng(0)
    neg = rng.uniform(0.5, 1.5, 2000)
    pos = rng.uniform(0.0, 0.8, 2000)
    d = np.concatenate([pos, neg])
    same = np.concatenate([np.ones(2000, bool), np.zeros(2000, bool)])
    t = threshold_for_far(d, same, 1e-3)
    val, far = val_far(d, same, t)
    assert far <= 1e-3
    assert (neg < t).sum() == 2  # floor(0.001 * 2000)
    assert val == np.mean(pos < t)


def test_kfold_report_on_noisy_pairs() -> None:
    rng = np.random.default_rng(1)
    n = 600
    same = np.tile([True, False], n // 2)
    d = np.where(same, rng.normal(0.3, 0.08, n), rng.normal(0.7, 0.08, n))
    folds = np.repeat(np.arange(10), n // 10)
    r = kfold_report(d, same, folds)
    expected = np.mean((d < 0.5) == same)
    assert abs(r.accuracy - expected) < 0.02
    assert 0.4 < r.threshold < 0.6 and len(r.fold_thresholds) == 10
    assert 0.99 < r.auc <= 1.0
    assert 0.0 <= r.val_at_far <= 1.0


def test_reads_the_official_pairs_file(lfw) -> None:
    pairs = read_pairs(lfw / "pairs.txt")
    assert len(pairs) == 6000
    assert sum(p.same for p in pairs) == 3000
    assert {p.fold for p in pairs} == set(range(10))
    first = pairs[0]
    assert first.same and first.a.startswith("Abel_Pacheco/") and (lfw / first.a).is_file()
    assert all((lfw / p.b).is_file() for p in pairs[:50])
