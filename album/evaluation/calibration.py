"""Are the "Same person?" queue's probabilities honest? Shown versus observed, on real albums.

A probability the app shows is a promise: of the questions shown at 80%, about 80% should be
the same person. The raw probabilities are not: a pair calibration fitted on LFW's balanced
pairs, applied to the nearest face among hundreds (a minimum, so too close by chance), to
side views (LFW has almost none) and to groups (whose distances are not independent draws).

This module watches the queue as a simulated user meets it (``queue_sim.simulate``'s
``observe``): before every ``every``-th answer, every question in the whole queue is recorded
once, with its kind, whether it asks about a side view, its raw probability and the truth.
``fit`` maps raw log-odds to the observed frequency per kind and pose (a logistic fit, Platt
scaling), on albums of the dev people; ``reliability`` bins the shown probability against the
truth, on albums of the test people (``album eval calibration``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from album.people.verification import QuestionCalibration, calibrated

KINDS = ("clusters", "split", "edge", "loose")


@dataclass(frozen=True)
class Observed:
    kind: str
    side_view: bool
    raw: float  # the model's probability before calibration
    same: bool  # the truth: the two faces shown are one person
    answers: int  # answers given when the question was first seen
    a: int = 0  # the two face ids shown
    b: int = 0


def observer(
    identity: dict[int, str | None], records: list[Observed], every: int = 5
) -> Callable[[object, int], None]:
    """A ``simulate`` observer that appends each new question of the whole (uncalibrated)
    queue to ``records``, every ``every`` answers. ``identity``: face id -> true identity."""
    seen: set[tuple[str, int, int]] = set()

    def look(service, answers: int) -> None:
        if answers % every:
            return
        for q, a, b in service.queue(limit=1_000_000, calibrated=False):
            key = (q.kind, min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            same = identity.get(a) is not None and identity.get(a) == identity.get(b)
            records.append(Observed(q.kind, q.side_view, float(q.raw), same, answers, a, b))

    return look


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0 - 1e-12)
    return np.log(q / (1.0 - q))


def fit(records: Iterable[Observed], min_count: int = 30, min_each: int = 5) -> tuple:
    """Per kind and pose with at least ``min_count`` questions, ``min_each`` of each truth:
    the logistic map (slope, offset) from raw log-odds to P(same), as ``QuestionCalibration``
    entries (the others keep the raw probability)."""
    from sklearn.linear_model import LogisticRegression

    rows = list(records)
    out = []
    for kind in KINDS:
        for side in (False, True):
            sub = [r for r in rows if r.kind == kind and r.side_view == side]
            same = np.array([r.same for r in sub], dtype=bool)
            if len(sub) < min_count or min(same.sum(), (~same).sum()) < min_each:
                continue
            x = _logit(np.array([r.raw for r in sub]))[:, None]
            model = LogisticRegression(C=100.0).fit(x, same)
            out.append(
                (
                    kind,
                    side,
                    round(float(model.coef_[0, 0]), 4),
                    round(float(model.intercept_[0]), 4),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    questions: int
    shown: float  # mean probability shown
    observed: float  # share that were the same person


def shown(records: Iterable[Observed], table: QuestionCalibration | None) -> np.ndarray:
    """The probability the app shows for each record with ``table`` (None: raw, clipped)."""
    return np.array([calibrated(r.raw, r.kind, r.side_view, table) for r in records])


def reliability(
    records: list[Observed], table: QuestionCalibration | None, bins: int = 10
) -> list[Bin]:
    """Questions binned by the probability shown: how many, the mean shown, the share same."""
    return binned(shown(records, table), np.array([r.same for r in records], dtype=bool), bins)


def binned(p: np.ndarray, same: np.ndarray, bins: int = 10) -> list[Bin]:
    """Probabilities shown ``p`` against outcomes ``same``, in ``bins`` equal bins (the
    non-empty ones)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for i in range(bins):
        m = (p >= edges[i]) & ((p < edges[i + 1]) | (i == bins - 1))
        if m.any():
            out.append(
                Bin(
                    float(edges[i]),
                    float(edges[i + 1]),
                    int(m.sum()),
                    float(p[m].mean()),
                    float(same[m].mean()),
                )
            )
    return out
