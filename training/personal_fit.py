"""Training the personal head: the hyper-parameters of a run, the triplet margin on the
model's distance scale, and the fitting loop over stored embeddings.

The head (:mod:`training.head`) is ``normalize(M e)`` with ``M`` starting at the identity,
trained with the triplet loss on triplets mined over the relations (:class:`PairMiner`:
semi-hard, falling back to the hardest negative). The margin follows the model's distance
scale: FaceNet's alpha 0.2 (squared distance) belongs to a same-person threshold of about
1.1, so a model whose threshold is t gets ``0.2 * (t / 1.1)**2`` times ``margin_scale``.
See :mod:`training.personal` for the whole recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from training.head import AdaptationHead
from training.loss import TripletLoss
from training.miners import PairMiner
from training.personal_data import PersonalTrainingError, Relations

FACENET_THRESHOLD = 1.1  # the same-person distance FaceNet's alpha = 0.2 was chosen for


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
