"""The general check of a personal head: did it get worse on faces no training saw?

LFW's View 1 test pairs when a copy of LFW is given (the album's people left out, 10-fold
accuracy), else pairs of album faces that no training used (two faces in one photo, answered
pairs away from the trained faces) at the model's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.head import apply_matrix
from training.personal_data import PersonalData, Relations


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
