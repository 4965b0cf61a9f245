"""``album eval queue``: a simulated user answers the "Same person?" queue truthfully
(``album.evaluation.queue_sim``); BCubed F before and after every answer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from album.cli import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "folder", type=Path, metavar="DIR", help="album made by benchmarks/make_album.py"
    )
    p.add_argument(
        "--answers",
        type=int,
        default=None,
        help="answer budget (default: --per-person x the album's true identities)",
    )
    p.add_argument(
        "--per-person",
        type=float,
        default=0.5,
        help="answers per true identity: the default budget, and the point also reported "
        "when --answers goes past it (0.5)",
    )
    p.add_argument(
        "--library",
        dest="queue_library",
        type=Path,
        metavar="PATH",
        help="catalog that holds the album (reused without scanning) or that it is scanned "
        "into for the next run; answers go to a temporary copy. Default: a temporary catalog",
    )
    p.add_argument(
        "--batches",
        action="store_true",
        help="answer side views in batches first, as the app asks them (one batch, one answer)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads for the scan")
    p.add_argument("--json", type=Path, help="write the figures (every step too) to this file")


def _scores(s) -> str:
    return f"F {s.bcubed_f:.4f} (P {s.bcubed_precision:.4f} R {s.bcubed_recall:.4f})"


def _groups(s) -> str:
    """Groups of 2+, and those mixing people (album.evaluation.cluster_scores.MIXED)."""
    return (
        f"{s.clusters} groups of 2+, {s.mixed} with over 5% of their faces from another "
        f"person (most: {s.worst_mix:.0%})"
    )


def _missed(records: list[dict]) -> str:
    """How many missed true faces had each kind of damage (a face may have several)."""
    kinds = {
        "narrower than 80 px": lambda r, d: d.get("width", r["box"][2] - r["box"][0]) < 80,
        "rotated": lambda r, d: d.get("rotation", 0) != 0,
        "blurred": lambda r, d: d.get("blur", 0) > 0,
        "tight crops": lambda r, d: d.get("tight_crop", False),
        "grayscale": lambda r, d: d.get("grayscale", False),
        "turned (|yaw| >= 25)": lambda r, d: abs(r.get("yaw", 0.0)) >= 25,
    }
    counts = {k: sum(bool(f(r, r.get("damage", {}))) for r in records) for k, f in kinds.items()}
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no damage recorded"


def run_queue(args: argparse.Namespace) -> int:
    from album.cli.scan import progress_bar, set_threads
    from album.evaluation.queue_sim import AlbumMatch, Step, run_queue_eval
    from models.registry import WeightsMissingError

    if not (args.folder / "truth.json").is_file():
        raise UserError(f"{args.folder}: no truth.json here; make it with benchmarks/make_album.py")
    if args.answers is not None and args.answers < 0:
        raise UserError("--answers must be >= 0")
    if not args.per_person >= 0:
        raise UserError("--per-person must be >= 0")
    library = args.queue_library or (Path(args.library) if args.library else None)
    set_threads(args.threads)

    def scanned(m: AlbumMatch) -> None:
        print(
            f"album          {args.folder}: {m.photos} photos, {m.truth_faces} true faces, "
            f"{len(m.identity)} detected ({sum(v is None for v in m.identity.values())} false), "
            f"{m.missed} true faces not detected"
            + (f", {m.photos_missing} photos unread" if m.photos_missing else "")
        )

    def step(s: Step) -> None:
        truth = "same" if s.same else "different"
        note = f"  refused: {s.refused}" if s.refused else ""
        print(
            f"{s.answer:>4}  {s.kind:<9} P(same) {s.probability:.2f}  truth {truth:<9}  "
            f"{_scores(s.scores)}{note}"
        )

    try:
        with progress_bar(True) as bar:
            result = run_queue_eval(
                args.folder,
                answers=args.answers,
                per_person=args.per_person,
                library=library,
                device=args.device,
                progress=bar,
                on_scanned=scanned,
                on_step=step,
                batches=args.batches,
            )
    except (WeightsMissingError, KeyError, FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    r = result
    print(
        f"split          {r.split or 'unknown'}; {r.identities} true identities, {r.faces} faces "
        f"scored ({r.false_faces} false), {r.missed} true faces not detected (left out)"
    )
    if r.missed_faces:
        print(f"not detected   {r.missed}: {_missed(r.missed_faces)}")
    print(f"no answers     {_scores(r.before)}, {_groups(r.before)}")
    print(f"after {len(r.steps):<3}      {_scores(r.after)}, {_groups(r.after)}")
    if r.frontal_before is not None and r.frontal_after is not None:
        print(
            f"frontal only   {r.frontal_faces} faces of sources with |yaw| < 25: "
            f"F {r.frontal_before.bcubed_f:.4f} with no answers, {r.frontal_after.bcubed_f:.4f} "
            "after"
        )
    at = r.at_per_person
    if r.ran_dry:
        dry = f"ran dry after {len(r.steps)} answers at F {r.after.bcubed_f:.4f}"
    else:
        dry = "did not run dry"
    per = ""
    if at is not None and len(r.steps) >= r.answers_per_person and r.answers_per_person < r.budget:
        per = (
            f"; F {at.bcubed_f:.4f} after {r.answers_per_person} answers "
            f"({r.per_person:g} per person)"
        )
    print(
        f"summary        F {r.before.bcubed_f:.4f} with no answers, {r.after.bcubed_f:.4f} at "
        f"the budget ({len(r.steps)} of {r.budget} answers used); queue {dry}{per}"
    )
    if args.json:
        args.json.write_text(json.dumps(r.as_dict(), indent=2) + "\n")
    return 0
