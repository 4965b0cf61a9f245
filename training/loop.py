"""The training loop: P x K batches, augmentation, online mining, triplet loss, checkpoints.

>>> trainer = Trainer(net, chips, spec.preprocess, TrainConfig(epochs=3), run_dir=folder,
...                   validate=PairEvaluator(val_chips, val_pairs, spec.preprocess))
>>> history = trainer.fit()            # or fit(resume=True) after an interruption

After every epoch the run folder gets the resumable state (``state.safetensors`` +
``state.json``), ``history.json``, ``plot.png`` (loss and validation VAL per epoch) and, when
validating, ``best.safetensors`` (the weights of the best epoch so far, epoch 0 = the start).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from training import checkpoints
from training.augment import ChipAugmenter
from training.data import ChipDataset
from training.loss import TripletLoss
from training.miners import make_miner, violating_fraction
from training.models import train_mode, trainable_parameters
from training.sampler import PKSampler

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Settings of a training run (all but ``augment`` are recorded in the history)."""

    epochs: int = 8
    batch_p: int = 16  # identities per batch
    batch_k: int = 4  # faces per identity
    # Batches between validations/checkpoints; None: as many faces as the training set.
    batches_per_epoch: int | None = 20
    lr: float = 1e-5
    optimizer: Literal["adam", "sgd"] = "adam"
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD only
    miner: str = "semihard"  # semihard, hard or all
    select: Literal["all", "one"] = "all"  # semi-hard negatives per anchor-positive pair
    margin: float = 0.2
    reduction: Literal["mean_active", "mean", "sum"] = "mean_active"
    amp: bool | None = None  # mixed precision; default: on CUDA only
    seed: int = 0
    select_metric: str = "val_at_far"  # validation figure deciding the best epoch
    augment: ChipAugmenter = field(default_factory=ChipAugmenter)

    def summary(self) -> dict:
        d = asdict(self)
        d["augment"] = asdict(self.augment)
        return d


@dataclass
class EpochRecord:
    epoch: int  # 1-based; 0 = the starting model (validation only)
    loss: float | None = None  # mean over the epoch's batches
    active_fraction: float | None = None  # of the mined triplets, share with positive loss
    violating_fraction: float | None = None  # of all valid triplets, share with positive loss
    triplets_per_batch: float | None = None
    seconds: float | None = None  # training time of the epoch (validation excluded)
    batches: int | None = None
    faces: int | None = None
    faces_per_s: float | None = None
    val: dict | None = None  # validation figures (accuracy, val_at_far, auc...)


def _score(val: dict | None, metric: str) -> tuple[float, float]:
    if not val:
        return (-math.inf, -math.inf)
    return (float(val.get(metric, -math.inf)), float(val.get("auc", -math.inf)))


