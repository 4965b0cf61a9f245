"""Personal fine-tuning: learn from the user's own labels, judged on the user's own people.

"Improve recognition from my labels" and ``album train --from-catalog`` run this recipe:

1. **Data** (:func:`personal_data`): the catalog's stored embeddings of the model in use, the
   confirmed faces per person, and every negative the user already gave: faces rejected from a
   person ("not this person"), cannot-links ("not the same person" answers), two faces in one
   photo, and the faces of the album's other people. Must-links ("same person") are positives.
2. **Model**: a small head over the frozen network (:mod:`training.head`): ``normalize(M e)``
   with ``M`` starting at the identity, trained with the triplet loss on triplets mined over
   all of these at once (:class:`training.miners.PairMiner`: semi-hard, falling back to the
   hardest negative when no semi-hard one is left). The margin follows the model's distance
   scale: FaceNet's alpha 0.2 (squared distance) belongs to a same-person threshold of about
   1.1, so a model whose threshold is t gets ``0.2 * (t / 1.1)**2`` times ``margin_scale``.
3. **Judged on the user's people**: each person's confirmed faces (and the answered pairs) are
   split into ``folds``; each fold is held out once from a head trained on the rest, and the
   held-out faces are identified against the rest (1:K, as the app does) before and after;
   "same person?" answers are scored on held-out pairs. The head trained on everything is
   kept only if the held-out identification got better (and same-person answers no worse)
   and a fixed general check did not get worse: LFW's View 1 test pairs when a copy
   of LFW is given (people of the album left out), else pairs of album faces that no training
   used (two faces in one photo, answered pairs away from the trained faces).
4. **Saved** as a registered model (the head folded into the network's last layer), with a
   threshold scaled like the distances; :func:`adopt` re-groups the catalog with it at once
   (its embeddings are the stored ones through the head, exactly; no CNN pass).

Everything runs on stored embeddings: 15 people x 5 faces train in seconds on a CPU.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from training.head import AdaptationHead, apply_matrix
from training.loss import TripletLoss
from training.miners import PairMiner

log = logging.getLogger(__name__)

FACENET_THRESHOLD = 1.1  # the same-person distance FaceNet's alpha = 0.2 was chosen for


class PersonalTrainingError(ValueError):
    """The catalog cannot support a run yet; the message says, in words, what to do."""


@dataclass
class PersonalSettings:
    """Hyper-parameters (chosen on LFW's dev people only, see benchmarks/personal_finetune.py)."""

    steps: int = 150
    lr: float = 3e-3
    weight_decay: float = 1.0  # penalty on |M - I|^2: the head stays near the base model
    margin_scale: float = 1.0  # times the scaled FaceNet margin (module docstring)
    folds: int = 3
    k_nearest: int = 3  # identification: mean distance to a person's k nearest faces
    general_tolerance: float = 0.002  # LFW accuracy may not fall by more (2 of 1,000 pairs)
    seed: int = 0


@dataclass
class PersonalData:
    """Stored embeddings and the user's decisions, as rows of ``embeddings``."""

    model: str
    face_ids: np.ndarray  # (N,)
    embeddings: np.ndarray  # (N, D) unit vectors of ``model``
    labels: np.ndarray  # (N,) index into ``people`` for confirmed faces, else -1
    people: list[tuple[int, str]]  # (person id, display name)
    rejected: list[tuple[int, int]] = field(default_factory=list)  # (row, label): not this one
    cannot: list[tuple[int, int]] = field(default_factory=list)  # (row, row): answered "no"
    must: list[tuple[int, int]] = field(default_factory=list)  # (row, row): answered "yes"
    same_photo: list[tuple[int, int]] = field(default_factory=list)  # (row, row): one photo

    def trainable_people(self) -> list[int]:
        """Labels with two or more confirmed faces (the ones a triplet can anchor on)."""
        counts = np.bincount(self.labels[self.labels >= 0], minlength=len(self.people))
        return [int(i) for i in np.flatnonzero(counts >= 2)]


def personal_data(catalog, model: str | None = None) -> PersonalData:
    """Read what training needs from an open ``album.catalog.Catalog`` (read only)."""
    from models.registry import DEFAULT_MODEL

    model = model or catalog.model or DEFAULT_MODEL
    with catalog.read():
        ids, emb = catalog.embeddings(model)
        people = {p.id: p for p in catalog.people()}
        assignments = catalog.assignments()
        constraints = catalog.constraints()
        photo_rows = catalog.faces_by_photo()
    row = {int(f): i for i, f in enumerate(ids)}

    def active(pid: int) -> int:
        seen = {pid}
        while pid in people and people[pid].merged_into is not None:
            pid = int(people[pid].merged_into)
            if pid in seen:
                break
            seen.add(pid)
        return pid

    confirmed: dict[int, list[int]] = {}
    for a in assignments:
        if a.source == "confirmed" and a.face_id in row:
            confirmed.setdefault(active(a.person_id), []).append(row[a.face_id])
    order = sorted(confirmed)
    label_of = {pid: i for i, pid in enumerate(order)}
    labels = np.full(len(ids), -1, dtype=np.int64)
    for pid, rows in confirmed.items():
        labels[rows] = label_of[pid]
    names = []
    for pid in order:
        p = people.get(pid)
        names.append((pid, p.name if p is not None and p.name else f"person {pid}"))
    rejected = [
        (row[a.face_id], label_of[active(a.person_id)])
        for a in assignments
        if a.source == "rejected" and a.face_id in row and active(a.person_id) in label_of
    ]
    cannot, must = [], []
    for c in constraints:
        if c.face_a in row and c.face_b in row:
            (must if c.kind == "must-link" else cannot).append((row[c.face_a], row[c.face_b]))
    same_photo = []
    by_photo: dict[str, list[int]] = {}
    for h, fid in photo_rows:
        if fid in row:
            by_photo.setdefault(h, []).append(row[fid])
    for rows in by_photo.values():
        same_photo += [(a, b) for i, a in enumerate(rows) for b in rows[i + 1 :]]
    return PersonalData(
        model, ids, np.asarray(emb, np.float32), labels, names, rejected, cannot, must, same_photo
    )


# --- relations -> masks -------------------------------------------------------------------------


@dataclass
class Relations:
    """The training view of some rows: who is the same (``pos``), who is known to differ
    (``neg``), over ``rows`` (indices into :class:`PersonalData`)."""

    rows: np.ndarray
    pos: np.ndarray  # (n, n) bool
    neg: np.ndarray  # (n, n) bool


def relations(
    data: PersonalData,
    exclude: set[int] = frozenset(),
    cannot: list[tuple[int, int]] | None = None,
    must: list[tuple[int, int]] | None = None,
) -> Relations:
    """Positives and negatives among the confirmed faces not in ``exclude`` and the faces the
    user's decisions tie to them. A face cannot-linked to, sharing a photo with, or rejected
    from one of person P's faces is a negative for every face of P."""
    cannot = data.cannot if cannot is None else cannot
    must = data.must if must is None else must
    labels = data.labels.copy()
    labels[list(exclude)] = -1
    # A "same person" answer ties an unlabelled face to a confirmed one: it joins that person.
    extra_pos = []
    for a, b in must:
        if a in exclude or b in exclude:
            continue
        if labels[a] >= 0 and labels[b] < 0:
            labels[b] = labels[a]
        elif labels[b] >= 0 and labels[a] < 0:
            labels[a] = labels[b]
        elif labels[a] < 0 and labels[b] < 0:
            extra_pos.append((a, b))
    diff_pairs = [
        (a, b)
        for a, b in [*cannot, *data.same_photo]
        if a not in exclude and b not in exclude and (labels[a] >= 0 or labels[b] >= 0)
    ]
    rejected = [(f, lab) for f, lab in data.rejected if f not in exclude]
    involved = set(np.flatnonzero(labels >= 0).tolist())
    for a, b in [*diff_pairs, *extra_pos]:
        involved |= {a, b}
    involved |= {f for f, _ in rejected}
    rows = np.array(sorted(involved), dtype=np.int64)
    at = {int(r): i for i, r in enumerate(rows)}
    lab = labels[rows]
    known = lab >= 0
    same = lab[:, None] == lab[None, :]
    pos = same & known[:, None] & known[None, :]
    np.fill_diagonal(pos, False)
    neg = ~same & known[:, None] & known[None, :]
    members = {int(c): np.flatnonzero(lab == c) for c in np.unique(lab[known])}

    def differ(i: int, others: np.ndarray) -> None:
        neg[i, others] = True
        neg[others, i] = True

    for a, b in diff_pairs:
        i, j = at[a], at[b]
        differ(i, np.array([j]))
        if lab[i] >= 0:
            differ(j, members[int(lab[i])])
        if lab[j] >= 0:
            differ(i, members[int(lab[j])])
    for f, c in rejected:
        if c in members:
            differ(at[f], members[c])
    for a, b in extra_pos:
        pos[at[a], at[b]] = pos[at[b], at[a]] = True
    neg &= ~pos
    return Relations(rows, pos, neg)


# --- training -----------------------------------------------------------------------------------


def margin_for(threshold: float, scale: float = 1.0) -> float:
    """FaceNet's alpha = 0.2 (squared distances) carried to a model whose same-person
    distance is ``threshold`` instead of about 1.1."""
    return 0.2 * (threshold / FACENET_THRESHOLD) ** 2 * scale


def fit_head(
    embeddings: np.ndarray,
    rel: Relations,
    margin: float,
    settings: PersonalSettings,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, dict]:
    """Train the head on ``embeddings[rel.rows]``; returns ``M`` (D, D) and figures. With no
    positive pair (nobody has two faces here) ``M`` stays the identity."""
    dim = embeddings.shape[1]
    stats = {"steps": 0, "triplets": 0, "semihard": 0, "fallback": 0, "loss": None}
    if not rel.pos.any() or not rel.neg.any():
        return np.eye(dim, dtype=np.float32), stats
    # Small tensors: one thread is ~10x faster than two fighting other work for the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        head = _fit(embeddings, rel, margin, settings, should_stop, stats)
    finally:
        torch.set_num_threads(threads)
    return head.matrix().detach().numpy().astype(np.float32), stats


def _fit(embeddings, rel, margin, settings, should_stop, stats) -> AdaptationHead:
    torch.manual_seed(settings.seed)
    x = torch.from_numpy(np.ascontiguousarray(embeddings[rel.rows], dtype=np.float32))
    pos, neg = torch.from_numpy(rel.pos), torch.from_numpy(rel.neg)
    head = AdaptationHead(x.shape[1])
    miner, loss_fn = PairMiner(margin), TripletLoss(margin)
    # Adam by hand on the one parameter: torch.optim's first use imports torch._dynamo,
    # seconds that a run of a few seconds should not pay.
    m1, m2 = torch.zeros_like(head.delta), torch.zeros_like(head.delta)
    beta1, beta2 = 0.9, 0.999
    for step in range(settings.steps):
        if should_stop is not None and should_stop():
            raise PersonalTrainingError("Stopped before the end: nothing was changed.")
        y = head(x)
        triplets, mined = miner(y.detach(), pos, neg)
        if len(triplets[0]) == 0:  # every known pair already keeps its margin
            break
        res = loss_fn(y, triplets)
        loss = res.loss + settings.weight_decay * head.delta.pow(2).sum()
        (grad,) = torch.autograd.grad(loss, [head.delta])
        with torch.no_grad():
            m1.mul_(beta1).add_(grad, alpha=1 - beta1)
            m2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            t = step + 1
            update = (m1 / (1 - beta1**t)) / ((m2 / (1 - beta2**t)).sqrt() + 1e-8)
            head.delta.sub_(settings.lr * update)
        stats["steps"] = step + 1
        stats["triplets"] += res.triplets
        stats["semihard"] += mined["semihard"]
        stats["fallback"] += mined["fallback"]
        stats["loss"] = float(res.loss.detach())
    return head


# --- measuring ----------------------------------------------------------------------------------


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


# --- the general check --------------------------------------------------------------------------


@dataclass
class GeneralCheck:
    """Before/after on data no training saw. ``kind``: 'lfw' (10-fold accuracy on LFW's View 1
    test pairs) or 'album' (errors at the threshold on album pairs no training used)."""

    kind: str
    pairs: int
    before: float
    after: float
    ok: bool

    def words(self) -> str:
        if self.kind == "lfw":
            return (
                f"general check on {self.pairs} LFW pairs: {100 * self.after:.1f}% "
                f"(was {100 * self.before:.1f}%)"
            )
        return (
            f"general check on {self.pairs} pairs of other album faces: "
            f"{100 * self.after:.1f}% right (was {100 * self.before:.1f}%)"
        )


def album_check(
    data: PersonalData, matrix: np.ndarray, threshold: float, ratio: float, rel: Relations
) -> GeneralCheck | None:
    """Pairs of album faces that no training used: two faces of one photo (different people)
    and answered pairs, where neither face was trained on. None when there are none."""
    used = set(rel.rows.tolist())
    pairs = [(a, b, False) for a, b in [*data.same_photo, *data.cannot]]
    pairs += [(a, b, True) for a, b in data.must]
    pairs = [(a, b, s) for a, b, s in pairs if a not in used and b not in used]
    if not pairs:
        return None
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    same = np.array([p[2] for p in pairs])
    after = apply_matrix(data.embeddings, matrix)
    db = np.linalg.norm(data.embeddings[a] - data.embeddings[b], axis=1)
    da = np.linalg.norm(after[a] - after[b], axis=1)
    ok_b = np.where(same, db < threshold, db >= threshold).mean()
    ok_a = np.where(same, da < threshold * ratio, da >= threshold * ratio).mean()
    return GeneralCheck("album", len(pairs), float(ok_b), float(ok_a), bool(ok_a >= ok_b))


def lfw_check(
    lfw: Path, model: str, matrix: np.ndarray, exclude: set[str], tolerance: float
) -> GeneralCheck | None:
    """LFW View 1 test pairs (``pairsDevTest.txt``) without the album's people, embedded with
    the base model once (cached) and through the head: the 10-fold accuracy, whose thresholds
    come from the other folds, so no threshold of ours enters."""
    from album.evaluation.metrics import kfold_report

    pairs_file = Path(lfw) / "pairsDevTest.txt"
    if not pairs_file.is_file():
        return None
    emb, pairs = _lfw_embeddings(Path(lfw), pairs_file, model)
    from training.evaluate import lfw_pair_set

    items, _ = lfw_pair_set(pairs_file)
    who = np.array([it.identity for it in items])
    keep = ~(np.isin(who[pairs.a], list(exclude)) | np.isin(who[pairs.b], list(exclude)))
    a, b, same, folds = pairs.a[keep], pairs.b[keep], pairs.same[keep], pairs.folds[keep]
    after = apply_matrix(emb, matrix)
    rb = kfold_report(np.linalg.norm(emb[a] - emb[b], axis=1), same, folds)
    ra = kfold_report(np.linalg.norm(after[a] - after[b], axis=1), same, folds)
    return GeneralCheck(
        "lfw", int(keep.sum()), rb.accuracy, ra.accuracy, ra.accuracy >= rb.accuracy - tolerance
    )


def _lfw_embeddings(root: Path, pairs_file: Path, model: str):
    """The base model's embeddings of the pairs' images, cached beside the chips."""
    from models.embedder import Embedder
    from models.registry import get_spec
    from training.data import _hash, _stamp, cache_dir, load_chips
    from training.evaluate import lfw_pair_set

    items, pairs = lfw_pair_set(pairs_file)
    key = _hash({"pairs": str(pairs_file.resolve()), "stamp": _stamp(pairs_file), "model": model})
    cache = cache_dir() / "training" / f"check-{key}.npy"
    if cache.is_file():
        return np.load(cache), pairs
    spec = get_spec(model)
    chips = load_chips(root, items, spec, no_face="median")
    emb = Embedder(model, device="cpu").embed_chips(chips.chips)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, emb)
    return emb, pairs


