"""``album merge A B``: person (or cluster) A is the same person as B."""

from __future__ import annotations

import argparse

from album.cli._people import people_service, print_change

HELP = "merge person A into person B"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="name or id of the person merged away")
    p.add_argument("b", metavar="B", help="name or id of the person kept")


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        a, b = svc.find(args.a), svc.find(args.b)
        print_change(svc, svc.merge(a.id, b.id))
    return 0
