"""Judging a personal head on the user's own people: each fold of confirmed faces (and of
answered pairs) is held out once from a head trained on the rest, and the held-out faces are
identified against the rest (1:K, as the app does) before and after; "same person?" answers
are scored on held-out pairs. :class:`Figures` holds the counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from training.head import apply_matrix
from training.personal_data import PersonalData, Relations, relations
from training.personal_fit import PersonalSettings, fit_head, margin_for


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of unit vectors ``a`` (n, D) and ``b`` (m, D)."""
    return np.sqrt(np.clip(2.0 - 2.0 * (a @ b.T), 0.0, None))


def identify(
    gallery: np.ndarray, gallery_labels: np.ndarray, queries: np.ndarray, k: int = 3
) -> np.ndarray:
    """The person of each query face: the smallest mean distance to a person's ``k`` nearest
    gallery faces (fewer when the person has fewer), as ``album.people.recognition`` does."""
    d = pairwise(queries, gallery)
    people = np.unique(gallery_labels)
    score = np.empty((len(queries), len(people)))
    for j, c in enumerate(people):
        dc = np.sort(d[:, gallery_labels == c], axis=1)[:, :k]
        score[:, j] = dc.mean(1)
    return people[np.argmin(score, axis=1)] if len(queries) else np.zeros(0, np.int64)


def scale_ratio(before: np.ndarray, after: np.ndarray, rel: Relations) -> float:
    """How much the head stretched distances between faces known to differ (median ratio):
    the threshold and calibration follow it, so false matches stay as rare."""
    i, j = np.nonzero(np.triu(rel.neg, 1))
    if not len(i):
        return 1.0
    db = np.linalg.norm(before[i] - before[j], axis=1)
    da = np.linalg.norm(after[i] - after[j], axis=1)
    return float(np.median(da) / max(np.median(db), 1e-9))


@dataclass
class Figures:
    """Before/after counts on held-out faces and pairs."""

    faces: int = 0
    correct_before: int = 0
    correct_after: int = 0
    same_pairs: int = 0  # held-out pairs of one person
    diff_pairs: int = 0
    same_ok_before: int = 0
    same_ok_after: int = 0
    diff_ok_before: int = 0
    diff_ok_after: int = 0

    def add(self, other: Figures) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @property
    def id_before(self) -> float:
        return self.correct_before / self.faces if self.faces else math.nan

    @property
    def id_after(self) -> float:
        return self.correct_after / self.faces if self.faces else math.nan

    def _balanced(self, same_ok: int, diff_ok: int) -> float:
        parts = []
        if self.same_pairs:
            parts.append(same_ok / self.same_pairs)
        if self.diff_pairs:
            parts.append(diff_ok / self.diff_pairs)
        return float(np.mean(parts)) if parts else math.nan

    @property
    def same_before(self) -> float:
        """'Same person?' accuracy (mean of the same-pair and different-pair accuracies)."""
        return self._balanced(self.same_ok_before, self.diff_ok_before)

    @property
    def same_after(self) -> float:
        return self._balanced(self.same_ok_after, self.diff_ok_after)


def _score_pairs(
    fig: Figures, d_before, d_after, same: np.ndarray, t_before: float, t_after: float
) -> None:
    fig.same_pairs += int(same.sum())
    fig.diff_pairs += int((~same).sum())
    fig.same_ok_before += int((d_before[same] < t_before).sum())
    fig.same_ok_after += int((d_after[same] < t_after).sum())
    fig.diff_ok_before += int((d_before[~same] >= t_before).sum())
    fig.diff_ok_after += int((d_after[~same] >= t_after).sum())


def fold_assignment(data: PersonalData, folds: int, seed: int) -> np.ndarray:
    """Fold of each confirmed face (-1: never held out). A person's faces are spread over the
    folds from a per-person offset, so no fold holds out everyone's first face; people with a
    single confirmed face are never held out (nothing would be left to recognise them by)."""
    rng = np.random.default_rng(seed)
    fold = np.full(len(data.labels), -1, dtype=np.int64)
    for c in range(len(data.people)):
        rows = np.flatnonzero(data.labels == c)
        if len(rows) < 2:
            continue
        rows = rng.permutation(rows)
        fold[rows] = (np.arange(len(rows)) + c) % folds
    return fold


def held_out_figures(
    data: PersonalData,
    threshold: float,
    settings: PersonalSettings,
    should_stop: Callable[[], bool] | None = None,
    on_fold: Callable[[int, int], None] | None = None,
) -> tuple[Figures, list[dict]]:
    """Cross-validated before/after figures: each fold of confirmed faces (and of answered
    pairs) is held out once from a head trained on the rest."""
    fold = fold_assignment(data, settings.folds, settings.seed)
    margin = margin_for(threshold, settings.margin_scale)
    total, per_fold = Figures(), []
    answered = [(a, b, False) for a, b in data.cannot] + [(a, b, True) for a, b in data.must]
    for f in range(settings.folds):
        if on_fold:
            on_fold(f, settings.folds)
        held = np.flatnonzero(fold == f)
        held_pairs = [p for i, p in enumerate(answered) if i % settings.folds == f]
        if not len(held) and not held_pairs:
            continue
        kept_pairs = [p for i, p in enumerate(answered) if i % settings.folds != f]
        train_cannot = [(a, b) for a, b, s in kept_pairs if not s]
        train_must = [(a, b) for a, b, s in kept_pairs if s]
        rel = relations(data, set(held.tolist()), train_cannot, train_must)
        m, stats = fit_head(data.embeddings, rel, margin, settings, should_stop)
        after = apply_matrix(data.embeddings, m)
        ratio = scale_ratio(data.embeddings[rel.rows], after[rel.rows], rel)
        fig = Figures()
        gallery = np.flatnonzero((data.labels >= 0) & (fold != f))
        glab = data.labels[gallery]
        if len(held):
            truth = data.labels[held]
            k = settings.k_nearest
            before_id = identify(data.embeddings[gallery], glab, data.embeddings[held], k)
            after_id = identify(after[gallery], glab, after[held], k)
            fig.faces = len(held)
            fig.correct_before = int((before_id == truth).sum())
            fig.correct_after = int((after_id == truth).sum())
            # "Same person?" between each held-out face and the faces trained on.
            same = truth[:, None] == glab[None, :]
            db = pairwise(data.embeddings[held], data.embeddings[gallery])
            da = pairwise(after[held], after[gallery])
            _score_pairs(fig, db.ravel(), da.ravel(), same.ravel(), threshold, threshold * ratio)
        if held_pairs:
            a = np.array([p[0] for p in held_pairs])
            b = np.array([p[1] for p in held_pairs])
            s = np.array([p[2] for p in held_pairs])
            db = np.linalg.norm(data.embeddings[a] - data.embeddings[b], axis=1)
            da = np.linalg.norm(after[a] - after[b], axis=1)
            _score_pairs(fig, db, da, s, threshold, threshold * ratio)
        total.add(fig)
        per_fold.append({"fold": f, **asdict(fig), "ratio": ratio, **stats})
    return total, per_fold
