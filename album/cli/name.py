"""``album name CLUSTER NAME``: name a cluster (a name in use merges it into that person)."""

from __future__ import annotations

import argparse

from album.cli._people import label, people_service


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("name", help="name a cluster or person (an existing name merges)")
    p.add_argument("cluster", metavar="CLUSTER", help="cluster id (or a person's name or id)")
    p.add_argument("name", metavar="NAME", help="the person's name")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        before = svc.find(args.cluster)
        person = svc.name(before.id, args.name)
        entry = svc.history(1)[0]
        print(
            f"{entry.summary}; {label(person)} has {len(svc.faces_of(person.id))} faces "
            "('album undo' reverts it)"
        )
    return 0
