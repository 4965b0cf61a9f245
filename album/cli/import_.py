"""``album import --xmp DIR``: names from XMP sidecars (MWG face regions) written by digiKam,
Lightroom, Picasa or ``album export --xmp``."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from album.cli._people import people_service


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import names from XMP sidecars")
    p.add_argument(
        "--xmp",
        type=Path,
        metavar="DIR",
        required=True,
        help="folder searched for .xmp sidecars (e.g. the photos' own folder)",
    )
    p.add_argument("--dry-run", action="store_true", help="only say what would be named")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from album.people.export import ExportError, match_sidecars

    if not args.xmp.is_dir():
        raise UserError(f"{args.xmp}: not a folder")
    with people_service(args) as svc:
        try:
            pairs, problems = match_sidecars(svc.catalog, args.xmp)
        except ExportError as exc:
            raise UserError(str(exc)) from None
        for p in problems:
            print(f"  {p}")
        if args.dry_run:
            for face, name in pairs:
                print(f"  face {face}: {name}")
            print(f"{len(pairs)} faces would be named")
            return 0
        done, clashes = svc.label_faces(pairs)
        for c in clashes:
            print(f"  skipped {c}")
        print(
            f"{done} faces named from {args.xmp} ({len(problems)} regions not matched)"
            + (" ('album undo' reverts it)" if done else "")
        )
    return 0