# --- the whole run ------------------------------------------------------------------------------


@dataclass
class PersonalResult:
    """What a run found, and whether a model was registered (``kept``)."""

    name: str
    base: str
    kept: bool
    people: int
    faces: int
    held_out: Figures
    general: GeneralCheck | None
    matrix: np.ndarray  # the head trained on everything (identity when nothing trained)
    threshold: float
    seconds: float
    negatives: dict[str, int]
    folds: list[dict]
    reason: str = ""

    def summary(self) -> str:
        """What changed, in words, for the app's message and the CLI."""
        h = self.held_out
        who = f"your {self.people} people" if self.people != 1 else "your 1 person"
        if not h.faces:
            text = (
                f"There were no confirmed faces to hold out and check {who} on, so the "
                "current model stays. Confirm more faces (three or more per person) and try "
                "again."
            )
            return text
        text = (
            f"Recognises {who} correctly in {100 * h.id_after:.0f}% of photos it was not "
            f"trained on, {_versus(h.id_after, h.id_before)} ({h.faces} held-out faces)."
        )
        if h.same_pairs or h.diff_pairs:
            text += (
                f' Answers "same person?" correctly in {100 * h.same_after:.0f}% of cases, '
                f"{_versus(h.same_after, h.same_before)}."
            )
        if self.general is not None:
            text += f" The {self.general.words()}."
        if self.kept:
            text += f" Saved as model {self.name}."
        else:
            text += f" Not kept: {self.reason} Your current model stays."
        return text

    def figures(self) -> dict:
        h = self.held_out
        return {
            "name": self.name,
            "base": self.base,
            "kept": self.kept,
            "reason": self.reason,
            "people": self.people,
            "faces": self.faces,
            "held_out": {
                **asdict(h),
                "identification_before": h.id_before,
                "identification_after": h.id_after,
                "same_person_before": h.same_before,
                "same_person_after": h.same_after,
            },
            "general": asdict(self.general) if self.general else None,
            "threshold": self.threshold,
            "seconds": self.seconds,
            "negatives": self.negatives,
            "folds": self.folds,
        }


