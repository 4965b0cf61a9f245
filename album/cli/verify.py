"""``album verify FACE_A FACE_B``: same person? Distance, verdict, calibrated probability;
``--same`` / ``--different`` records the answer (a constraint, applied at once)."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli._people import face_ids, people_service

HELP = "are two faces the same person?"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="FACE_A")
    p.add_argument("b", metavar="FACE_B")
    answer = p.add_mutually_exclusive_group()
    answer.add_argument(
        "--same", action="store_true", help="record: they are the same person (must-link)"
    )
    answer.add_argument(
        "--different", action="store_true", help="record: they are different people (cannot-link)"
    )
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    a, b = face_ids([args.a, args.b])
    if a == b:
        raise UserError("give two different faces")
    with people_service(args) as svc:
        v = svc.verify(a, b)
        if args.same or args.different:
            svc.answer(a, b, args.same)
        if args.json:
            print(
                json.dumps(
                    {
                        "face_a": a,
                        "face_b": b,
                        "distance": v.distance,
                        "same": v.same,
                        "probability": v.probability,
                        "threshold": v.threshold,
                        "model": v.model,
                        "recorded": args.same or args.different,
                    }
                )
            )
            return 0
        verdict = "same person" if v.same else "different people"
        print(
            f"faces {a} and {b}: distance {v.distance:.3f}, {verdict} "
            f"(threshold {v.threshold:.2f}, {v.model}), P(same) {v.probability:.2f}"
        )
        if args.same or args.different:
            print(f"recorded: {svc.history(1)[0].summary} ('album undo' reverts it)")
    return 0
