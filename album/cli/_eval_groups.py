"""``album eval groups``: the probabilities of questions about two groups, shown versus
observed, on albums drawn from one half of LFW's and CFP's people and grouped by the app's
clustering (``album.evaluation.group_calibration``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from album.cli._eval_calibration import print_bins


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lfw", type=Path, metavar="DIR", help="LFW (people with >= 10 images)")
    p.add_argument("--cfp", type=Path, metavar="DIR", help="CFP (real side views)")
    p.add_argument("--split", default="test", choices=("dev", "test"), help="people (test)")
    p.add_argument("--albums", type=int, default=40, help="albums per source (40)")
    p.add_argument("--people", type=int, default=30, help="people per album (30)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=None, help="embedding model (default: the default)")
    p.add_argument(
        "--fit",
        action="store_true",
        help="fit the calibration on these albums (use --split dev) and print it for "
        "models/fitted.py",
    )


def run_groups(args: argparse.Namespace) -> int:
    import numpy as np

    from album.evaluation.group_calibration import (
        GROUP_KINDS,
        fit_groups,
        group_reliability,
        shown_groups,
        simulate,
    )
    from models.registry import DEFAULT_MODEL, get_spec

    if not (args.lfw or args.cfp):
        raise UserError("give --lfw DIR and/or --cfp DIR")
    if args.albums < 1 or args.people < 2:
        raise UserError("--albums must be >= 1 and --people >= 2")
    spec = get_spec(args.model or DEFAULT_MODEL)
    sources = {}
    try:
        if args.lfw:
            from album.evaluation.lfw_faces import load_lfw_faces

            sources["lfw"] = load_lfw_faces(args.lfw, 10, spec.name, split=args.split)
        if args.cfp:
            from album.evaluation.cfp_faces import load_cfp_faces

            sources["cfp"] = load_cfp_faces(args.cfp, args.split, spec.name).faces
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    records = simulate(sources, spec, args.albums, args.seed, args.people)
    print(f"model     {spec.name}; people: {args.split} split; seed {args.seed}")
    for name in sources:
        mine = [r for r in records if r.source == name]
        print(
            f"{name:<9} {args.albums} albums of {args.people} people: {len(mine)} group "
            f"questions ("
            + ", ".join(f"{sum(r.kind == k for r in mine)} {k}" for k in GROUP_KINDS)
            + f"), {sum(r.side_view for r in mine)} showing a side view"
        )
    if not records:
        raise UserError("the albums gave no group question")
    table = fit_groups(records, spec.threshold) if args.fit else spec.group_calibration
    print_bins(
        "raw (pair calibration sharpened by the groups' sizes)",
        group_reliability(records, (), spec.threshold),
    )
    cal = group_reliability(records, table, spec.threshold)
    print_bins("shown (group calibration" + (", the fit below)" if args.fit else ")"), cal)
    same = np.array([r.same for r in records], dtype=bool)
    p = shown_groups(records, table, spec.threshold)
    for low in (0.9, 0.99):
        high = p >= low
        if high.any():
            print(
                f"shown >= {100 * low:.0f}%: {int(high.sum())} questions, "
                f"{100 * same[high].mean():.1f}% the same person"
            )
    worst = max((abs(b.shown - b.observed) for b in cal if b.questions >= 20), default=0.0)
    print(f"largest gap in a bin of >= 20 questions: {worst:.2f}")
    if args.fit:
        print("\n# models/fitted.py")
        print(f"group_calibration of {spec.name} = {table!r}")
    return 0
