"""``album eval cfp``: real side views. CFP's frontal-frontal and frontal-profile folds, and how
the stored yaw classes its frontal and profile faces (``album.evaluation.cfp``)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from album.cli import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="CFP folder (Data/, Protocol/)")
    p.add_argument("--model", default=None, help="embedder name (see 'album models list')")
    p.add_argument(
        "--folds", default=None, help="comma-separated fold numbers (default: every fold there)"
    )
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")


def run_cfp(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from album.evaluation.cfp import PAD, evaluate_cfp, evaluate_side_views
    from models.embedder import Embedder
    from models.pose import PROFILE
    from models.registry import DEFAULT_MODEL, WeightsMissingError

    if not (args.data / "Protocol" / "Pair_list_F.txt").is_file():
        raise UserError(f"{args.data}: no Protocol/Pair_list_F.txt here; point --data at CFP")
    try:
        folds = [int(f) for f in args.folds.split(",")] if args.folds else None
    except ValueError:
        raise UserError(f"--folds {args.folds!r}: give fold numbers such as 1,2,3") from None
    try:
        embedder = Embedder(args.model or DEFAULT_MODEL, device=args.device)
    except (WeightsMissingError, KeyError) as exc:
        raise UserError(str(exc)) from None

    with tqdm(total=1, desc="CFP", unit="image", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        sides = evaluate_side_views(args.data, embedder.device, progress)
        try:
            results = evaluate_cfp(args.data, embedder, folds, progress)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    print(f"model            {embedder.name} (flip {'on' if embedder.flip else 'off'})")
    print(f"faces            as in a photo: each crop edge-padded by {PAD:.0%} per side")
    print(f"side views       |yaw| >= {PROFILE:.0f} is a profile (classifier fitted on dev)")
    for s in sides:
        print(
            f"  people {s.split:5}  {100 * s.side_as_profile:6.2f}% of {s.side_views} side "
            f"views, {100 * s.frontal_as_profile:.2f}% of {s.frontal} frontal faces classed "
            f"profile (five-point yaw alone: {100 * s.five_point_side_as_profile:.2f}%); no "
            f"face in {s.no_face_side} side views, {s.no_face_frontal} frontal"
        )
    for r in results.values():
        print(
            f"{r.protocol} accuracy      {100 * r.accuracy:.2f}% +- {100 * r.accuracy_std:.2f} "
            f"({r.pairs} pairs, folds {','.join(map(str, r.folds))}; {r.missed} pairs with "
            "no face, counted wrong)"
        )
        if r.by_split:
            halves = ", ".join(f"{k} {100 * v:.2f}%" for k, v in r.by_split.items())
            print(f"  pairs of one half of the people: {halves}")
    if args.json:
        figures = {
            "model": embedder.name,
            "side_views": [asdict(s) for s in sides],
            **{r.protocol: asdict(r) for r in results.values()},
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0