def _versus(after: float, before: float) -> str:
    """'up from 89%', 'down from 91%' or 'as before'."""
    if round(100 * after) == round(100 * before):
        return "as before" if after == before else f"about as before ({100 * before:.1f}%)"
    return f"{'up' if after > before else 'down'} from {100 * before:.0f}%"


def personal_fine_tune(
    catalog_path: Path | None,
    name: str,
    *,
    settings: PersonalSettings | None = None,
    lfw: Path | None = None,
    status: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    save: bool = True,
) -> PersonalResult:
    """The whole recipe (module docstring) on the catalog at ``catalog_path`` (None: the
    default one). Registers model ``name`` only when it is kept. Raises
    :class:`PersonalTrainingError` when the catalog cannot support a run."""
    from album.catalog import Catalog
    from models.registry import get_spec
    from models.trained import PRETRAINED
    from training import checkpoints

    start = time.perf_counter()
    settings = settings or PersonalSettings()
    try:
        checkpoints.check_name(name)
    except ValueError as exc:
        raise PersonalTrainingError(str(exc)) from None

    def say(msg: str) -> None:
        log.info(msg)
        if status:
            status(msg)

    with Catalog(catalog_path) as cat:
        data = personal_data(cat)
    if not len(data.face_ids):
        raise PersonalTrainingError(
            "The catalog has no faces for its model yet: scan some photos first."
        )
    trainable = data.trainable_people()
    if len(trainable) < 2:
        raise PersonalTrainingError(
            f"Confirm at least two faces each of at least two people first "
            f"({len(trainable)} {'person has' if len(trainable) == 1 else 'people have'} two "
            "or more confirmed faces)."
        )
    spec = get_spec(data.model)
    if data.model not in PRETRAINED and spec.origin != "trained" and not spec.parts:
        raise PersonalTrainingError(
            f"The model in use ({data.model}) cannot be adapted to your people; switch to "
            f"one of {', '.join(PRETRAINED)} or a fused model in Settings first."
        )
    threshold = float(spec.threshold)
    negatives = {
        "rejected": len(data.rejected),
        "cannot_link": len(data.cannot),
        "same_photo": len(data.same_photo),
        "must_link": len(data.must),
    }
    n_conf = int((data.labels >= 0).sum())
    say(
        f"learning from {n_conf} confirmed faces of {len(data.people)} people, "
        f"{len(data.rejected)} rejected faces, {len(data.cannot)} 'not the same' answers, "
        f"{len(data.same_photo)} pairs of faces sharing a photo"
    )
    say("checking on faces held out from training")
    held, folds = held_out_figures(
        data,
        threshold,
        settings,
        should_stop,
        lambda f, n: say(f"checking on held-out faces: part {f + 1} of {n}"),
    )
    say("training on all your labels")
    rel = relations(data)
    matrix, stats = fit_head(
        data.embeddings, rel, margin_for(threshold, settings.margin_scale), settings, should_stop
    )
    after = apply_matrix(data.embeddings, matrix)
    ratio = scale_ratio(data.embeddings[rel.rows], after[rel.rows], rel)
    general = None
    if lfw is not None:
        say("general check on LFW pairs")
        exclude = {n for _, n in data.people}
        general = lfw_check(lfw, data.model, matrix, exclude, settings.general_tolerance)
    if general is None:
        general = album_check(data, matrix, threshold, ratio, rel)

    # Strictly better identification, and "same person?" answers no worse. A tie is not
    # kept: on LFW's dev people, heads that tied on held-out faces but answered "same
    # person?" better were as often worse as better on the unlabelled ones.
    same_ok = not (held.same_pairs or held.diff_pairs) or held.same_after >= held.same_before
    better = held.faces > 0 and held.id_after > held.id_before and same_ok
    if not held.faces:
        reason = "no held-out faces to check on."
    elif not better:
        reason = "it did not recognise your people better on the held-out photos."
    elif general is not None and not general.ok:
        reason = "it got worse on the general check."
    else:
        reason = ""
    kept = not reason
    result = PersonalResult(
        name=name,
        base=data.model,
        kept=kept,
        people=len(trainable),
        faces=n_conf,
        held_out=held,
        general=general,
        matrix=matrix,
        threshold=threshold * ratio,
        seconds=0.0,
        negatives=negatives,
        folds=folds,
        reason=reason,
    )
    if kept and save:
        say(f"saving model {name}")
        _save(result, spec, ratio, stats)
    result.seconds = time.perf_counter() - start
    return result


