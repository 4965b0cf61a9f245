"""The probabilities of questions about two groups, fitted and checked on groups the app's own
clustering makes.

"Are these two groups one person?" (``clusters``) and "is this group two people?" (``split``)
are about groups, not pairs. The pair calibration sharpened by the groups' sizes
(``album.people.verification.group_probability``) treats the distances between two groups'
faces as independent draws; between two look-alike people they are not, so it promises too
much. Here the groups are real: albums are drawn from labelled faces of one half of the people
(``dev`` to fit, ``test`` to check), each album is grouped by ``album.people.clustering`` at
the model's threshold with the faces' poses, and every group question the queue would ask
about it (``same_person_queue``, none filtered out) is recorded with its truth: whether the
two faces shown are one person, as a user would answer.

Sources: LFW's people with at least 10 images (frontal and turned faces), and CFP's people
(10 frontal photos and 4 real side views each). An album takes ``people`` people at random,
each with a number of faces drawn log-uniformly between 2 and ``most`` (as a family album has
a few people in many photos and many in a few).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from album.evaluation.calibration import Bin, binned
from album.evaluation.lfw_faces import LabelledFaces
from album.people.clustering import cluster
from album.people.verification import (
    GroupCalibration,
    group_calibrated,
    same_person_queue,
    separation,
    within_shown_range,
)
from models.registry import EmbedderSpec

GROUP_KINDS = ("clusters", "split")


@dataclass(frozen=True)
class GroupQuestion:
    kind: str  # "clusters" or "split"
    side_view: bool  # a face shown is a side view
    pair: float  # the pair calibration at the groups' root-mean-square distance
    sizes: tuple[int, int]
    raw: float  # the pair calibration sharpened by the sizes (what the app showed before)
    same: bool  # the two faces shown are one person
    source: str  # which labelled faces the album came from
    faces: tuple[int, int] = (-1, -1)  # the rows (of the labelled faces) shown
    distance: float = 0.0  # between the groups (RMS)
    spreads: tuple[float, float] = (0.0, 0.0)  # within each group (RMS)


def draw_album(
    labels: np.ndarray, rng: np.random.Generator, people: int = 30, most: int = 40
) -> np.ndarray:
    """Row indices of an album: ``people`` identities, each with 2..``most`` of their faces
    (log-uniform, at most what they have)."""
    ids = np.unique(labels)
    chosen = rng.choice(ids, size=min(people, len(ids)), replace=False)
    rows: list[np.ndarray] = []
    for person in chosen:
        own = np.flatnonzero(labels == person)
        n = round(float(np.exp(rng.uniform(np.log(2), np.log(most)))))
        rows.append(rng.choice(own, size=min(n, len(own)), replace=False))
    return np.sort(np.concatenate(rows))


def album_questions(
    faces: LabelledFaces, rows: np.ndarray, spec: EmbedderSpec, source: str
) -> list[GroupQuestion]:
    """Every group question the queue asks about the album ``rows`` of ``faces`` once the
    clustering has grouped it."""
    x = faces.embeddings[rows]
    yaw = faces.yaw[rows] if faces.yaw is not None else np.zeros(len(rows))
    quality = faces.quality[rows]
    threshold = float(spec.threshold)
    labels = cluster(x, quality, threshold=threshold, yaw=yaw)
    questions = same_person_queue(
        x,
        labels,
        threshold,
        spec.probability_same,
        limit=10**9,
        min_change=0.0,
        yaw=yaw,
        quality=quality,
    )
    truth = faces.labels[rows]
    return [
        GroupQuestion(
            q.kind,
            q.side_view,
            float(spec.probability_same(q.distance)),
            q.sizes,
            q.raw,
            bool(truth[q.a] == truth[q.b]),
            source,
            (int(rows[q.a]), int(rows[q.b])),
            q.distance,
            q.spreads,
        )
        for q in questions
        if q.kind in GROUP_KINDS
    ]


def simulate(
    sources: Mapping[str, LabelledFaces],
    spec: EmbedderSpec,
    albums: int = 40,
    seed: int = 0,
    people: int = 30,
    most: int = 40,
) -> list[GroupQuestion]:
    """The group questions of ``albums`` albums drawn from each source."""
    rng = np.random.default_rng(seed)
    out: list[GroupQuestion] = []
    for name, faces in sources.items():
        for _ in range(albums):
            rows = draw_album(faces.labels, rng, people, most)
            out.extend(album_questions(faces, rows, spec, name))
    return out


def _separations(records: list[GroupQuestion], threshold: float) -> np.ndarray:
    return np.array([separation(r.distance, r.spreads, threshold) for r in records])


def _features(records: list[GroupQuestion], threshold: float) -> np.ndarray:
    pair = np.clip(np.array([r.pair for r in records], dtype=np.float64), 1e-12, 1.0 - 1e-12)
    logit = np.log(pair / (1.0 - pair))
    a = np.array([r.sizes[0] for r in records], dtype=np.float64)
    b = np.array([r.sizes[1] for r in records], dtype=np.float64)
    size = np.log(2.0 * a * b / (a + b))
    return np.stack([logit, logit * size, _separations(records, threshold)], axis=1)


def fit_groups(
    records: Iterable[GroupQuestion], threshold: float, min_count: int = 30, min_each: int = 5
) -> GroupCalibration:
    """Per kind and pose with at least ``min_count`` questions and ``min_each`` of each truth:
    the ``GroupCalibration`` entry (a logistic regression on the pair log-odds, its product
    with the log of the groups' effective size, and the groups' separation at the model's
    ``threshold``). A pose with too few questions takes the kind's other entry
    (``group_calibrated``)."""
    rows = list(records)
    out = []
    for kind in GROUP_KINDS:
        for side in (False, True):
            sub = [r for r in rows if r.kind == kind and r.side_view == side]
            same = np.array([r.same for r in sub], dtype=bool)
            if len(sub) < min_count or min(same.sum(), (~same).sum()) < min_each:
                continue
            entry = _monotone_fit(_features(sub, threshold), same)
            if entry is not None:
                out.append((kind, side, *entry))
    return tuple(out)


def _monotone_fit(x: np.ndarray, same: np.ndarray) -> tuple[float, float, float, float] | None:
    """(a, b, e, c) of a logistic regression on the three features, provided the probability
    rises with the pair probability for every group size up to 50 faces a side and falls as
    the groups part (a shown probability that falls as the faces get closer would be no
    promise at all); else the fit on the pair log-odds alone, if that rises; else None."""
    from sklearn.linear_model import LogisticRegression

    full = LogisticRegression(C=100.0, max_iter=2000).fit(x, same)
    a, b, e = (float(v) for v in full.coef_[0])
    if min(a, a + b * np.log(50.0)) > 0 and e <= 0:
        return round(a, 4), round(b, 4), round(e, 4), round(float(full.intercept_[0]), 4)
    plain = LogisticRegression(C=100.0).fit(x[:, :1], same)
    if float(plain.coef_[0, 0]) > 0:
        return round(float(plain.coef_[0, 0]), 4), 0.0, 0.0, round(float(plain.intercept_[0]), 4)
    return None


def shown_groups(
    records: Iterable[GroupQuestion], table: GroupCalibration | None, threshold: float
) -> np.ndarray:
    """What the app shows for each question with ``table`` (None or no entry: the sharpened
    raw probability, kept within the shown range)."""
    out = []
    for r in records:
        apart = separation(r.distance, r.spreads, threshold)
        p = group_calibrated(r.pair, r.sizes, apart, r.kind, r.side_view, table)
        out.append(within_shown_range(r.raw) if p is None else p)
    return np.array(out, dtype=np.float64)


def group_reliability(
    records: list[GroupQuestion], table: GroupCalibration | None, threshold: float, bins: int = 10
) -> list[Bin]:
    """Questions binned by the probability shown: how many, the mean shown, the share same."""
    same = np.array([r.same for r in records], dtype=bool)
    return binned(shown_groups(records, table, threshold), same, bins)
