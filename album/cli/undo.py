"""``album undo``: undo the last People operation (name, merge, reject...), last first."""

from __future__ import annotations

import argparse

from album.cli._people import people_service

HELP = "undo the last People operation"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--list", action="store_true", help="list the operations that can be undone")


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        if args.list:
            entries = svc.history(50)
            if not entries:
                print("nothing to undo")
            for e in entries:
                print(f"  {e.created_at}  {e.summary}")
            return 0
        entry = svc.undo()
        print(f"undone: {entry.summary}" if entry else "nothing to undo")
    return 0
