"""Timing of one training epoch over N LFW faces with cached chips (``album train --bench``)."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from training.data import load_chips, scan_identity_folders
from training.evaluate import pair_identities
from training.loop import TrainConfig, Trainer
from training.models import DEFAULT_FREEZE, freeze, load_base


def bench_epoch(
    lfw: Path,
    faces: int = 5000,
    base: str = "dlib-resnet-v1",
    freeze_units: int | None = None,
    config: TrainConfig | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict:
    """Train one epoch of ``faces // (P*K)`` batches on the first ``faces`` LFW faces of people
    with two or more images (at most 40 each; people of pairsDevTest.txt left out, as in
    training) and return the figures. Cutting the chips is not timed (it is cached)."""
    from models.registry import get_spec

    config = config or TrainConfig()
    held = lfw / "pairsDevTest.txt"  # the experiment's training people: their chips are cached
    exclude = pair_identities(held) if held.is_file() else set()
    items = scan_identity_folders(lfw, min_faces=2, max_per_identity=40, exclude=exclude)
    items = items[:faces]
    model = load_base(base)
    spec = get_spec(model.spec_name)
    t0 = time.perf_counter()
    data = load_chips(lfw, items, spec, no_face="skip", device=device)
    chips_s = time.perf_counter() - t0
    count = DEFAULT_FREEZE[model.architecture] if freeze_units is None else freeze_units
    freeze(model.net, model.architecture, count)
    batch = config.batch_p * config.batch_k
    config.batches_per_epoch = max(1, len(data) // batch)
    trainer = Trainer(model.net, data, spec.preprocess, config, device=device)
    calls = iter(range(3))  # warm-up: two batches (allocations, thread pools), not timed
    trainer.train_epoch(0, None, lambda: next(calls, 2) >= 2)
    return _timed(trainer, data, count, chips_s, progress)


def _timed(trainer: Trainer, data, frozen: int, chips_s: float, progress: bool) -> dict:
    from tqdm import tqdm

    with tqdm(
        total=len(trainer.sampler), desc="bench epoch", unit="batch", disable=not progress
    ) as bar:
        rec = trainer.train_epoch(1, bar)
    c = trainer.config
    return {
        "faces": rec.faces,
        "seconds": rec.seconds,
        "faces_per_s": rec.faces_per_s,
        "batches": len(trainer.sampler),
        "batch": f"{c.batch_p}x{c.batch_k}",
        "frozen_units": frozen,
        "device": str(trainer.device),
        "threads": torch.get_num_threads(),
        "amp": trainer.amp,
        "dataset_faces": len(data),
        "chips_seconds": chips_s,
        "loss": rec.loss,
    }
