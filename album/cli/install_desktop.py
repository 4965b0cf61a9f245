"""``album install-desktop [--uninstall]``: put the app in the desktop's menu (a freedesktop
entry and icon in the user's data folder), or take it out again."""

from __future__ import annotations

import argparse

HELP = "add the app to the desktop's menu (or --uninstall)"
DESCRIPTION = (
    "Write album.desktop into ~/.local/share/applications and the app icon "
    "into ~/.local/share/icons/hicolor ($XDG_DATA_HOME when set). The entry starts this "
    "installation's album."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uninstall", action="store_true", help="remove the entry and icons")


def run(args: argparse.Namespace) -> int:
    from album.desktop import install, launch_command, uninstall

    if args.uninstall:
        removed = uninstall()
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print("nothing to remove: the desktop entry was not installed")
        return 0
    command = launch_command()
    for path in install(command=command):
        print(f"wrote {path}")
    print(f"the menu entry 'Album' runs: {' '.join(command)}")
    return 0
