"""``album train``: fine-tune a face embedder with online semi-hard triplets (FaceNet).

album train --data LFW_DIR --out my-model                 # View 1 DevTest held out
album train --from-catalog --out family                  # your people: head over the network
album train --from-catalog --network --epochs 5          # the network's last layer instead
album train --bench --data LFW_DIR                        # time one epoch of 5,000 faces
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
from collections import Counter
from pathlib import Path

from album.cli import UserError

HELP = "fine-tune a face model on labelled faces (triplet loss)"
DESCRIPTION = (
    "Fine-tune a face-recognition model with FaceNet's triplet loss on "
    "identity folders (Person/Person_0001.jpg, the LFW layout) or on the people confirmed "
    "in the catalog, then register it under --out so the app can select it. Identities "
    "of the held-out evaluation pairs are never trained on."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", type=Path, help="folder of identity folders (e.g. LFW)")
    src.add_argument(
        "--from-catalog",
        action="store_true",
        help="learn from your labels in the catalog (--library): confirmed faces, rejections, "
        "answers; judged on faces held out from training, kept only if it recognises your "
        "people better",
    )
    p.add_argument(
        "--network",
        action="store_true",
        help="with --from-catalog: fine-tune the network's last layer on the confirmed faces' "
        "chips (slower, the --data recipe) instead of a head over the stored embeddings",
    )
    p.add_argument(
        "--check-lfw",
        type=Path,
        help="with --from-catalog: LFW folder for the general check (its View 1 test pairs); "
        "default: pairs of album faces no training used",
    )
    p.add_argument(
        "--adopt",
        action="store_true",
        help="with --from-catalog: when the new model is kept, switch the catalog to it and "
        "re-group at once",
    )
    p.add_argument(
        "--base",
        default="dlib-resnet-v1",
        help="model to start from: dlib-resnet-v1 (default), facenet-vggface2, "
        "facenet-casia, inception-resnet-v1 (from scratch) or a trained model",
    )
    p.add_argument(
        "--embedding-size",
        type=int,
        help="output size (default: the base's; another size replaces the last layer)",
    )
    p.add_argument("--out", help="name of the new model (default: <base>-ft-<date>)")
    p.add_argument(
        "--epochs", type=int, default=8, help="epochs, i.e. validations and checkpoints (default 8)"
    )
    p.add_argument("--batch-p", type=int, default=16, help="identities per batch (default 16)")
    p.add_argument("--batch-k", type=int, default=4, help="faces per identity (default 4)")
    p.add_argument(
        "--batches-per-epoch",
        type=int,
        default=20,
        help="batches between validations (default 20; 0: one pass over the training faces)",
    )
    p.add_argument("--lr", type=float, help="learning rate (default 1e-5; 1e-3 from scratch)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument(
        "--miner",
        choices=("semihard", "hard", "all"),
        default="semihard",
        help="triplet mining: semihard (FaceNet), hard (hardest negative) or all (batch-all)",
    )
    p.add_argument(
        "--select",
        choices=("all", "one"),
        default="all",
        help="semi-hard negatives per anchor-positive pair: all, or one (the closest)",
    )
    p.add_argument("--margin", type=float, default=0.2, help="alpha (default 0.2)")
    p.add_argument(
        "--freeze",
        type=int,
        help="leading stages kept frozen: dlib 0-15 (stem, 14 blocks), default 15 = train "
        "the fc layer only, 11 = also the last 3 blocks; inception 0-13, default 12 = "
        "last_linear + last_bn; from scratch 0",
    )
    p.add_argument(
        "--max-per-identity",
        type=int,
        default=40,
        help="images used per person at most (default 40)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of training people held out for validation (default 0.1)",
    )
    p.add_argument(
        "--keep",
        choices=("best", "last"),
        default="best",
        help="keep the best epoch by validation VAL (default) or the last",
    )
    p.add_argument(
        "--eval-pairs",
        type=Path,
        help="held-out pairs (LFW format) reported before/after; default "
        "DATA/pairsDevTest.txt when present",
    )
    p.add_argument(
        "--eval-data", type=Path, help="folder holding the images of --eval-pairs (default: --data)"
    )
    p.add_argument("--no-eval", action="store_true", help="no before/after evaluation")
    p.add_argument(
        "--exclude-pairs",
        type=Path,
        action="append",
        default=[],
        help="also never train on the people of this pairs file (repeatable)",
    )
    p.add_argument("--resume", action="store_true", help="continue the run of --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads (on a busy machine 1 can win)")
    p.add_argument("--device", default=argparse.SUPPRESS, help="cpu, cuda or auto")
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")
    p.add_argument(
        "--bench",
        action="store_true",
        help="only time one epoch over --bench-faces faces of --data (LFW)",
    )
    p.add_argument("--bench-faces", type=int, default=5000)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _config(args: argparse.Namespace):
    from training.loop import TrainConfig
    from training.models import SCRATCH

    for flag in ("epochs", "batch_p", "batch_k"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag.replace('_', '-')} must be positive")
    return TrainConfig(
        epochs=args.epochs,
        batch_p=args.batch_p,
        batch_k=args.batch_k,
        batches_per_epoch=args.batches_per_epoch or None,
        lr=args.lr if args.lr is not None else (1e-3 if args.base in SCRATCH else 1e-5),
        optimizer=args.optimizer,
        miner=args.miner,
        select=args.select,
        margin=args.margin,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = getattr(args, "device", None)
    if args.bench:
        return _bench(args, device)
    if not args.data and not args.from_catalog:
        raise UserError("say what to train on: --data DIR (identity folders) or --from-catalog")
    if args.from_catalog and not args.network:
        return _train_personal(args)
    return _train(args, device)


def _train_personal(args: argparse.Namespace) -> int:
    """``--from-catalog``: the app's "Improve recognition from my labels", same figures."""
    from training.personal import adopt, personal_fine_tune, write_json
    from training.personal_data import PersonalTrainingError

    path = Path(args.library) if getattr(args, "library", None) else None
    if path is not None and not path.is_file():
        raise UserError(f"{path}: no catalog file here")
    if args.check_lfw is not None and not (args.check_lfw / "pairsDevTest.txt").is_file():
        raise UserError(f"{args.check_lfw}: no LFW pairsDevTest.txt here")
    name = args.out or f"personal-{_dt.datetime.now():%Y%m%d-%H%M}"
    try:
        res = personal_fine_tune(
            path,
            name,
            lfw=args.check_lfw,
            status=None if args.quiet else lambda m: print(m, flush=True),
        )
    except PersonalTrainingError as exc:
        raise UserError(str(exc)) from None
    h = res.held_out
    print()
    print(f"held-out faces of your people: {h.faces} (each held out once, {len(res.folds)} parts)")
    print(f"{'':28}{'before':>10}{'after':>10}")
    print(f"{'identification':28}{100 * h.id_before:9.1f}%{100 * h.id_after:9.1f}%")
    if h.same_pairs or h.diff_pairs:
        same = (100 * h.same_before, 100 * h.same_after)
        print(f"{'same person? (balanced)':28}{same[0]:9.1f}%{same[1]:9.1f}%")
    if res.general is not None:
        g = res.general
        label = "general: LFW pairs" if g.kind == "lfw" else "general: other album pairs"
        print(f"{label:28}{100 * g.before:9.1f}%{100 * g.after:9.1f}%  ({g.pairs} pairs)")
    print()
    print(res.summary())
    print(f"({res.seconds:.1f} s)")
    if args.json:
        write_json(res, args.json)
    if res.kept and args.adopt:
        summary = adopt(path, res)
        print(
            f"switched the catalog to {res.name} and re-grouped: {summary.clusters} groups, "
            f"{summary.assigned} faces recognised"
        )
    elif res.kept:
        print(
            f"to use it: album reembed --model {res.name}, or choose it in the app's Settings "
            "(--adopt switches at once)"
        )
    return 0


