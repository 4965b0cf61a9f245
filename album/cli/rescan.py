"""``album rescan``: scan every folder the catalog knows again (only changes are read)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from album.cli import UserError
from album.cli.scan import add_scan_options, open_catalog, scan_folders

log = logging.getLogger(__name__)


HELP = "scan the catalog's folders again for changes"
DESCRIPTION = (
    "Scan every folder already in the catalog: new and changed "
    "photos are read, moved ones keep their faces, deleted ones are marked "
    "missing. A folder that cannot be found (an unplugged drive) is skipped "
    "and its photos are left as they are."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scan_options(p)


def run(args: argparse.Namespace) -> int:
    with open_catalog(args, must_exist=True) as cat:
        folders = []
        for f in cat.folders():
            if os.path.isdir(f.path):
                folders.append(f.path)
            else:
                print(
                    f"skipping {f.path}: not found (its photos are left as they are)",
                    file=sys.stderr,
                )
        if not folders:
            raise UserError("no folder to rescan; add one with 'album scan DIR'")
        return scan_folders(args, cat, folders)
