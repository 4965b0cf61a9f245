"""Held-out pair evaluation of a network under training, with album.evaluation.metrics.

Embeddings are made exactly as the app makes them (the spec's pre-processing, the mirrored chip
added when the spec flips, L2-normalized), so "before" and "after" figures compare like with
like. Figures: accuracy (k-fold: each fold's threshold chosen on the other folds), VAL at
FAR=1e-3 (threshold likewise) and ROC AUC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from album.evaluation.metrics import VerificationReport, kfold_report
from training.data import ChipDataset, FaceItem


@dataclass(frozen=True)
class PairSet:
    """Pairs of chips (indices into a ChipDataset) with their labels and fold numbers."""

    a: np.ndarray
    b: np.ndarray
    same: np.ndarray
    folds: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


def pair_identities(pairs_file: Path) -> set[str]:
    """Every person named in an LFW pairs file (pairs.txt, pairsDevTest.txt...)."""
    from album.evaluation.lfw import read_pairs

    return {p.split("/")[0] for pair in read_pairs(Path(pairs_file)) for p in (pair.a, pair.b)}


def lfw_pair_set(pairs_file: Path, folds: int = 10) -> tuple[list[FaceItem], PairSet]:
    """The images (as FaceItems) and pairs of an LFW pairs file.

    A file with one fold (View 1's pairsDev*.txt) is split into ``folds`` interleaved folds,
    each with its share of matched and mismatched pairs; 10-fold pairs.txt keeps its folds.
    """
    from album.evaluation.lfw import read_pairs

    pairs = read_pairs(Path(pairs_file))
    names = sorted({p.a for p in pairs} | {p.b for p in pairs})
    index = {n: i for i, n in enumerate(names)}
    items = [FaceItem(n, n.split("/")[0]) for n in names]
    file_folds = np.array([p.fold for p in pairs])
    if len(np.unique(file_folds)) == 1 and folds > 1:
        same = np.array([p.same for p in pairs])
        fold_ids = np.zeros(len(pairs), dtype=np.int64)
        for label in (True, False):
            where = np.flatnonzero(same == label)
            fold_ids[where] = np.arange(len(where)) % folds
    else:
        fold_ids = file_folds
    return items, PairSet(
        np.array([index[p.a] for p in pairs]),
        np.array([index[p.b] for p in pairs]),
        np.array([p.same for p in pairs]),
        fold_ids,
    )


def balanced_pairs(
    labels: np.ndarray, max_pairs: int = 3000, folds: int = 10, seed: int = 0
) -> PairSet:
    """Up to ``max_pairs`` matched pairs drawn from all same-identity pairs of ``labels`` and as
    many mismatched pairs drawn at random, in ``folds`` interleaved folds (validation sets made
    from held-out identities)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    match = labels[i] == labels[j]
    pos = np.flatnonzero(match)
    if len(pos) == 0:
        raise ValueError("no identity has two faces: cannot make matched pairs")
    pos = rng.choice(pos, size=min(max_pairs, len(pos)), replace=False)
    neg_all = np.flatnonzero(~match)
    neg = rng.choice(neg_all, size=min(len(pos), len(neg_all)), replace=False)
    a = np.concatenate([i[pos], i[neg]])
    b = np.concatenate([j[pos], j[neg]])
    same = np.concatenate([np.ones(len(pos), bool), np.zeros(len(neg), bool)])
    fold_ids = np.concatenate([np.arange(len(pos)) % folds, np.arange(len(neg)) % folds])
    return PairSet(a, b, same, fold_ids)


@torch.no_grad()
def embed_chips(
    net: nn.Module,
    chips: np.ndarray,
    preprocess: Callable[[np.ndarray], torch.Tensor],
    *,
    flip: bool = False,
    device: torch.device | str = "cpu",
    batch: int = 64,
    amp: bool = False,
) -> np.ndarray:
    """(N, D) float32 unit embeddings of uint8 chips, the network in eval mode (restored after)."""
    was_training = net.training
    net.eval()
    device = torch.device(device)
    out = []
    try:
        for start in range(0, len(chips), batch):
            part = np.asarray(chips[start : start + batch])
            x = preprocess(part).to(device)
            if flip:
                x = torch.cat([x, torch.flip(x, dims=[3])])
            with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
                y = net(x).float()
            if flip:
                y = y[: len(part)] + y[len(part) :]
            out.append(torch.nn.functional.normalize(y, dim=1).cpu().numpy())
    finally:
        net.train(was_training)
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(out)


@dataclass
class Evaluation:
    report: VerificationReport
    distances: np.ndarray
    same: np.ndarray

    def figures(self) -> dict[str, float]:
        r = self.report
        return {
            "accuracy": r.accuracy,
            "accuracy_std": r.accuracy_std,
            "val_at_far": r.val_at_far,
            "val_std": r.val_std,
            "far": r.far,
            "auc": r.auc,
            "threshold": r.threshold,
            "pairs": len(self.distances),
        }


def evaluate_embeddings(
    embeddings: np.ndarray, pairs: PairSet, far_target: float = 1e-3
) -> Evaluation:
    d = np.linalg.norm(embeddings[pairs.a] - embeddings[pairs.b], axis=1)
    return Evaluation(kfold_report(d, pairs.same, pairs.folds, far_target), d, pairs.same)


class PairEvaluator:
    """Evaluates a network on fixed pairs of fixed chips: ``evaluator(net) -> Evaluation``."""

    def __init__(
        self,
        data: ChipDataset,
        pairs: PairSet,
        preprocess: Callable[[np.ndarray], torch.Tensor],
        *,
        flip: bool = False,
        device: torch.device | str = "cpu",
        batch: int = 64,
        amp: bool = False,
    ) -> None:
        used = np.unique(np.concatenate([pairs.a, pairs.b]))
        remap = np.full(len(data), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        self.chips = np.asarray(data.chips[used])  # only the chips the pairs use
        self.pairs = PairSet(remap[pairs.a], remap[pairs.b], pairs.same, pairs.folds)
        self.preprocess, self.flip, self.device, self.batch, self.amp = (
            preprocess,
            flip,
            device,
            batch,
            amp,
        )

    def embeddings(self, net: nn.Module) -> np.ndarray:
        return embed_chips(
            net,
            self.chips,
            self.preprocess,
            flip=self.flip,
            device=self.device,
            batch=self.batch,
            amp=self.amp,
        )

    def __call__(self, net: nn.Module) -> Evaluation:
        return evaluate_embeddings(self.embeddings(net), self.pairs)


def check_disjoint(train: Iterable[str], held_out: Iterable[str]) -> None:
    """Raise ValueError when an identity is on both sides of a split."""
    both = set(train) & set(held_out)
    if both:
        shown = ", ".join(sorted(both)[:5])
        raise ValueError(
            f"{len(both)} identities are both in training and in the held-out pairs (e.g. {shown})"
        )
