"""Same person? (1:1 verification), and which questions to ask the user first.

``verify`` gives the distance, a same/different verdict at the model's threshold and the
calibrated probability ``EmbedderSpec.probability_same`` (a logistic fit on LFW pairs, stored
with the model's registry entry).

``same_person_queue`` ranks questions by how much their answer is expected to fix: the
probability that the answer changes the grouping times the BCubed change it makes (joining
groups of ``a`` and ``b`` faces that are one person, or parting them, changes the summed
precision or recall of their faces by ``2ab / (a + b)``):

* ``clusters``: two neighbouring clusters (people) whose average-linkage distance (the
  root-mean-square distance between their faces, the clustering's own merge criterion) is
  near the threshold; asked about through each one's best face: "yes" merges them. Worth
  ``P(same) x 2ab / (a + b)``, with the groups' probability (:func:`group_probability`).
* ``split``: a cluster that may hold two people: split in two (2-means from its two most
  distant faces), asked about through the best face of each half: "no" parts them. Worth
  ``P(different) x 2ab / (a + b)``: clustering only joins groups it is nearly sure of, but
  look-alikes still end up together.
* ``edge``: a machine-assigned face far out at its cluster's edge (mean distance to its nearest
  cluster-mates): "no" takes it out. Worth ``P(different) x 2(s - 1) / s`` in a cluster of s.
  A turned or poor face (quality < ``POOR_QUALITY``) is asked about however sure the model is,
  once: the model's certainty means little for it.
* ``loose``: a face left alone with clustered faces within ``reach`` x threshold, asked
  about the one of their clusters (of s faces) whose mean face is nearest: "yes" brings it
  in. Worth ``P(same) x 2s / (s + 1)``. Every such face is asked
  about, however sure the model is, until the user has answered about it ``settle_after``
  times: the queue does not run dry while faces remain whose person nobody has decided, and
  a person seen once is not asked about forever.

A cluster or edge question whose answer would almost surely leave the grouping as it is
(P(change) under ``min_change``) is not asked; one whose answer would almost surely change
it is worth the most, and is asked: the clustering merges by itself only groups well within
the threshold, as a wrong merge costs the user more than a split.

``P(same)`` is the model's calibrated probability. The calibration was fitted on frontal
pairs; a turned face sits further from its own person's frontal faces, so for a pair with a
turned face the distance is first reduced by ``POSE_SLACK`` (see :func:`pose_adjusted`). Edge
and loose faces are shown beside their person's best face (frontal, sharpest) rather than
their nearest neighbour, which is often another turned face and hard for the user to judge.

That raw probability is not what users see: a pair calibration applied to the nearest of many
faces, to side views and to groups promises more than it keeps (on albums of CFP's people,
side views "left alone" shown at 99-100% were the same person less than half the time). The
probability shown and ranked by is the raw one through the model's ``question_calibration``
(:func:`calibrated`: a logistic map of its log-odds per question kind and pose, fitted on
albums of dev people with ``album eval calibration --fit``), never outside ``SHOWN_RANGE``.
Questions about two groups use the model's ``group_calibration`` instead where it has one
(:func:`group_calibrated`: fitted on groups the clustering made, with their sizes and
separation, rather than the pair calibration sharpened by the sizes).

``merge_suggestions`` ranks neighbouring pairs of people by their average-linkage distance
(the closest pair of faces alone is a poor guide: among thousands of faces, some pair of
different people is always close).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from album.people.clustering import split_two
from album.people.knn import knn
from models.pose import FRONTAL, PROFILE

ProbabilityFn = Callable[[np.ndarray], np.ndarray]
# Per question kind and whether a side view is asked about: (kind, side_view, slope, offset) of
# a logistic map from the raw probability's log-odds to the probability shown
# (``models.fitted``, ``album eval calibration``).
QuestionCalibration = Sequence[tuple[str, bool, float, float]]
# Per group question kind ("clusters", "split") and pose: (kind, side_view, a, b, e, c). Two
# groups of ``na`` and ``nb`` faces at root-mean-square distance ``d`` are one person with
# probability sigmoid(a L + b L ln g + e s + c): L is the log-odds of the pair calibration at
# ``d``, g = 2 na nb / (na + nb), and s the separation (d less the groups' mean spread, as a
# fraction of the threshold: two groups of one person sit about as far apart as each one's
# own faces). Fitted on groups the clustering made of dev people (``album eval groups
# --fit``), so how much a group's size and spread add is measured, not assumed.
GroupCalibration = Sequence[tuple[str, bool, float, float, float, float]]
# A question the app still asks is never shown as certain.
SHOWN_RANGE = (0.01, 0.99)


def calibrated(p: float, kind: str, side_view: bool, table: QuestionCalibration | None) -> float:
    """The probability shown for a question: the raw ``p`` through ``table``'s entry for its
    kind and pose (the kind's other entry when one is missing; ``p`` as it is without any),
    kept within ``SHOWN_RANGE``."""
    entry = None
    for k, side, slope, offset in table or ():
        if k == kind and (entry is None or side == side_view):
            entry = (slope, offset)
    if entry is not None:
        q = min(max(float(p), 1e-12), 1.0 - 1e-12)
        z = entry[0] * float(np.log(q / (1.0 - q))) + entry[1]
        p = float(1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0))))
    return within_shown_range(p)


def group_calibrated(
    pair: float,
    sizes: tuple[int, int],
    separation: float,
    kind: str,
    side_view: bool,
    table: GroupCalibration | None,
) -> float | None:
    """The probability shown for a question about two groups (``GroupCalibration``) from
    ``pair``, the pair calibration at their RMS distance, their ``sizes`` and
    ``separation``; None when ``table`` has no entry for the kind (the kind's other pose
    entry serves when one is missing)."""
    entry = None
    for k, side, *coef in table or ():
        if k == kind and (entry is None or side == side_view):
            entry = coef
    if entry is None:
        return None
    a, b, e, c = entry
    q = min(max(float(pair), 1e-12), 1.0 - 1e-12)
    logit = float(np.log(q / (1.0 - q)))
    z = a * logit + b * logit * float(np.log(_gain(*sizes))) + e * separation + c
    return within_shown_range(float(1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))))


def separation(distance: float, spreads: tuple[float, float], threshold: float) -> float:
    """How much further apart two groups are than their own faces, as a fraction of the
    threshold."""
    return (distance - 0.5 * (spreads[0] + spreads[1])) / threshold


def within_shown_range(p: float) -> float:
    """``p`` kept within ``SHOWN_RANGE``: what a question still asked may show."""
    return min(max(float(p), SHOWN_RANGE[0]), SHOWN_RANGE[1])


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


# How much further (fraction of the threshold) a profile face sits from its own person than a
# frontal face does; turned faces in between get a share. Fitted on the dev half of LFW's
# people (album eval lfw --split dev --pairs): see ARCHITECTURE.md.
POSE_SLACK = 0.025
# Faces below this quality (album.scan.quality: small, blurred, doubtful) are asked about
# like turned ones, however sure the model is of them.
POOR_QUALITY = 0.6


def pose_adjusted(
    d: np.ndarray | float, yaw_a: np.ndarray | float, yaw_b: np.ndarray | float, threshold: float
) -> np.ndarray:
    """Distance ``d`` less the slack owed to the more turned face of the pair (degrees)."""
    turn = np.maximum(np.abs(np.asarray(yaw_a, float)), np.abs(np.asarray(yaw_b, float)))
    share = np.clip((turn - FRONTAL) / (PROFILE - FRONTAL), 0.0, 1.0)
    return np.asarray(d, float) - POSE_SLACK * threshold * share


def _split_question(
    x: np.ndarray,
    labels: np.ndarray,
    c: int,
    prob: ProbabilityFn,
    fixed: np.ndarray,
    done: set[tuple[int, int]],
    quality: np.ndarray | None,
    yaw: np.ndarray | None,
    min_size: int = 4,
    calibration: QuestionCalibration | None = None,
    groups: GroupCalibration | None = None,
    threshold: float = 1.0,
) -> Question | None:
    """Is cluster ``c`` two people? Its two halves (2-means from its most distant faces),
    shown through each half's best face; None when too small, or already answered."""
    rows = np.flatnonzero(labels == c)
    if len(rows) < min_size:
        return None
    xs = x[rows].astype(np.float64)
    a = int(np.argmax(np.linalg.norm(xs - xs.mean(0), axis=1)))
    b = int(np.argmax(np.linalg.norm(xs - xs[a], axis=1)))
    half = split_two(xs, a, b)
    na, nb = int((~half).sum()), int(half.sum())
    if min(na, nb) < 2:
        return None
    rms = float(
        np.sqrt(max(0.0, 2.0 - 2.0 * float(xs[~half].sum(0) @ xs[half].sum(0)) / (na * nb)))
    )
    halves = np.where(half, 1, 0)
    reps = representatives(
        halves,
        None if quality is None else np.asarray(quality)[rows],
        None if yaw is None else np.asarray(yaw)[rows],
    )
    fa, fb = int(rows[reps[0]]), int(rows[reps[1]])
    if (min(fa, fb), max(fa, fb)) in done or (fixed[fa] and fixed[fb]):
        return None
    pair = float(prob(rms))
    raw = group_probability(pair, na, nb)
    side = _is_side(yaw, fa) or _is_side(yaw, fb)
    spreads = (spread(xs[~half].sum(0), na), spread(xs[half].sum(0), nb))
    apart = separation(rms, spreads, threshold)
    p = group_calibrated(pair, (na, nb), apart, "split", side, groups)
    if p is None:
        p = calibrated(raw, "split", side, calibration)
    return Question(
        "split",
        fa,
        fb,
        rms,
        p,
        (1.0 - p) * _gain(na, nb),
        f"a cluster of {len(rows)} faces that may be two people: halves of {na} and {nb}, "
        f"average distance {rms:.3f} (P(same) {p:.2f})",
        raw,
        side,
        (na, nb),
        spreads,
    )


def _nearest_mean(v: np.ndarray, clusters: np.ndarray, sums: dict[int, np.ndarray]) -> int:
    """Of ``clusters``, the one whose mean direction (``sums``: per cluster, the sum of its
    unit vectors) is nearest to ``v``."""
    if len(clusters) == 1:
        return int(clusters[0])
    cos = [
        float(v @ sums[int(c)]) / max(float(np.linalg.norm(sums[int(c)])), 1e-12) for c in clusters
    ]
    return int(clusters[int(np.argmax(cos))])


def _is_side(yaw: np.ndarray | None, row: int) -> bool:
    return yaw is not None and abs(float(np.asarray(yaw)[row])) >= PROFILE


def group_probability(p: float, a: int, b: int) -> float:
    """P(same) for two groups of ``a`` and ``b`` faces from ``p``, the pair calibration at
    their root-mean-square distance: the log-odds scaled by the groups' effective number of
    independent comparisons, ``2ab / (a + b)`` (1 for two faces). An average over many faces
    is far less noisy than one pair's distance, so groups that are a little further apart
    than the threshold are almost surely two people, and a little closer, one."""
    p = min(max(float(p), 1e-12), 1.0 - 1e-12)
    z = float(np.log(p / (1.0 - p))) * _gain(a, b)
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0))))


