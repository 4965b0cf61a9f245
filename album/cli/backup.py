"""``album backup [--to FILE]``: copy the catalog while it is in use (SQLite's backup API)."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli.scan import open_catalog


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="back up the catalog (names, groups, faces)",
        description="Copy the catalog to FILE, or to the backups folder beside it (the newest "
        "3 automatic backups are kept there). Safe while the app or a scan uses the catalog.",
    )
    p.add_argument("--to", type=Path, metavar="FILE", help="write the copy to FILE")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from album.catalog.backup import backup

    with open_catalog(args, must_exist=True) as cat:
        out = backup(cat, args.to)
    print(f"backed up {cat.path} to {out}")
    return 0
