"""``album people``: the people and clusters, and pairs that may be one person."""

from __future__ import annotations

import argparse
import json

from album.cli._people import label, people_service

HELP = "list people and clusters"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--named", action="store_true", help="named people only")
    p.add_argument("--hidden", action="store_true", help="include hidden people")
    p.add_argument(
        "--merges",
        action="store_true",
        help="list pairs of people who may be one, closest first, with the reason",
    )
    p.add_argument("--limit", type=int, default=50, help="at most this many lines (50)")
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        if args.merges:
            rows = svc.merge_suggestions(args.limit)
            people = {p.id: p for p in svc.catalog.people()}
            if args.json:
                print(
                    json.dumps(
                        [
                            {
                                "a": m.a,
                                "b": m.b,
                                "face_a": fa,
                                "face_b": fb,
                                "distance": m.distance,
                                "probability": m.probability,
                                "reason": m.reason,
                            }
                            for m, fa, fb in rows
                        ]
                    )
                )
                return 0
            if not rows:
                print("no people close enough to suggest a merge")
            for m, fa, fb in rows:
                print(
                    f"{label(people[m.a])} + {label(people[m.b])}: {m.reason}; "
                    f"faces {fa} and {fb}  ->  album merge {m.a} {m.b}"
                )
            return 0
        people = svc.people(include_hidden=args.hidden, named_only=args.named)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": s.id,
                            "name": s.name,
                            "faces": s.faces,
                            "confirmed": s.confirmed,
                            "suggested": s.suggested,
                            "hidden": s.hidden,
                            "cluster": s.cluster,
                            "cover_face": s.cover_face_id,
                        }
                        for s in people
                    ]
                )
            )
            return 0
        named = sum(1 for s in people if s.name)
        print(f"{named} named, {len(people) - named} unnamed clusters")
        for s in people[: args.limit]:
            extra = []
            if s.suggested:
                extra.append(f"{s.suggested} suggested")
            if s.hidden:
                extra.append("hidden")
            print(
                f"  {s.id:>6}  {label(s):<32} {s.faces:>5} faces ({s.confirmed} confirmed"
                + (", " + ", ".join(extra) if extra else "")
                + ")"
            )
        if len(people) > args.limit:
            print(f"  ... {len(people) - args.limit} more (--limit)")
    return 0
