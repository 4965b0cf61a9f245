"""``album backup [--to FILE]``: copy the catalog while it is in use (SQLite's backup API)."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli.scan import open_catalog

HELP = "back up the catalog (names, groups, faces)"
DESCRIPTION = (
    "Copy the catalog to FILE, or to the backups folder beside it (the newest "
    "3 automatic backups are kept there). Safe while the app or a scan uses the catalog."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", type=Path, metavar="FILE", help="write the copy to FILE")


def run(args: argparse.Namespace) -> int:
    from album.catalog.backup import backup

    with open_catalog(args, must_exist=True) as cat:
        out = backup(cat, args.to)
    print(f"backed up {cat.path} to {out}")
    return 0
