"""``album queue``: the "same person?" questions whose answers would change the most; with
``--side-views``, the side views asked about one person at a time, and the user's answer to
such a batch."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from album.cli import UserError
from album.cli._people import label, people_service, print_change

HELP = '"same person?" questions, most useful first'


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=20, help="questions to list (20)")
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--side-views",
        action="store_true",
        help="side views asked about in batches: which of these are the person?",
    )
    p.add_argument("--person", help="with --side-views: answer the batch of this person")
    p.add_argument("--yes", default="", metavar="FACES", help="faces that are (1,2,...)")
    p.add_argument("--no", default="", metavar="FACES", help="faces that are not (1,2,...)")


def _faces(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise UserError(f"{text!r}: give face ids separated by commas, e.g. 12,15") from None


def side_views(args: argparse.Namespace, svc) -> int:
    if args.person:
        person = svc.find(args.person)
        svc.answer_side_views(person.id, _faces(args.yes), _faces(args.no))
        print_change(svc, svc.person(person.id))
        return 0
    if args.yes or args.no:
        raise UserError("--yes and --no answer one person's batch: add --person NAME_OR_ID")
    batches = svc.side_view_batches(limit=args.limit)
    if args.json:
        print(json.dumps([asdict(b) for b in batches]))
        return 0
    if not batches:
        print("no side views to ask about")
    for b in batches:
        who = label(svc.person(b.person_id))
        faces = ", ".join(f"{f} ({p:.0%})" for f, p in zip(b.faces, b.probabilities, strict=True))
        print(f"which of these side views are {who}? faces {faces}")
        print(f"  {who}'s best faces: {', '.join(map(str, b.examples))}")
        print(f"  album queue --side-views --person {b.person_id} --yes F,... --no F,...")
    return 0


def run(args: argparse.Namespace) -> int:
    if (args.person or args.yes or args.no) and not args.side_views:
        raise UserError("--person, --yes and --no go with --side-views")
    with people_service(args) as svc:
        if args.side_views:
            return side_views(args, svc)
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