class Trainer:
    """Fine-tunes ``net`` on ``data`` (a ChipDataset) with ``config``.

    Args:
        preprocess: the spec's uint8 chips -> network input function.
        run_dir: where checkpoints, history and plot go (None: nowhere, no resume).
        device: torch device (default: CUDA when available, else CPU).
        validate: ``validate(net) -> Evaluation`` on held-out identities after every epoch.
    """

    def __init__(
        self,
        net: nn.Module,
        data: ChipDataset,
        preprocess: Callable[[np.ndarray], torch.Tensor],
        config: TrainConfig | None = None,
        *,
        run_dir: Path | None = None,
        device: str | torch.device | None = None,
        validate: Callable[[nn.Module], object] | None = None,
    ) -> None:
        from models.device import resolve_device

        self.config = c = config or TrainConfig()
        self.device = resolve_device(device)
        self.net = net.to(self.device)
        self.data, self.preprocess = data, preprocess
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.validate = validate
        params = trainable_parameters(net)
        if not params:
            raise ValueError("every layer is frozen: nothing to train")
        if c.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
        elif c.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(
                params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
            )
        else:
            raise ValueError(f"unknown optimizer {c.optimizer!r}; use adam or sgd")
        self.amp = (
            (self.device.type == "cuda")
            if c.amp is None
            else (c.amp and self.device.type == "cuda")
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.sampler = PKSampler(data.labels, c.batch_p, c.batch_k, c.batches_per_epoch, c.seed)
        self.miner = make_miner(c.miner, c.margin, c.select)
        self.loss_fn = TripletLoss(c.margin, c.reduction)
        self.history: list[EpochRecord] = []
        self.best_epoch = 0
        # epoch -> the validation Evaluation (distances included) made in this process
        self.evaluations: dict[int, object] = {}

    # --- one epoch -------------------------------------------------------------------------

    def _batch(
        self, indices: np.ndarray, epoch: int, step: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.config.seed, epoch, step, 1])
        chips = self.config.augment(np.asarray(self.data.chips[np.sort(indices)]), rng)
        order = np.argsort(np.argsort(indices))  # undo the sort (memory-map reads in order)
        x = self.preprocess(chips[order]).to(self.device, non_blocking=True)
        y = torch.from_numpy(self.data.labels[indices]).to(self.device)
        return x, y

    def train_epoch(
        self,
        epoch: int,
        bar=None,
        should_stop: Callable[[], bool] | None = None,
        on_batch: Callable[[int, int, int], None] | None = None,
    ) -> EpochRecord:
        """One pass of ``len(self.sampler)`` batches; returns its record (without validation).
        ``on_batch(epoch, batches done, batches in the epoch)`` follows the progress."""
        train_mode(self.net)
        losses, violating, counts, actives = [], [], [], []
        faces, start = 0, time.perf_counter()
        for step, indices in enumerate(self.sampler.epoch_batches(epoch)):
            if should_stop and should_stop():
                break
            x, labels = self._batch(indices, epoch, step)
            with torch.autocast(self.device.type, enabled=self.amp):
                emb = self.net(x)
            emb = emb.float()
            triplets = self.miner(emb.detach(), labels)
            res = self.loss_fn(emb, triplets)
            self.optimizer.zero_grad(set_to_none=True)
            if res.active:
                self.scaler.scale(res.loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            losses.append(float(res.loss.detach()))
            actives.append(res.active)
            violating.append(violating_fraction(emb.detach(), labels, self.config.margin))
            counts.append(res.triplets)
            faces += len(indices)
            if on_batch:
                on_batch(epoch, step + 1, len(self.sampler))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    loss=f"{np.mean(losses):.4f}",
                    act=f"{sum(actives) / max(sum(counts), 1):.2f}",
                    viol=f"{np.mean(violating):.3f}",
                    **self._val_postfix(),
                    refresh=False,
                )
        seconds = time.perf_counter() - start
        return EpochRecord(
            epoch=epoch,
            loss=float(np.mean(losses)) if losses else None,
            active_fraction=sum(actives) / sum(counts)
            if sum(counts)
            else (0.0 if counts else None),
            violating_fraction=float(np.mean(violating)) if violating else None,
            triplets_per_batch=float(np.mean(counts)) if counts else None,
            seconds=seconds,
            batches=len(losses),
            faces=faces,
            faces_per_s=faces / seconds if seconds > 0 else None,
        )

    def _val_postfix(self) -> dict:
        last = next((r.val for r in reversed(self.history) if r.val), None)
        return {"VAL": f"{last['val_at_far']:.3f}"} if last else {}

    def _validate(self, epoch: int) -> dict | None:
        if self.validate is None:
            return None
        ev = self.evaluations[epoch] = self.validate(self.net)
        return ev.figures()

    # --- the run ---------------------------------------------------------------------------

    def fit(
        self,
        *,
        resume: bool = False,
        progress: bool = True,
        should_stop: Callable[[], bool] | None = None,
        on_epoch: Callable[[EpochRecord], None] | None = None,
        on_batch: Callable[[int, int, int], None] | None = None,
    ) -> list[EpochRecord]:
        """Train up to ``config.epochs`` (counting epochs done before a resume). Stops early,
        when ``should_stop()`` turns true (polled before every batch; a GUI's cancel button):
        an unfinished epoch is dropped, the last checkpoint is the last finished epoch."""
        from tqdm import tqdm

        first = 1
        if resume and self.run_dir is not None and checkpoints.has_training_state(self.run_dir):
            info = checkpoints.load_training_state(
                self.run_dir, self.net, self.optimizer, self.scaler
            )
            self.history = [EpochRecord(**r) for r in info.get("history", [])]
            self.best_epoch = int(info.get("best_epoch", 0))
            first = int(info["epoch"]) + 1
            log.info("resuming after epoch %d from %s", first - 1, self.run_dir)
        elif resume:
            log.info("nothing to resume in %s: starting afresh", self.run_dir)
        if first == 1:
            self.history = [EpochRecord(epoch=0, val=self._validate(0))]
            self.best_epoch = 0
            self._save_best()
            self._write_outputs()
        for epoch in range(first, self.config.epochs + 1):
            if should_stop and should_stop():
                log.info("stopped before epoch %d", epoch)
                break
            with tqdm(
                total=len(self.sampler),
                desc=f"epoch {epoch}/{self.config.epochs}",
                unit="batch",
                disable=not progress,
                leave=True,
                dynamic_ncols=True,
            ) as bar:
                record = self.train_epoch(epoch, bar, should_stop, on_batch)
                stopped = record.batches < len(self.sampler)
                if not stopped:
                    record.val = self._validate(epoch)
                    bar.set_postfix(
                        loss=f"{record.loss:.4f}" if record.loss is not None else "-",
                        act=f"{record.active_fraction or 0:.2f}",
                        viol=f"{record.violating_fraction or 0:.3f}",
                        **(
                            {
                                "VAL": f"{record.val['val_at_far']:.3f}",
                                "AUC": f"{record.val['auc']:.4f}",
                            }
                            if record.val
                            else {}
                        ),
                    )
            if stopped:
                log.info(
                    "stopped during epoch %d; the last checkpoint is epoch %d", epoch, epoch - 1
                )
                break
            self.history.append(record)
            if (
                _score(record.val, self.config.select_metric)
                > _score(self.history[self.best_epoch].val, self.config.select_metric)
                or self.validate is None
            ):
                self.best_epoch = epoch
                self._save_best()
            self._checkpoint(epoch)
            if on_epoch:
                on_epoch(record)
        return self.history

    # --- files -----------------------------------------------------------------------------

    def _save_best(self) -> None:
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            checkpoints.save_weights(self.run_dir / "best.safetensors", self.net)

    def load_best(self) -> nn.Module:
        """Put the weights of the best epoch (by validation) into the network."""
        if self.run_dir is None or not (self.run_dir / "best.safetensors").is_file():
            return self.net
        return checkpoints.load_weights(self.run_dir / "best.safetensors", self.net)

    def _checkpoint(self, epoch: int) -> None:
        if self.run_dir is None:
            return
        info = {
            "history": [asdict(r) for r in self.history],
            "best_epoch": self.best_epoch,
            "config": self.config.summary(),
        }
        checkpoints.save_training_state(
            self.run_dir, self.net, self.optimizer, epoch=epoch, info=info, scaler=self.scaler
        )
        self._write_outputs()

    def _write_outputs(self) -> None:
        if self.run_dir is None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "config": self.config.summary(),
            "best_epoch": self.best_epoch,
            "epochs": [asdict(r) for r in self.history],
        }
        (self.run_dir / "history.json").write_text(json.dumps(data, indent=2) + "\n")
        plot_history(self.history, self.run_dir / "plot.png")