def _save(result: PersonalResult, spec, ratio: float, stats: dict) -> Path:
    """Fold the head into the base network (over a fused base, where there is no one
    network, keep it as a matrix) and register it as ``result.name``."""
    from models.registry import get_spec
    from training import checkpoints
    from training.head import fold_into
    from training.models import load_base

    calibration = None
    if spec.calibration:
        slope, mid = spec.calibration
        calibration = (slope / ratio, mid * ratio)
    h = result.held_out
    common = {
        "init": f"personal:{result.base}",
        "threshold": result.threshold,
        "calibration": calibration,
        "description": (
            f"{result.base} adapted to your {result.people} people "
            f"({100 * h.id_after:.0f}% of held-out faces recognised, was "
            f"{100 * h.id_before:.0f}%)"
        ),
        "training": {**result.figures(), "final_fit": stats, "distance_ratio": ratio},
    }
    if spec.parts:
        # normalize(M2 normalize(M1 e)) is normalize(M2 M1 e): over a personal model, one
        # matrix over the same fused base.
        matrix = np.asarray(result.matrix, np.float64)
        base_name = spec.name
        if spec.head is not None:
            matrix = matrix @ np.asarray(spec.head(), np.float64)
            base_name = json.loads((_trained_meta(spec.name)).read_text())["base"]
        meta = checkpoints.save_head(result.name, matrix, base=base_name, **common)
    else:
        base = load_base(result.base)
        net = fold_into(base.net.eval(), base.architecture, result.matrix)
        meta = checkpoints.save_trained(
            result.name,
            net,
            base=base.spec_name,
            architecture=base.architecture,
            embedding_size=base.embedding_size,
            **common,
        )
    checkpoints.refresh_registry(result.name)
    get_spec(result.name)
    return meta


