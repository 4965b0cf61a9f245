"""``album import --xmp DIR``: names from XMP sidecars (MWG or Microsoft face regions) written
by digiKam, Lightroom, Picasa, exiftool or ``album export --xmp``; ``album import --photos``:
names from the catalogued photos' own metadata (embedded XMP and sidecars beside them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from album.cli._people import people_service

HELP = "import names from XMP sidecars or the photos' metadata"


def add_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--xmp",
        type=Path,
        metavar="DIR",
        help="folder searched for .xmp sidecars (e.g. an export folder)",
    )
    source.add_argument(
        "--photos",
        action="store_true",
        help="every catalogued photo's own metadata and the sidecars beside it (a scan "
        "already does this for the photos it reads)",
    )
    p.add_argument("--dry-run", action="store_true", help="only say what would be named")


def run(args: argparse.Namespace) -> int:
    from album.people.export import ExportError, match_sidecars

    if args.photos:
        return _from_photos(args)
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


def _from_photos(args: argparse.Namespace) -> int:
    from album.people.metadata import import_embedded_names

    with people_service(args) as svc:
        result = import_embedded_names(svc.catalog, svc, all_photos=True, dry_run=args.dry_run)
        for p in result.problems:
            print(f"  {p}")
        if args.dry_run:
            for face, name in result.pairs:
                print(f"  face {face}: {name}")
            print(
                f"{len(result.pairs)} faces would be named ({result.kept} left as they are, "
                f"{result.photos} photos read)"
            )
            return 0
        print(
            f"{result.named} faces named from the metadata of {result.photos} photos "
            f"({result.kept} left as they were, {len(result.problems)} not matched)"
            + (" ('album undo' reverts it)" if result.named else "")
        )
    return 0
