"""``album eval calibration``: the "Same person?" queue's probabilities, shown versus observed,
on albums made by ``benchmarks/make_album.py`` (``album.evaluation.calibration``)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from album.cli import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", type=Path, nargs="+", metavar="DIR", help="albums with truth.json")
    p.add_argument("--answers", type=int, default=30, help="answers per album (30)")
    p.add_argument("--every", type=int, default=5, help="look at the queue every N answers (5)")
    p.add_argument(
        "--libraries",
        type=Path,
        metavar="DIR",
        help="keep each album's scanned catalog here (DIR/<album>.db) and reuse it next time",
    )
    p.add_argument(
        "--fit",
        action="store_true",
        help="fit the calibration on these albums (dev people) and print it for models/fitted.py",
    )
    p.add_argument("--json", type=Path, help="write every question seen (JSON lines) here")


def print_bins(title: str, bins) -> None:
    """A reliability table: per bin, how many questions, shown against observed."""
    print(title)
    for b in bins:
        print(
            f"  {b.low:.1f}-{b.high:.1f}  {b.questions:>5} questions  shown {b.shown:.2f}  "
            f"observed {b.observed:.2f}"
        )


def run_calibration(args: argparse.Namespace) -> int:
    import numpy as np

    from album.cli.scan import progress_bar
    from album.evaluation.calibration import Observed, fit, observer, reliability, shown
    from album.evaluation.queue_sim import AlbumMatch, read_truth, run_queue_eval
    from models.registry import DEFAULT_MODEL, get_spec

    if args.every < 1 or args.answers < 0:
        raise UserError("--every must be >= 1 and --answers >= 0")
    records: list[Observed] = []
    specs: set[str] = set()
    for folder in args.folders:
        if not (folder / "truth.json").is_file():
            raise UserError(f"{folder}: no truth.json; make it with benchmarks/make_album.py")
        truth = read_truth(folder)
        library = None
        if args.libraries:
            args.libraries.mkdir(parents=True, exist_ok=True)
            library = args.libraries / f"{folder.resolve().name}.db"
        found: list[Observed] = []
        holder: dict = {}

        def scanned(m: AlbumMatch, holder: dict = holder) -> None:
            holder["identity"] = m.identity

        def look(service, answers: int, holder: dict = holder, found: list = found) -> None:
            if "look" not in holder:
                holder["look"] = observer(holder["identity"], found, args.every)
                specs.add(service.spec.name)
            holder["look"](service, answers)

        try:
            with progress_bar(True) as bar:
                run_queue_eval(
                    folder,
                    answers=args.answers,
                    library=library,
                    device=args.device,
                    progress=bar,
                    on_scanned=scanned,
                    observe=look,
                )
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise UserError(str(exc)) from None
        side = sum(r.side_view for r in found)
        print(
            f"album     {folder} (people {truth.get('split', '?')}): {len(found)} questions "
            f"seen, {side} about a side view"
        )
        records.extend(found)

    if len(specs) > 1:
        raise UserError("these albums' catalogs use different models: look at one model at a time")
    spec = get_spec(next(iter(specs), DEFAULT_MODEL))
    print(f"model     {spec.name}")
    table = fit(records) if args.fit else spec.question_calibration
    raw = reliability(records, None)
    cal = reliability(records, table)
    print_bins("raw (the model's probability, kept within 1-99%)", raw)
    print_bins("shown (calibrated)" + (" with the fit below" if args.fit else ""), cal)
    same = np.array([r.same for r in records], dtype=bool)
    p = shown(records, table)
    high = p >= 0.9
    if high.any():
        print(
            f"shown >= 90%: {int(high.sum())} questions, {100 * same[high].mean():.1f}% the same "
            "person"
        )
    worst = max((abs(b.shown - b.observed) for b in cal if b.questions >= 20), default=0.0)
    print(f"largest gap in a bin of >= 20 questions: {worst:.2f}")
    if args.fit:
        print("\n# models/fitted.py")
        print(f"question_calibration of {spec.name} = {table!r}")
    if args.json:
        with args.json.open("w") as out:
            for r in records:
                out.write(json.dumps(asdict(r)) + "\n")
    return 0
