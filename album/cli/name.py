"""``album name CLUSTER NAME``: name a cluster (a name in use merges it into that person)."""

from __future__ import annotations

import argparse

from album.cli._people import people_service, print_change

HELP = "name a cluster or person (an existing name merges)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("cluster", metavar="CLUSTER", help="cluster id (or a person's name or id)")
    p.add_argument("name", metavar="NAME", help="the person's name")


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        before = svc.find(args.cluster)
        print_change(svc, svc.name(before.id, args.name))
    return 0
