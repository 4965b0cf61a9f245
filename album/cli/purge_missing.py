"""``album purge-missing``: forget the photos that are gone, with their faces and labels."""

from __future__ import annotations

import argparse

from album.cli.scan import open_catalog

HELP = "remove missing photos and their faces"
DESCRIPTION = (
    "Remove from the catalog the photos marked missing, and the "
    "faces (with the names and decisions attached to them) that no photo "
    "shows any more. Photos on disk are never touched."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")


def run(args: argparse.Namespace) -> int:
    with open_catalog(args, must_exist=True) as cat:
        r = cat.purge_missing(dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {r.photos} missing photos, {r.faces} faces and {r.labels} labels on them")
    return 0
