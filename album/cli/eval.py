"""``album eval``: the benchmarks (LFW verification here; clustering, the queue and CFP in their
own modules)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from album.cli import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure accuracy on a benchmark")
    bench = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    lfw = bench.add_parser("lfw", help="LFW 10-fold verification (accuracy, VAL@FAR=1e-3, AUC)")
    lfw.add_argument("--data", type=Path, required=True, help="LFW folder with pairs.txt")
    lfw.add_argument("--model", default=None, help="embedder name (see 'album models list')")
    lfw.add_argument("--folds", type=int, default=None, help="evaluate the first N folds only")
    lfw.add_argument("--no-flip", action="store_true", help="do not add the mirrored chip")
    lfw.add_argument(
        "--variant",
        choices=("original", "tight", "rotated"),
        default="original",
        help="harder copies of every image: tight (face box plus 10%%), rotated (+-45 degrees)",
    )
    lfw.add_argument(
        "--split",
        choices=("all", "dev", "test"),
        default="all",
        help="pairs of one half of LFW's people only: tune on dev, report test",
    )
    lfw.add_argument("--json", type=Path, help="write the figures to this JSON file")
    lfw.add_argument("--plot", type=Path, help="write a ROC curve PNG here")
    lfw.add_argument(
        "--pairs", type=Path, help="write each pair's distance, truth and yaw here (.npz)"
    )
    lfw.set_defaults(run=run_lfw)
    from album.cli._eval_cluster import add_arguments, run_cluster

    clu = bench.add_parser(
        "cluster", help="LFW clustering: pairwise and BCubed P/R/F, clusters vs identities"
    )
    add_arguments(clu)
    clu.set_defaults(run=run_cluster)
    from album.cli import _eval_queue

    que = bench.add_parser(
        "queue",
        help='a simulated user answers the "Same person?" queue truthfully on a '
        "make_album album: BCubed F per answer",
    )
    _eval_queue.add_arguments(que)
    que.set_defaults(run=_eval_queue.run_queue)
    from album.cli import _eval_cfp

    cfp = bench.add_parser(
        "cfp",
        help="CFP real side views: frontal-frontal and frontal-profile k-fold accuracy, and "
        "how the stored yaw classes side views",
    )
    _eval_cfp.add_arguments(cfp)
    cfp.set_defaults(run=_eval_cfp.run_cfp)
    from album.cli import _eval_calibration

    cal = bench.add_parser(
        "calibration",
        help='the "Same person?" probabilities shown versus observed on make_album albums '
        "(--fit: fit them, on albums of dev people)",
    )
    _eval_calibration.add_arguments(cal)
    cal.set_defaults(run=_eval_calibration.run_calibration)
    from album.cli import _eval_groups

    grp = bench.add_parser(
        "groups",
        help="probabilities of questions about two groups, shown versus observed, on albums "
        "of LFW's and CFP's people grouped by the app (--fit: fit them, on dev people)",
    )
    _eval_groups.add_arguments(grp)
    grp.set_defaults(run=_eval_groups.run_groups)


def run_lfw(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from album.evaluation.lfw import evaluate_lfw
    from album.evaluation.metrics import save_roc_plot
    from models.embedder import Embedder
    from models.pose import FRONTAL
    from models.registry import DEFAULT_MODEL, WeightsMissingError, logistic_calibration

    if not (args.data / "pairs.txt").is_file():
        raise UserError(f"{args.data}: no pairs.txt here; point --data at the LFW folder")
    try:
        embedder = Embedder(
            args.model or DEFAULT_MODEL, device=args.device, flip=False if args.no_flip else None
        )
    except (WeightsMissingError, KeyError) as exc:
        raise UserError(str(exc)) from None

    with tqdm(total=1, desc="LFW", unit="step", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        res = evaluate_lfw(
            args.data,
            embedder,
            folds=args.folds,
            progress=progress,
            variant=args.variant,
            split=args.split,
        )
    r = res.report
    slope, mid = logistic_calibration(res.distances, res.same)
    folds = len(set(res.folds.tolist()))
    print(
        f"model            {embedder.name} (flip {'on' if embedder.flip else 'off'}, "
        f"device {embedder.device})"
    )
    print(
        f"pairs            {len(res.distances)} in {folds} folds, {res.images} images "
        f"(variant {args.variant}, people {args.split})"
    )
    print(f"accuracy         {100 * r.accuracy:.2f}% +- {100 * r.accuracy_std:.2f}")
    print(f"VAL@FAR=1e-3     {r.val_at_far:.4f} +- {r.val_std:.4f} (FAR reached {r.far:.5f})")
    print(f"ROC AUC          {r.auc:.5f}")
    print(f"threshold        {r.threshold:.4f} (mean of the folds' best)")
    print(f"calibration      P(same) = 1/(1+exp({slope:.2f}*(d-{mid:.4f})))")
    print(
        f"no face          {res.no_face} images (found on retry with looser thresholds: "
        f"{res.retried}); images with no face use LFW's median landmark position"
    )
    turned = res.yaw >= FRONTAL
    if turned.any():
        t_acc = float(((res.distances < r.threshold) == res.same)[turned].mean())
        f_acc = float(((res.distances < r.threshold) == res.same)[~turned].mean())
        print(
            f"by pose          {int(turned.sum())} pairs with a turned face (|yaw| >= "
            f"{FRONTAL:.0f}): {100 * t_acc:.2f}% at the threshold; frontal pairs "
            f"{100 * f_acc:.2f}%"
        )
    print(f"time             {res.seconds:.0f} s")
    figures = {
        "model": embedder.name,
        "flip": embedder.flip,
        "pairs": len(res.distances),
        "folds": folds,
        "variant": args.variant,
        "split": args.split,
        "accuracy": r.accuracy,
        "accuracy_std": r.accuracy_std,
        "val_at_far_1e-3": r.val_at_far,
        "val_std": r.val_std,
        "auc": r.auc,
        "threshold": r.threshold,
        "calibration": [slope, mid],
        "no_face": res.no_face,
        "retried": res.retried,
        "no_face_handling": "median LFW landmark position",
        "seconds": res.seconds,
    }
    if turned.any():
        figures["turned_pairs"] = int(turned.sum())
        figures["turned_accuracy"] = t_acc
        figures["frontal_accuracy"] = f_acc
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.pairs:
        import numpy as np

        np.savez(
            args.pairs,
            distance=res.distances,
            same=res.same,
            yaw=res.yaw,
            fold=res.folds,
            half=res.halves,
        )
    if args.plot:
        save_roc_plot(res.distances, res.same, str(args.plot), f"LFW ROC, {embedder.name}")
    return 0