def _bench(args: argparse.Namespace, device: str | None) -> int:
    from training.bench import bench_epoch

    if not args.data or not args.data.is_dir():
        raise UserError("--bench needs --data pointing at LFW (identity folders)")
    figures = bench_epoch(
        args.data,
        args.bench_faces,
        args.base,
        args.freeze,
        _config(args),
        device,
        progress=not args.quiet,
    )
    print(
        f"one epoch: {figures['faces']} faces in {figures['seconds']:.1f} s = "
        f"{figures['faces_per_s']:.1f} faces/s ({figures['batches']} batches of "
        f"{figures['batch']}, {figures['frozen_units']} units frozen, device "
        f"{figures['device']}, {figures['threads']} threads, amp {figures['amp']})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def _catalog_dataset(args: argparse.Namespace, base: str):
    from models.registry import UnknownModelError
    from training.data import chips_from_confirmed, confirmed_faces
    from training.models import base_spec_name

    path = Path(args.library) if getattr(args, "library", None) else None
    if path is not None and not path.is_file():
        raise UserError(f"{path}: no catalog file here")
    try:
        faces = confirmed_faces(path)
    except Exception as exc:  # the catalog's own errors (SchemaError, sqlite) are user-facing
        if exc.__class__.__name__ not in ("SchemaError", "DatabaseError", "OperationalError"):
            raise
        raise UserError(f"cannot read the catalog: {exc}") from None
    people = {f.person for f in faces}
    counts = Counter(f.person for f in faces)
    enough = sum(n >= 2 for n in counts.values())
    if enough < 2:
        raise UserError(
            f"{enough} people have two or more confirmed faces in the catalog; training needs "
            "at least 2: confirm more faces first"
        )
    print(f"{len(faces)} confirmed faces of {len(people)} people in the catalog", flush=True)
    try:
        spec_name = base_spec_name(base)
    except UnknownModelError as exc:
        raise UserError(str(exc)) from None
    return chips_from_confirmed(faces, spec_name)


def _train(args: argparse.Namespace, device: str | None) -> int:
    from models.registry import UnknownModelError, WeightsMissingError
    from training import checkpoints
    from training.pipeline import FineTuneRequest, TrainingError, fine_tune

    name = args.out or f"{args.base}-ft-{_dt.date.today():%Y%m%d}"
    try:
        checkpoints.check_name(name)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    eval_pairs, eval_root = _evaluation_pairs(args)
    dataset = _catalog_dataset(args, args.base) if args.from_catalog else None
    req = FineTuneRequest(
        name=name,
        data=args.data,
        dataset=dataset,
        base=args.base,
        embedding_size=args.embedding_size,
        freeze=args.freeze,
        config=_config(args),
        eval_pairs=eval_pairs,
        eval_root=eval_root,
        exclude_pairs=list(args.exclude_pairs),
        val_fraction=args.val_fraction,
        max_per_identity=args.max_per_identity,
        device=device,
        resume=args.resume,
        keep=args.keep,
        progress=not args.quiet,
    )
    try:
        res = fine_tune(req, status=lambda m: print(m, flush=True))
    except (WeightsMissingError, UnknownModelError, FileNotFoundError, TrainingError) as exc:
        raise UserError(str(exc)) from None

    print()
    _print_history(res.history)
    if res.before and res.after:
        _print_before_after(res, eval_pairs)
    for note in res.notes:
        print(f"note: {note}")
    _print_registered(res)
    if args.json:
        figures = json.loads(res.meta_path.read_text())
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def _evaluation_pairs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The held-out pairs file to report before/after on (``--eval-pairs``, else the data's
    ``pairsDevTest.txt``; none with ``--no-eval``) and the folder holding their images."""
    eval_pairs = args.eval_pairs
    if args.data and not args.data.is_dir():
        raise UserError(f"{args.data} is not a folder")
    if eval_pairs is None and args.data and not args.no_eval:
        default = args.data / "pairsDevTest.txt"
        eval_pairs = default if default.is_file() else None
    if args.no_eval:
        eval_pairs = None
    for f in [eval_pairs, *args.exclude_pairs]:
        if f is not None and not Path(f).is_file():
            raise UserError(f"{f}: no such pairs file")
    eval_root = (args.eval_data or args.data) if eval_pairs else None
    if eval_pairs is not None and eval_root is None:
        raise UserError(
            "--eval-pairs needs --eval-data or --data (the folder holding the pairs' images)"
        )
    return eval_pairs, eval_root


def _print_history(history) -> None:
    """One line per epoch: loss and mining figures, and the validation figures if any."""
    for r in history:
        val = (
            (
                f"  val: acc {100 * r.val['accuracy']:.2f}%  VAL@1e-3 {r.val['val_at_far']:.4f}  "
                f"AUC {r.val['auc']:.5f}"
            )
            if r.val
            else ""
        )
        if r.loss is None:
            print(f"epoch 0 (start){val}")
        else:
            print(
                f"epoch {r.epoch}: loss {r.loss:.4f}  active {r.active_fraction:.2f}  "
                f"violating {r.violating_fraction:.3f}  {r.seconds:.0f} s "
                f"({r.faces_per_s:.1f} faces/s){val}"
            )


def _print_before_after(res, eval_pairs: Path | None) -> None:
    """The held-out pairs' figures: before, after (the kept epoch) and the last epoch's."""
    b, a = res.before.report, res.after.report
    print(
        f"\nheld-out pairs: {eval_pairs} ({len(res.before.distances)} pairs, people never "
        "trained on)"
    )
    cols = [("before", b), (f"after (epoch {res.kept_epoch})", a)]
    if res.after_last is not None:
        cols.append((f"last epoch ({res.history[-1].epoch})", res.after_last.report))
    print(f"{'':16}" + "".join(f"{title:>20}" for title, _ in cols))
    print(f"{'accuracy':16}" + "".join(f"{100 * r.accuracy:19.2f}%" for _, r in cols))
    print(f"{'VAL@FAR=1e-3':16}" + "".join(f"{r.val_at_far:20.4f}" for _, r in cols))
    print(f"{'AUC':16}" + "".join(f"{r.auc:20.5f}" for _, r in cols))


def _print_registered(res) -> None:
    """Where the registered model is, its threshold, and the mean epoch time."""
    from models.registry import get_spec

    spec = get_spec(res.name)
    print(
        f"\nregistered model {res.name} (kept epoch {res.kept_epoch}; threshold "
        f"{spec.threshold:.4f}); select it in the app or use --model {res.name}"
    )
    print(
        f"files: {res.meta_path.with_suffix('.safetensors')}, run folder {res.run_dir} "
        "(plot.png, history.json)"
    )
    trained = [r for r in res.history if r.loss is not None]
    if trained:
        print(f"mean epoch time {sum(r.seconds for r in trained) / len(trained):.0f} s")
