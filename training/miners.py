"""Online triplet mining inside a mini-batch (FaceNet section 3.1, 3.2).

A miner takes embeddings (N, D) and integer labels (N,) and returns three index tensors
``(anchors, positives, negatives)`` of equal length, like pytorch-metric-learning's triplet
miners. Distances are **squared** Euclidean between L2-normalized embeddings, as in the paper's
loss ``[|f(a)-f(p)|^2 - |f(a)-f(n)|^2 + alpha]_+``. Anchor-positive pairs are ordered: (i, j) and
(j, i) are both used. Mining needs no gradient and runs under ``torch.no_grad``.

- :class:`SemiHardMiner`: negatives farther than the positive but inside the margin,
  ``d(a,p) < d(a,n) <= d(a,p) + margin``; all of them per (a, p) (``select="all"``, what
  pytorch-metric-learning's ``TripletMarginMiner(type_of_triplets="semihard")`` returns) or one,
  the closest of them (``select="one"``, the paper's one negative per anchor-positive pair).
- :class:`HardMiner`: the closest negative of each anchor (FaceNet's argmin), with every
  positive or only the farthest one (Hermans et al.'s "batch hard").
- :class:`BatchAllMiner`: every valid triplet; the loss then averages over the active ones.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Triplets = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def squared_distances(embeddings: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """(N, N) squared Euclidean distances, of the L2-normalized rows when ``normalize``."""
    x = F.normalize(embeddings, dim=1) if normalize else embeddings
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    return d.clamp_min(0.0)


def label_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(positive, negative) boolean (N, N) masks: same label off the diagonal, other label."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def _empty(device: torch.device) -> Triplets:
    e = torch.zeros(0, dtype=torch.long, device=device)
    return e, e.clone(), e.clone()


class SemiHardMiner:
    """Semi-hard negatives: ``d(a,p) < d(a,n) <= d(a,p) + margin`` on squared distances.

    Args:
        margin: alpha of the loss (0.2 in the paper).
        select: ``"all"``: every semi-hard negative of each anchor-positive pair; ``"one"``: the
            closest semi-hard negative of each pair (pairs with none are left out).
    """

    def __init__(self, margin: float = 0.2, select: Literal["all", "one"] = "all") -> None:
        if select not in ("all", "one"):
            raise ValueError(f"select must be 'all' or 'one', not {select!r}")
        self.margin, self.select = margin, select

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        d = squared_distances(embeddings.float())
        pos, neg = label_masks(labels)
        a, p = torch.nonzero(pos, as_tuple=True)
        if len(a) == 0:
            return _empty(embeddings.device)
        d_ap = d[a, p][:, None]  # (pairs, 1)
        d_an = d[a]  # (pairs, N)
        gap = d_an - d_ap
        ok = neg[a] & (gap > 0) & (gap <= self.margin)  # (pairs, N)
        if self.select == "all":
            pair, n = torch.nonzero(ok, as_tuple=True)
            return a[pair], p[pair], n
        masked = torch.where(ok, d_an, torch.full_like(d_an, float("inf")))
        n = masked.argmin(dim=1)
        keep = ok.any(dim=1)
        return a[keep], p[keep], n[keep]


class HardMiner:
    """The hardest negative (closest to the anchor) for each anchor.

    Args:
        positives: ``"all"``: every anchor-positive pair with the anchor's hardest negative;
            ``"hardest"``: one triplet per anchor, with its farthest positive ("batch hard").
    """

    def __init__(self, positives: Literal["all", "hardest"] = "all") -> None:
        if positives not in ("all", "hardest"):
            raise ValueError(f"positives must be 'all' or 'hardest', not {positives!r}")
        self.positives = positives

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        d = squared_distances(embeddings.float())
        pos, neg = label_masks(labels)
        valid = pos.any(1) & neg.any(1)
        inf = torch.full_like(d, float("inf"))
        hardest_neg = torch.where(neg, d, inf).argmin(dim=1)
        if self.positives == "hardest":
            a = torch.nonzero(valid, as_tuple=True)[0]
            far_pos = torch.where(pos, d, -inf).argmax(dim=1)
            return a, far_pos[a], hardest_neg[a]
        a, p = torch.nonzero(pos & valid[:, None], as_tuple=True)
        return a, p, hardest_neg[a]


class BatchAllMiner:
    """Every valid triplet: a and p share a label, n has another (a != p)."""

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        pos, neg = label_masks(labels)
        a, p, n = torch.nonzero(pos[:, :, None] & neg[:, None, :], as_tuple=True)
        return a, p, n


class PairMiner:
    """Semi-hard mining over explicit relations instead of labels, with a fallback.

    ``pos`` and ``neg`` are (N, N) boolean masks: "the same person" and "known to differ" (a
    rejection, a "not the same" answer or one photo make two faces differ without either
    having a label of its own). Every semi-hard negative of each anchor-positive pair is taken;
    a pair with none falls back to its hardest negative when that one still violates the margin
    (batch-hard), so mining does not starve once semi-hard triplets vanish. Returns the
    triplets and ``{"semihard": n, "fallback": m}``.
    """

    def __init__(self, margin: float) -> None:
        self.margin = margin

    @torch.no_grad()
    def __call__(
        self, embeddings: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor
    ) -> tuple[Triplets, dict[str, int]]:
        d = squared_distances(embeddings.float())
        a, p = torch.nonzero(pos, as_tuple=True)
        if len(a) == 0:
            return _empty(embeddings.device), {"semihard": 0, "fallback": 0}
        d_ap = d[a, p][:, None]
        d_an = d[a]
        valid = neg[a]
        semi = valid & (d_an > d_ap) & (d_an <= d_ap + self.margin)
        pair, n = torch.nonzero(semi, as_tuple=True)
        starved = ~semi.any(1) & valid.any(1)
        hardest = torch.where(valid, d_an, torch.full_like(d_an, float("inf"))).min(1)
        fall = torch.nonzero(starved & (hardest.values < d_ap[:, 0] + self.margin))[:, 0]
        triplets = (
            torch.cat([a[pair], a[fall]]),
            torch.cat([p[pair], p[fall]]),
            torch.cat([n, hardest.indices[fall]]),
        )
        return triplets, {"semihard": len(pair), "fallback": len(fall)}


MINERS = ("semihard", "hard", "all")


def make_miner(name: str, margin: float = 0.2, select: Literal["all", "one"] = "all"):
    """A miner by name: ``semihard`` (with ``select``), ``hard`` or ``all`` (batch-all)."""
    if name == "semihard":
        return SemiHardMiner(margin, select)
    if name == "hard":
        return HardMiner()
    if name == "all":
        return BatchAllMiner()
    raise ValueError(f"unknown miner {name!r}; choose one of {', '.join(MINERS)}")


@torch.no_grad()
def violating_fraction(
    embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.2
) -> float:
    """Fraction of all valid triplets of the batch with a positive loss
    (``d(a,n) < d(a,p) + margin``): how much the batch still has to teach."""
    d = squared_distances(embeddings.float())
    pos, neg = label_masks(labels)
    valid = pos[:, :, None] & neg[:, None, :]
    total = int(valid.sum())
    if total == 0:
        return 0.0
    bad = (d[:, None, :] < d[:, :, None] + margin) & valid
    return float(bad.sum()) / total
