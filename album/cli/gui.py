"""``album gui [FOLDER]``: open the desktop app (and scan FOLDER if given)."""

from __future__ import annotations

import argparse

HELP = "open the desktop app"
DESCRIPTION = (
    "Open the photo album window. With FOLDER, scan it (new and "
    "changed photos only) and show the people found."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", nargs="?", help="photo folder to scan on start")
    p.add_argument(
        "--quit-after-visible", action="store_true", help=argparse.SUPPRESS
    )  # start-up measurement


def run(args: argparse.Namespace) -> int:
    try:
        from album.gui.app import run as run_app
    except ImportError as exc:  # PySide6 missing
        from album.cli import UserError

        raise UserError(
            f"the desktop app needs PySide6 and superqt ({exc}); "
            "install them with: pip install PySide6-Essentials superqt"
        ) from None
    return run_app(args.folder, args.library, args.quit_after_visible)