def _trained_meta(name: str) -> Path:
    from models.registry import trained_dir

    return trained_dir() / f"{name}.json"


def adopt(catalog_path: Path | None, result: PersonalResult, recluster: bool = True):
    """Use the kept model in the catalog at once: its embedding of every face is the stored
    one through the head (exactly what the network would give), written as the new model's
    rows; then the catalog switches model (backup first, as a re-embedding does) and
    re-groups. Returns the re-cluster summary (None when ``recluster`` is false).

    Machine data only: confirmed and rejected faces, names and answers are untouched."""
    from album.catalog import Catalog
    from album.catalog.backup import backup
    from album.catalog.lock import writer_job
    from album.scan.reembed import Reembedder
    from models.embedder import Embedder

    if not result.kept:
        raise PersonalTrainingError("this model was not kept; there is nothing to switch to")
    with Catalog(catalog_path) as cat:
        ids, emb = cat.embeddings(result.base)
        new = apply_matrix(emb, result.matrix) if len(ids) else emb
        cat.store_embeddings(result.name, ids, new)
        pending = cat.faces_without_embedding(result.name)
        if pending:  # faces without a stored vector: the network embeds them, then switches
            Reembedder(cat, Embedder(result.name, device="cpu")).run()
        else:  # what a finished re-embedding does: switch under the writer lock, backup first
            with writer_job(cat, "re-embed", f"{cat.path} with {result.name}"):
                if cat.model not in (None, result.name):
                    backup(cat, reason=f"before-model-{result.name}")
                cat.set_setting("model", result.name)
        if not recluster:
            return None
        from album.people.service import PeopleService

        return PeopleService(cat).recluster()


def write_json(result: PersonalResult, path: Path) -> None:
    path.write_text(json.dumps(result.figures(), indent=2, default=float) + "\n")