def _gain(a: int, b: int) -> float:
    """BCubed change (summed over faces) of joining or parting groups of a and b faces."""
    return 2.0 * a * b / (a + b) if a > 0 and b > 0 else 0.0


def representatives(
    labels: np.ndarray, quality: np.ndarray | None, yaw: np.ndarray | None
) -> dict[int, int]:
    """Per label, the row that shows the person best: frontal first, then sharpest."""
    n = len(labels)
    q = np.ones(n) if quality is None else np.asarray(quality, float)
    frontal = np.ones(n, bool) if yaw is None else np.abs(np.asarray(yaw, float)) < FRONTAL
    order = np.lexsort((-q, ~frontal))  # frontal first, then best quality
    out: dict[int, int] = {}
    for i in order.tolist():
        out.setdefault(int(labels[i]), i)
    out.pop(-1, None)
    return out


@dataclass(frozen=True)
class Question:
    """Are rows ``a`` and ``b`` the same person? ``kind``: clusters, split, edge or loose.
    ``probability`` is the one shown (calibrated, never 0 or 1); ``raw`` the model's before
    calibration; ``side_view``: a face asked about is a side view (|yaw| >= PROFILE)."""

    kind: str
    a: int
    b: int
    distance: float
    probability: float
    score: float
    reason: str
    raw: float = 0.0
    side_view: bool = False
    sizes: tuple[int, int] = (1, 1)  # faces on each side (the two groups, or a face and one)
    # Each group's own spread: the RMS distance between its faces (0 for a single face).
    spreads: tuple[float, float] = (0.0, 0.0)


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


