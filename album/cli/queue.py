"""``album queue``: the "same person?" questions whose answers would change the most."""

from __future__ import annotations

import argparse
import json

from album.cli._people import people_service

HELP = '"same person?" questions, most useful first'


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=20, help="questions to list (20)")
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        rows = svc.queue(args.limit)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "face_a": a,
                            "face_b": b,
                            "kind": q.kind,
                            "distance": q.distance,
                            "probability": q.probability,
                            "raw_probability": q.raw,
                            "side_view": q.side_view,
                            "score": q.score,
                            "reason": q.reason,
                        }
                        for q, a, b in rows
                    ]
                )
            )
            return 0
        if not rows:
            print("no open questions")
            return 0
        for i, (q, a, b) in enumerate(rows, 1):
            print(f"{i:>3}. faces {a} and {b}: {q.reason}")
            print(f"     album verify {a} {b} --same | --different")
    return 0
