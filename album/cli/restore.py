"""``album restore FILE``: put a backup in place of the catalog (the current one is kept)."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError

HELP = "replace the catalog by a backup (the current catalog is backed up first)"
DESCRIPTION = (
    "Replace the catalog's content by the backup FILE (see 'album backup'). "
    "Refused while a scan, re-embed or re-cluster runs; the current catalog is first "
    "saved to the backups folder beside it."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="FILE", help="the backup to restore")


def run(args: argparse.Namespace) -> int:
    from album.catalog import SchemaError, default_catalog_path
    from album.catalog.backup import restore

    path = Path(args.library).expanduser() if args.library else default_catalog_path()
    try:
        saved = restore(path, args.file.expanduser())
    except SchemaError as exc:
        raise UserError(str(exc)) from None
    print(f"restored {args.file} into {path}")
    if saved is not None:
        print(f"the previous catalog was saved as {saved}")
    return 0
