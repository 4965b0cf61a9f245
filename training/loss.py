"""The triplet loss of FaceNet (eq. 2): ``[|f(a)-f(p)|^2 - |f(a)-f(n)|^2 + alpha]_+``."""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class TripletLossResult(NamedTuple):
    loss: torch.Tensor  # scalar, differentiable
    active_fraction: float  # share of the given triplets with a positive loss
    triplets: int
    active: int


class TripletLoss(nn.Module):
    """Triplet loss on squared distances of L2-normalized embeddings.

    Args:
        margin: alpha (0.2 in the paper).
        reduction: ``"mean_active"`` (default): mean over the triplets whose loss is positive,
            so easy triplets do not dilute the gradient as training goes on; ``"mean"``: mean
            over all given triplets; ``"sum"``: the paper's sum.

    ``forward(embeddings, triplets)`` takes raw embeddings (N, D), normalizes them, and index
    tensors ``(a, p, n)`` from a miner. With no triplet or none active the loss is a zero that
    still belongs to the graph, so ``backward()`` always works.
    """

    def __init__(
        self, margin: float = 0.2, reduction: Literal["mean_active", "mean", "sum"] = "mean_active"
    ) -> None:
        super().__init__()
        if reduction not in ("mean_active", "mean", "sum"):
            raise ValueError(f"unknown reduction {reduction!r}")
        self.margin, self.reduction = margin, reduction

    def forward(
        self, embeddings: torch.Tensor, triplets: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> TripletLossResult:
        a, p, n = triplets
        x = F.normalize(embeddings.float(), dim=1)
        if len(a) == 0:
            return TripletLossResult(x.sum() * 0.0, 0.0, 0, 0)
        d_ap = (x[a] - x[p]).pow(2).sum(1)
        d_an = (x[a] - x[n]).pow(2).sum(1)
        per = F.relu(d_ap - d_an + self.margin)
        active = int((per > 0).sum())
        if self.reduction == "sum":
            loss = per.sum()
        elif self.reduction == "mean":
            loss = per.mean()
        else:
            loss = per.sum() / max(active, 1)
        return TripletLossResult(loss, active / len(a), len(a), active)
