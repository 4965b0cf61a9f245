"""``python -m album.gui [FOLDER] [--library PATH]``: the app without the CLI's start-up cost
(building the ``album`` parser imports every command module)."""

from __future__ import annotations

import argparse
import sys

from album.gui.app import run

p = argparse.ArgumentParser(prog="python -m album.gui", description="Open the photo album.")
p.add_argument("folder", nargs="?", help="photo folder to scan on start")
p.add_argument("--library", metavar="PATH", help="catalog file (default: the user's catalog)")
p.add_argument("--quit-after-visible", action="store_true", help=argparse.SUPPRESS)
a = p.parse_args()
sys.exit(run(a.folder, a.library, a.quit_after_visible))
