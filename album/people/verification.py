"""Same person? (1:1 verification), and which questions to ask the user first.

``verify`` gives the distance, a same/different verdict at the model's threshold and the
calibrated probability ``EmbedderSpec.probability_same`` (a logistic fit on LFW pairs, stored
with the model's registry entry).

``same_person_queue`` ranks the pairs of faces whose answer would change the clusters most:

* ``clusters``: two neighbouring clusters (people) whose average-linkage distance (the
  root-mean-square distance between their faces, the clustering's own merge criterion) is
  near the threshold; asked about through their closest faces: "yes" merges them. Worth
  ``uncertainty x sqrt(size_a x size_b)``.
* ``edge``: a machine-assigned face far out at its cluster's edge (mean distance to its nearest
  cluster-mates near the threshold), paired with its nearest cluster-mate: "no" takes it out.
* ``loose``: a face left alone whose nearest clustered face is near the threshold: "yes"
  brings it in.

Uncertainty is ``1 - |2p - 1|`` with ``p`` the calibrated probability: 1 at p = 0.5, 0 when
the model is sure. ``merge_suggestions`` ranks neighbouring pairs of people by their
average-linkage distance (the closest pair of faces alone is a poor guide: among thousands of
faces, some pair of different people is always close).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from album.people.knn import knn

ProbabilityFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Verdict:
    distance: float
    same: bool  # distance < threshold
    probability: float  # calibrated P(same person)
    threshold: float
    model: str


def verify(a: np.ndarray, b: np.ndarray, spec) -> Verdict:
    """Compare two embeddings with the model ``spec`` (a ``models.registry.EmbedderSpec``)."""
    d = float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
    return Verdict(
        d, d < spec.threshold, float(spec.probability_same(d)), spec.threshold, spec.name
    )


def logistic(threshold: float, slope: float = 12.0) -> ProbabilityFn:
    """P(same | d) = 1 / (1 + exp(slope (d - threshold))): the fallback calibration."""
    return lambda d: 1.0 / (1.0 + np.exp(slope * (np.asarray(d) - threshold)))


def uncertainty(p: np.ndarray) -> np.ndarray:
    return 1.0 - np.abs(2.0 * np.asarray(p) - 1.0)


@dataclass(frozen=True)
class Question:
    """Are rows ``a`` and ``b`` the same person? ``kind``: clusters, edge or loose."""

    kind: str
    a: int
    b: int
    distance: float
    probability: float
    score: float
    reason: str


@dataclass(frozen=True)
class MergeSuggestion:
    """People (cluster labels) ``a`` and ``b`` may be one: their closest faces are rows
    ``face_a`` and ``face_b`` at ``distance``; ``close_pairs`` neighbour pairs are under the
    threshold."""

    a: int
    b: int
    face_a: int
    face_b: int
    distance: float
    probability: float
    close_pairs: int
    reason: str


def _cross_pairs(labels: np.ndarray, idx: np.ndarray, dist: np.ndarray):
    """Per pair of different labels (lo, hi): [min distance, row lo, row hi, pairs counted]."""
    n, k = idx.shape
    rows = np.repeat(np.arange(n), k)
    cols, d = idx.ravel(), dist.ravel()
    ok = cols >= 0
    rows, cols, d = rows[ok], cols[ok], d[ok]
    la, lb = labels[rows], labels[cols]
    keep = (la >= 0) & (lb >= 0) & (la != lb)
    rows, cols, d, la, lb = rows[keep], cols[keep], d[keep], la[keep], lb[keep]
    swap = la > lb
    rows, cols = np.where(swap, cols, rows), np.where(swap, rows, cols)
    la, lb = np.minimum(la, lb), np.maximum(la, lb)
    order = np.lexsort((d, lb, la))
    best: dict[tuple[int, int], list] = {}
    for i in order.tolist():
        key = (int(la[i]), int(lb[i]))
        entry = best.get(key)
        if entry is None:
            best[key] = [float(d[i]), int(rows[i]), int(cols[i]), 1]
        else:
            entry[3] += 1
    return best, (la, lb, d)


def _rms(x: np.ndarray, labels: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per label: the sum of its unit vectors, and the sizes (for average-linkage distances)."""
    valid = labels >= 0
    size = np.bincount(labels[valid], minlength=int(labels.max(initial=-1)) + 1)
    sums: dict[int, np.ndarray] = {}
    for lab in np.unique(labels[valid]).tolist():
        sums[lab] = x[labels == lab].astype(np.float64).sum(0)
    return sums, size


def rms_distance(sums: dict[int, np.ndarray], size: np.ndarray, a: int, b: int) -> float:
    """Root-mean-square distance between the faces of labels a and b (unit vectors)."""
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * float(sums[a] @ sums[b]) / (size[a] * size[b]))))


