"""Fine-tuning end to end, the way ``album train`` and the app's worker run it.

1. Load the base network; freeze its first layers.
2. Training identities: identity folders (or the catalog's confirmed people) minus every
   identity of the held-out evaluation pairs and of any ``exclude_pairs`` file (checked).
3. A share of the training identities is held out for validation (per-epoch figures, choice
   of the best epoch, calibration of the threshold); the evaluation pairs are used only for
   the before/after report, never for a choice.
4. Train, keep the best epoch, evaluate before/after on the same held-out pairs, calibrate on
   the validation pairs, save and register the model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from training import checkpoints
from training.data import ChipDataset, DetectorSettings, FaceItem, load_chips, scan_identity_folders
from training.evaluate import (
    Evaluation,
    PairEvaluator,
    PairSet,
    balanced_pairs,
    check_disjoint,
    lfw_pair_set,
    pair_identities,
)
from training.loop import EpochRecord, TrainConfig, Trainer
from training.models import DEFAULT_FREEZE, freeze, load_base

log = logging.getLogger(__name__)


class TrainingError(ValueError):
    """A problem with the request or its data that the user can fix (message says how)."""


class TrainingCancelled(Exception):
    """``should_stop()`` turned true: the run folder keeps the last finished epoch."""


@dataclass
class FineTuneRequest:
    """Everything a fine-tuning run needs. ``data`` (identity folders) or ``dataset`` (chips
    already cut, e.g. from the catalog) must be given."""

    name: str
    data: Path | None = None
    dataset: ChipDataset | None = None
    base: str = "dlib-resnet-v1"
    embedding_size: int | None = None
    freeze: int | None = None  # leading units frozen; None: DEFAULT_FREEZE (0 from scratch)
    config: TrainConfig = field(default_factory=TrainConfig)
    eval_pairs: Path | None = None  # held-out pairs (LFW format) reported before/after
    eval_root: Path | None = None  # folder the eval pairs' images are in (default: data)
    exclude_pairs: list[Path] = field(default_factory=list)
    val_fraction: float = 0.1  # identities held out for validation
    val_pairs: int = 3000  # matched (and as many mismatched) validation pairs at most
    max_per_identity: int | None = 40
    max_identities: int | None = None
    device: str | None = None
    resume: bool = False
    keep: Literal["best", "last"] = "best"
    run_dir: Path | None = None  # default: <models_dir>/training-runs/<name>
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    progress: bool = True


@dataclass
class FineTuneResult:
    name: str
    meta_path: Path
    run_dir: Path
    history: list[EpochRecord]
    kept_epoch: int
    before: Evaluation | None
    after: Evaluation | None
    after_last: Evaluation | None  # the last epoch's, when an earlier one was kept
    train_faces: int
    train_identities: int
    val_faces: int
    seconds: float
    notes: list[str]


def default_run_dir(name: str) -> Path:
    from models.paths import models_dir

    return models_dir() / "training-runs" / name


def _status(msg: str, callback: Callable[[str], None] | None) -> None:
    log.info(msg)
    if callback:
        callback(msg)


def fine_tune(
    req: FineTuneRequest,
    *,
    status: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
) -> FineTuneResult:
    """Run the whole recipe; ``status`` receives one-line messages for a user.

    For the app's worker ("Improve recognition from my labels"): ``should_stop`` is polled
    before every batch (cancel), ``on_batch(epoch, done, total)`` and ``on_epoch(record)``
    report progress; everything runs in the calling thread.
    """
    from models.device import resolve_device
    from models.registry import get_spec

    start = time.perf_counter()
    try:
        checkpoints.check_name(req.name)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    device = resolve_device(req.device)
    notes: list[str] = []
    base = load_base(req.base, req.embedding_size)
    spec = get_spec(base.spec_name)
    frozen = _freeze_leading(base, req.freeze)
    _status(
        f"base {req.base} ({base.architecture}, {base.embedding_size}-d), "
        f"{len(frozen)} leading units frozen",
        status,
    )

    held_out, eval_items, eval_pairs = _held_out_identities(req)
    data = _training_data(req, held_out, spec, device, status)
    check_disjoint(data.identities, held_out)
    data, val_set, val_eval = _validation_split(req, data, spec, device, notes)
    _fit_batches_to_people(req, data, notes)
    val_faces = len(val_set) if val_set is not None else 0
    val_people = len(val_set.identities) if val_set is not None else 0
    _status(
        f"training on {len(data)} faces of {len(data.identities)} people; validation: "
        f"{val_faces} faces of {val_people} other people",
        status,
    )
    test_eval = None
    if eval_pairs is not None:
        test_eval = _test_evaluator(req, data, eval_items, eval_pairs, spec, device)

    run_dir = req.run_dir or default_run_dir(req.name)
    before = None
    if test_eval is not None:
        before = _before(test_eval, base.net.to(device), run_dir, req, status)
    trainer = Trainer(
        base.net,
        data,
        spec.preprocess,
        req.config,
        run_dir=run_dir,
        device=device,
        validate=val_eval,
    )
    history = trainer.fit(
        resume=req.resume,
        progress=req.progress,
        should_stop=should_stop,
        on_epoch=on_epoch,
        on_batch=on_batch,
    )
    if should_stop is not None and should_stop():
        raise TrainingCancelled(
            f"training stopped after epoch {history[-1].epoch}; nothing was registered. "
            f"Resume it later from {run_dir}"
        )
    kept, after_last = _keep_epoch(req, trainer, history, val_eval, test_eval)
    net = trainer.net.eval()
    after = test_eval(net) if test_eval is not None else None
    threshold, calibration, cal_source = _threshold(val_eval, trainer, kept, net, spec)
    figures = {
        "data": str(req.data) if req.data else "catalog",
        "train_faces": len(data),
        "train_identities": len(data.identities),
        "val_faces": val_faces,
        "val_identities": val_people,
        "eval_pairs": str(req.eval_pairs) if req.eval_pairs else None,
        "before": before.figures() if before else None,
        "after": after.figures() if after else None,
        "after_last_epoch": after_last.figures() if after_last else None,
        "kept_epoch": kept,
        "frozen_units": frozen,
        "calibration_source": cal_source,
        "config": req.config.summary(),
        "epochs": [asdict(r) for r in history],
        "run_dir": str(run_dir),
    }
    meta_path = checkpoints.save_trained(
        req.name,
        net,
        base=base.spec_name,
        architecture=base.architecture,
        init=base.init,
        embedding_size=base.embedding_size,
        threshold=threshold,
        calibration=calibration,
        description=_description(req, data, kept, history[-1].epoch, notes),
        training=figures,
    )
    checkpoints.refresh_registry(req.name)
    return FineTuneResult(
        name=req.name,
        meta_path=meta_path,
        run_dir=run_dir,
        history=history,
        kept_epoch=kept,
        before=before,
        after=after,
        after_last=after_last,
        train_faces=len(data),
        train_identities=len(data.identities),
        val_faces=val_faces,
        seconds=time.perf_counter() - start,
        notes=notes,
    )


def _freeze_leading(base, count: int | None) -> list[str]:
    """Freeze the base's ``count`` leading units (None: from scratch everything trains, a
    pretrained base keeps its features: DEFAULT_FREEZE); returns the frozen units."""
    if count is None:
        count = 0 if base.init == "scratch" else DEFAULT_FREEZE[base.architecture]
    try:
        return freeze(base.net, base.architecture, count)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None


def _held_out_identities(
    req: FineTuneRequest,
) -> tuple[set[str], list[FaceItem], PairSet | None]:
    """(identities never trained on, the evaluation pairs' items, the evaluation pairs):
    everyone in the evaluation pairs and in any ``exclude_pairs`` file."""
    held_out: set[str] = set()
    eval_items: list[FaceItem] = []
    eval_pairs = None
    if req.eval_pairs is not None:
        eval_items, eval_pairs = lfw_pair_set(req.eval_pairs)
        held_out |= pair_identities(req.eval_pairs)
    for f in req.exclude_pairs:
        held_out |= pair_identities(f)
    return held_out, eval_items, eval_pairs


def _training_data(req: FineTuneRequest, held_out: set[str], spec, device, status) -> ChipDataset:
    """The chips to train on, without the ``held_out`` identities: the request's dataset, or
    chips cut from its identity folders (detection cached)."""
    if req.dataset is not None:
        data = req.dataset
        if held_out:
            keep = [i for i, lab in enumerate(data.labels) if data.identities[lab] not in held_out]
            data = data.subset(keep)
        return data
    if req.data is None:
        raise TrainingError("give identity folders (data) or a dataset")
    items = scan_identity_folders(
        req.data, min_faces=2, max_per_identity=req.max_per_identity, exclude=held_out
    )
    if req.max_identities:
        names = sorted({it.identity for it in items})[: req.max_identities]
        items = [it for it in items if it.identity in set(names)]
    if not items:
        raise TrainingError(f"{req.data}: no identity folder with two or more images to train on")
    _status(
        f"cutting chips of {len(items)} images ({len({i.identity for i in items})} "
        "people); detection is cached",
        status,
    )
    return load_chips(
        req.data,
        items,
        spec,
        no_face="skip",
        settings=req.detector,
        device=str(device),
        progress=_progress_printer(req.progress),
    )


def _validation_split(
    req: FineTuneRequest, data: ChipDataset, spec, device, notes: list[str]
) -> tuple[ChipDataset, ChipDataset | None, PairEvaluator | None]:
    """(training set, validation set, validation evaluator): ``val_fraction`` of the
    identities held out for validation (disjoint from training and from the evaluation
    pairs). Without enough identities there is no validation (a note says so)."""
    if req.val_fraction <= 0:
        return data, None, None
    train_set, val_set = data.split_identities(req.val_fraction, seed=req.config.seed)
    if len(val_set) and (val_set.identity_counts() >= 2).any():
        check_disjoint(train_set.identities, val_set.identities)
        vpairs = balanced_pairs(val_set.labels, req.val_pairs, seed=req.config.seed)
        val_eval = PairEvaluator(val_set, vpairs, spec.preprocess, flip=spec.flip, device=device)
        return train_set, val_set, val_eval
    notes.append(
        "too few identities for a validation split: no per-epoch validation, "
        "the last epoch is kept and the base's threshold is used"
    )
    return data, None, None


def _fit_batches_to_people(req: FineTuneRequest, data: ChipDataset, notes: list[str]) -> None:
    """Refuse data with fewer than two people of two faces; take P (people per batch) from
    what there is when there are fewer than ``batch_p`` (a family album)."""
    valid_ids = int((data.identity_counts() >= 2).sum())
    if valid_ids < 2:
        raise TrainingError(
            f"only {valid_ids} people have two or more faces to train on; confirm at least "
            "two faces each of at least two people"
        )
    if valid_ids < req.config.batch_p:  # a family album: P from what there is
        notes.append(
            f"batches of {valid_ids} people (all there are) instead of {req.config.batch_p}"
        )
        req.config = replace(req.config, batch_p=valid_ids)


def _test_evaluator(
    req: FineTuneRequest,
    data: ChipDataset,
    eval_items: list[FaceItem],
    eval_pairs: PairSet,
    spec,
    device,
) -> PairEvaluator:
    """The held-out evaluation pairs' evaluator (their chips cut now, before training)."""
    root = req.eval_root or req.data
    if root is None:
        raise TrainingError("eval_root is needed to find the images of the evaluation pairs")
    check_disjoint(data.identities, {it.identity for it in eval_items})
    eval_set = load_chips(
        root,
        eval_items,
        spec,
        no_face="median",
        settings=req.detector,
        device=str(device),
        progress=_progress_printer(req.progress),
    )
    return PairEvaluator(eval_set, eval_pairs, spec.preprocess, flip=spec.flip, device=device)


def _keep_epoch(
    req: FineTuneRequest,
    trainer: Trainer,
    history: list[EpochRecord],
    val_eval: PairEvaluator | None,
    test_eval: PairEvaluator | None,
) -> tuple[int, Evaluation | None]:
    """The epoch to keep (the best on validation, or the last), loaded into the trainer's
    network, and the last epoch's test evaluation when an earlier one was kept."""
    kept = trainer.best_epoch if req.keep == "best" and val_eval is not None else history[-1].epoch
    after_last = None
    if kept != history[-1].epoch:
        if test_eval is not None:  # reported for transparency, never used to choose
            after_last = test_eval(trainer.net)
        trainer.load_best()
    return kept, after_last


def _threshold(val_eval: PairEvaluator | None, trainer: Trainer, kept: int, net, spec):
    """(threshold, calibration, where they came from): from the validation pairs (not the
    reported test pairs), else the base's."""
    from models.registry import logistic_calibration

    if val_eval is None:
        return spec.threshold, spec.calibration, f"copied from {spec.name}"
    ev = trainer.evaluations.get(kept) or val_eval(net)
    calibration = logistic_calibration(ev.distances, ev.same)
    return ev.report.threshold, calibration, "validation pairs of held-out training identities"


def _description(
    req: FineTuneRequest, data: ChipDataset, kept: int, last: int, notes: list[str]
) -> str:
    """The registered model's description (and a note when no epoch beat the start)."""
    if kept == 0 and last > 0:
        notes.append(
            "no epoch beat the starting model on the validation people: the registered "
            "model keeps the base's weights (recalibrated); see the run's plot.png"
        )
        return (
            f"{req.base} recalibrated; triplet fine-tuning on {len(data.identities)} people "
            f"did not improve validation, base weights kept"
        )
    return (
        f"{req.base} fine-tuned with triplets on {len(data.identities)} people "
        f"({len(data)} faces), epoch {kept} of {last}"
    )


def _before(
    test_eval: PairEvaluator, net, run_dir: Path, req: FineTuneRequest, status
) -> Evaluation:
    """The starting model's evaluation; a resumed run reuses the one its first start made."""
    import json

    import numpy as np

    from album.evaluation.metrics import kfold_report

    cache = run_dir / "before.json"
    key = {"pairs": str(req.eval_pairs), "base": req.base, "count": len(test_eval.pairs)}
    if req.resume and cache.is_file():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            d, same = np.array(saved["distances"]), np.array(saved["same"], dtype=bool)
            return Evaluation(kfold_report(d, same, test_eval.pairs.folds), d, same)
    _status(f"evaluating the base model on {len(test_eval.pairs)} held-out pairs", status)
    ev = test_eval(net)
    run_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps({"key": key, "distances": ev.distances.tolist(), "same": ev.same.tolist()})
    )
    return ev


def _progress_printer(enabled: bool) -> Callable[[str, int, int], None] | None:
    if not enabled:
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="img", leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress
