"""The ``album`` command line. Each sub-command lives in its own module with two functions:
``add_parser(subparsers)`` to declare its arguments and ``run(args) -> int`` to do the work."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence


def command_modules() -> list[str]:
    """Every module of this package that defines ``add_parser`` is a command (alphabetical)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="album",
        description="Find the people in your photos and group the photos by person.",
    )
    parser.add_argument(
        "--library", metavar="PATH", help="catalog file to use instead of the default"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda or auto (default: auto)")
    parser.add_argument(
        "--engine",
        choices=("auto", "openvino", "torch"),
        default=None,
        help="what runs the networks on a CPU (default: auto, OpenVINO where installed)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"album {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        module = importlib.import_module(f"album.cli.{name}")
        if hasattr(module, "add_parser"):
            module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from album.desktop import shadowed_packages

    # Before the commands are imported: they import models, and another package of that
    # name (e.g. a models/ folder in the current directory) would fail obscurely.
    for problem in shadowed_packages():
        print(f"album: {problem}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    if args.engine:  # read by models.engine wherever a network is loaded
        os.environ["ALBUM_ENGINE"] = args.engine
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
        return code
    except BrokenPipeError:
        # Whoever read the output stopped early (`album people | head`): not an error to
        # report. Later writes (the interpreter's own flush at exit) go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"album: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from album.catalog.lock import CatalogLockedError
        from album.catalog.store import CatalogBusyError

        if isinstance(exc, CatalogLockedError | CatalogBusyError):  # another job or program
            print(f"album: {exc}", file=sys.stderr)
            return 3
        raise


def _version() -> str:
    from album.desktop import version

    return version()


class UserError(Exception):
    """A problem the user can fix (bad path, missing weights...): printed without a traceback."""