def plot_history(history: list[EpochRecord], path: Path, title: str = "fine-tuning") -> None:
    """PNG: training loss (and share of violating triplets), validation VAL@FAR=1e-3 per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=110)
    tr = [r for r in history if r.loss is not None]
    if tr:
        ax1.plot([r.epoch for r in tr], [r.loss for r in tr], "o-", label="triplet loss")
        ax1b = ax1.twinx()
        ax1b.plot(
            [r.epoch for r in tr],
            [r.violating_fraction for r in tr],
            "s--",
            color="tab:orange",
            label="violating triplets",
        )
        ax1b.set_ylabel("share of batch triplets violating the margin", color="tab:orange")
        lines = ax1.get_lines() + ax1b.get_lines()
        ax1.legend(lines, [ln.get_label() for ln in lines], loc="upper right")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss (mean over active triplets)")
    ax1.set_title("training")
    ax1.grid(alpha=0.3)
    va = [r for r in history if r.val]
    if va:
        ax2.plot(
            [r.epoch for r in va], [r.val["val_at_far"] for r in va], "o-", label="VAL@FAR=1e-3"
        )
        ax2.plot([r.epoch for r in va], [r.val["accuracy"] for r in va], "s--", label="accuracy")
        ax2.legend(loc="lower right")
    ax2.set_xlabel("epoch (0 = before training)")
    ax2.set_title("validation (held-out identities)")
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