def spread(total: np.ndarray, n: int) -> float:
    """The RMS distance between the ``n`` unit vectors whose sum is ``total`` (over every
    pair, each with itself included)."""
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * float(total @ total) / (n * n)))) if n else 0.0


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
        p = within_shown_range(float(prob(avg)))  # a suggestion: never certain
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
    min_change: float = 0.05,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
    yaw: np.ndarray | None = None,
    quality: np.ndarray | None = None,
    reach: float = 1.5,
    settle_after: int = 2,
    calibration: QuestionCalibration | None = None,
    groups: GroupCalibration | None = None,
) -> list[Question]:
    """The ``limit`` most useful "same person?" questions, best first.

    ``labels``: cluster (person) of each row or -1. ``fixed``: rows the user confirmed (never
    asked about as edge faces). ``answered``: row pairs already answered (skipped).
    ``forbidden``: label pairs known to be different (no cluster question between them).
    ``yaw`` (degrees) and ``quality`` (0..1) per row: pose-aware probabilities and the face
    shown for a person (None: all frontal, all equal). ``min_change``: a question whose answer
    changes the grouping with a lower probability is not asked. ``calibration``: how the
    model's raw probability becomes the one shown and ranked by (``calibrated``); the
    filters above read the raw one. ``groups``: the same for questions about two groups
    (``GroupCalibration``), where it has an entry.
    """
    labels = np.asarray(labels)
    n = len(labels)
    prob = probability or logistic(threshold)
    fixed = np.zeros(n, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    turn = np.zeros(n) if yaw is None else np.abs(np.asarray(yaw, dtype=np.float64))
    qual = np.ones(n) if quality is None else np.asarray(quality, dtype=np.float64)
    done = {(min(a, b), max(a, b)) for a, b in answered}
    refusals = np.zeros(n, dtype=np.int64)  # answered pairs per row (a "no" or a "yes")
    for a, b in done:
        refusals[a] += 1
        refusals[b] += 1
    no = {(min(a, b), max(a, b)) for a, b in forbidden}
    idx, dist = neighbours if neighbours is not None else knn(x, k)
    sizes = np.bincount(labels[labels >= 0], minlength=int(labels.max(initial=-1)) + 1)
    best_face = representatives(labels, quality, yaw)
    out: list[Question] = []

    def p_same(i: int, j: int, d: float) -> float:
        return float(prob(pose_adjusted(d, turn[i], turn[j], threshold)))

    sums, _ = _rms(x, labels)
    out.extend(
        _cluster_questions(
            labels,
            idx,
            dist,
            sums,
            sizes,
            best_face,
            prob,
            turn,
            no,
            done,
            min_change,
            calibration,
            groups,
            threshold,
        )
    )

    for c in range(len(sizes)):
        # Never left out: a split the model is sure of scores next to nothing and comes last,
        # so it only keeps the queue from running dry.
        q = _split_question(
            x,
            labels,
            c,
            prob,
            fixed,
            done,
            quality,
            yaw,
            calibration=calibration,
            groups=groups,
            threshold=threshold,
        )
        if q is not None:
            out.append(q)

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
            j = best_face.get(int(li), int(row_i[mates][0]))
            if j == i:
                j = int(row_i[mates][0])
            kind, why = (
                "edge",
                f"at the edge of its cluster of {sizes[li]}: mean distance "
                f"{d_in:.3f} to its nearest cluster-mates",
            )
            # A turned or poor face's place is never sure: asked until answered once.
            floor = 0.0 if turn[i] >= FRONTAL or qual[i] < POOR_QUALITY else min_change
            worth = _gain(1, sizes[li] - 1)
        elif li < 0:
            clustered = (labels[row_i] >= 0) & (row_d <= reach * threshold)
            if not clustered.any() or refusals[i] >= settle_after:
                continue
            # Asked about the neighbouring cluster whose mean face is nearest, not the one
            # with the nearest face: a side view's nearest face is often another person's
            # side view (on albums of CFP's dev people that cluster was right for 14 of 40
            # faces left alone, the nearest mean for 23).
            c = _nearest_mean(x[i], np.unique(labels[row_i[clustered]]), sums)
            sel = clustered & (labels[row_i] == c)
            near = int(row_i[sel][0])
            d_in = float(row_d[sel][0])
            j = best_face.get(c, near)
            kind, why = (
                "loose",
                f"left alone; the cluster of {sizes[c]} whose mean face is nearest has a face "
                f"{d_in:.3f} away",
            )
            floor = 0.0  # asked however sure the model is (see the module docstring)
            worth = _gain(1, sizes[c])
        else:
            continue
        if (min(i, j), max(i, j)) in done:
            continue
        p = p_same(i, j, d_in)
        change = p if kind == "loose" else 1.0 - p
        if change < floor:
            continue
        side = bool(turn[i] >= PROFILE or turn[j] >= PROFILE)
        shown = calibrated(p, kind, side, calibration)
        # Loose faces the model is sure about still come, after every other question.
        score = max((shown if kind == "loose" else 1.0 - shown) * worth, 1e-6)
        out.append(
            Question(
                kind,
                i,
                j,
                float(np.linalg.norm(x[i] - x[j])),
                shown,
                score,
                why + f" (P(same) {shown:.2f})",
                p,
                side,
            )
        )
    out.sort(key=lambda q: -q.score)
    return out[:limit]


def _cluster_questions(
    labels: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    sums: np.ndarray,
    sizes: np.ndarray,
    best_face: dict[int, int],
    prob: ProbabilityFn,
    turn: np.ndarray,
    no: set[tuple[int, int]],
    done: set[tuple[int, int]],
    min_change: float,
    calibration: QuestionCalibration | None,
    groups: GroupCalibration | None,
    threshold: float,
) -> list[Question]:
    """Questions "are these two groups one person?" about neighbouring groups not known to
    differ."""
    out: list[Question] = []
    best, _ = _cross_pairs(labels, idx, dist)
    for (a, b), (dmin, fa, fb, _) in best.items():
        if (a, b) in no or (min(fa, fb), max(fa, fb)) in done:
            continue
        avg = rms_distance(sums, sizes, a, b)
        pair = float(prob(avg))
        p = group_probability(pair, sizes[a], sizes[b])
        # Shown through each person's best face: "yes" merges the two groups, so the user
        # judges the people, not the closest pair (often a stray face of the other person).
        fa, fb = best_face.get(a, fa), best_face.get(b, fb)
        if (min(fa, fb), max(fa, fb)) in done:
            continue
        side = bool(turn[fa] >= PROFILE or turn[fb] >= PROFILE)
        spreads = (spread(sums[a], int(sizes[a])), spread(sums[b], int(sizes[b])))
        size = (int(sizes[a]), int(sizes[b]))
        apart = separation(avg, spreads, threshold)
        shown = group_calibrated(pair, size, apart, "clusters", side, groups)
        # Not asked when the answer would almost surely leave the groups apart: by the group
        # calibration where the model has one, else by the raw probability.
        if (p if shown is None else shown) < min_change:
            continue
        if shown is None:
            shown = calibrated(p, "clusters", side, calibration)
        out.append(
            Question(
                "clusters",
                fa,
                fb,
                avg,
                shown,
                shown * _gain(sizes[a], sizes[b]),
                f"clusters of {sizes[a]} and {sizes[b]} faces, average distance "
                f"{avg:.3f} (P(same) {shown:.2f}), closest faces {dmin:.3f} apart; each "
                "one's best face is shown",
                p,
                side,
                size,
                spreads,
            )
        )
    return out