def merge_suggestions(
    x: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    probability: ProbabilityFn | None = None,
    forbidden: Iterable[tuple[int, int]] = (),
    slack: float = 0.1,
    k: int = 10,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[MergeSuggestion]:
    """Pairs of labels whose closest faces are within ``threshold + slack``, closest first.
    ``forbidden``: label pairs known to be different people (a cannot-link between them)."""
    labels = np.asarray(labels)
    prob = probability or logistic(threshold)
    idx, dist = neighbours if neighbours is not None else knn(x, k)
    best, (la, lb, d) = _cross_pairs(labels, idx, dist)
    sums, size = _rms(x, labels)
    no = {(min(a, b), max(a, b)) for a, b in forbidden}
    out = []
    for (a, b), (dmin, fa, fb, _) in best.items():
        if (a, b) in no:
            continue
        avg = rms_distance(sums, size, a, b)
        if avg > threshold + slack:
            continue
        close = int(((la == a) & (lb == b) & (d < threshold)).sum())
        p = float(prob(avg))
        out.append(
            MergeSuggestion(
                a,
                b,
                fa,
                fb,
                avg,
                p,
                close,
                f"average distance between their faces {avg:.3f} (P(same) {p:.2f}); closest "
                f"faces {dmin:.3f} apart; {close} neighbouring pair{'s' if close != 1 else ''} "
                f"under {threshold:.2f}",
            )
        )
    out.sort(key=lambda m: (m.distance, -m.close_pairs))
    return out


def same_person_queue(
    x: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    probability: ProbabilityFn | None = None,
    fixed: np.ndarray | None = None,
    answered: Iterable[tuple[int, int]] = (),
    forbidden: Iterable[tuple[int, int]] = (),
    limit: int = 20,
    k: int = 10,
    min_uncertainty: float = 0.05,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Question]:
    """The ``limit`` most useful "same person?" questions, best first.

    ``labels``: cluster (person) of each row or -1. ``fixed``: rows the user confirmed (never
    asked about as edge faces). ``answered``: row pairs already answered (skipped).
    ``forbidden``: label pairs known to be different (no cluster question between them).
    """
    labels = np.asarray(labels)
    n = len(labels)
    prob = probability or logistic(threshold)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    done = {(min(a, b), max(a, b)) for a, b in answered}
    no = {(min(a, b), max(a, b)) for a, b in forbidden}
    idx, dist = neighbours if neighbours is not None else knn(x, k)
    sizes = np.bincount(labels[labels >= 0], minlength=int(labels.max(initial=-1)) + 1)
    out: list[Question] = []

    best, _ = _cross_pairs(labels, idx, dist)
    sums, _ = _rms(x, labels)
    for (a, b), (dmin, fa, fb, _) in best.items():
        if (a, b) in no or (min(fa, fb), max(fa, fb)) in done:
            continue
        avg = rms_distance(sums, sizes, a, b)
        p = float(prob(avg))
        u = float(uncertainty(p))
        if u < min_uncertainty:
            continue
        score = u * float(np.sqrt(sizes[a] * sizes[b]))
        out.append(
            Question(
                "clusters",
                fa,
                fb,
                avg,
                p,
                score,
                f"clusters of {sizes[a]} and {sizes[b]} faces, average distance "
                f"{avg:.3f} (P(same) {p:.2f}); their closest faces, {dmin:.3f} "
                "apart, are shown",
            )
        )

    for i in range(n):
        li = labels[i]
        row_i, row_d = idx[i], dist[i]
        ok = row_i >= 0
        row_i, row_d = row_i[ok], row_d[ok]
        if li >= 0 and not fixed[i]:
            mates = labels[row_i] == li
            if not mates.any():
                continue
            d_in = float(row_d[mates][:3].mean())
            j = int(row_i[mates][0])
            kind, why = (
                "edge",
                f"at the edge of its cluster of {sizes[li]}: mean distance "
                f"{d_in:.3f} to its nearest cluster-mates",
            )
        elif li < 0:
            clustered = labels[row_i] >= 0
            if not clustered.any():
                continue
            j = int(row_i[clustered][0])
            d_in = float(row_d[clustered][0])
            kind, why = (
                "loose",
                f"left alone; a face of a cluster of {sizes[labels[j]]} is {d_in:.3f} away",
            )
        else:
            continue
        if (min(i, j), max(i, j)) in done:
            continue
        p = float(prob(d_in))
        u = float(uncertainty(p))
        if u < min_uncertainty:
            continue
        out.append(
            Question(
                kind, i, j, float(np.linalg.norm(x[i] - x[j])), p, u, why + f" (P(same) {p:.2f})"
            )
        )
    out.sort(key=lambda q: -q.score)
    return out[:limit]
