"""``album reject FACE...``: these faces are not the person they were given."""

from __future__ import annotations

import argparse

from album.cli._people import face_ids, people_service

HELP = "not this person: take faces out of their person"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("faces", nargs="+", metavar="FACE", help="face ids")
    p.add_argument(
        "--from",
        dest="person",
        metavar="PERSON",
        help="the person they are not (default: the one each face has now)",
    )


def run(args: argparse.Namespace) -> int:
    with people_service(args) as svc:
        person = svc.find(args.person).id if args.person else None
        svc.reject(face_ids(args.faces), person)
        print(
            f"{svc.history(1)[0].summary}; they will not be put back there "
            "('album undo' reverts it)"
        )
    return 0
