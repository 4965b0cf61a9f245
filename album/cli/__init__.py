"""The ``album`` command line. Each sub-command lives in its own module of this package
(modules whose name starts with ``_`` are helpers, not commands).

A simple command is declared by module-level names, which ``build_parser`` turns into its
parser:

- ``HELP``: the one-line help shown in ``album --help``;
- ``DESCRIPTION`` (optional): the longer text shown in ``album <command> --help``, a
  module-level constant written as implicit string concatenation in parentheses;
- ``add_arguments(p: argparse.ArgumentParser) -> None`` (optional): adds the command's
  arguments to its parser (shared options through helpers such as
  ``album.cli.scan.add_scan_options``);
- ``run(args) -> int``: does the work; its result is the exit status;
- ``NAME`` (optional): the command's name, only where it is not the module's name with
  ``_`` turned into ``-`` and a trailing ``_`` dropped (``import_`` is ``album import``,
  ``purge_missing`` is ``album purge-missing``).

A command whose parser is more than that (nested sub-commands such as ``eval``, ``bench``
and ``models``, aliases, other defaults) defines ``add_parser(subparsers)`` instead, which
adds its parser itself and sets ``run`` with ``set_defaults``; ``HELP`` is then not read."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType


def command_modules() -> list[str]:
    """The modules of this package that may be commands (alphabetical): every one whose name
    does not start with ``_``; ``build_parser`` adds those that define ``add_parser`` or
    ``HELP``."""
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
        add_command(sub, importlib.import_module(f"album.cli.{name}"))
    return parser


def add_command(sub: argparse._SubParsersAction, module: ModuleType) -> None:
    """Add the command of ``module`` (see the module docstring) to the sub-parsers ``sub``."""
    if hasattr(module, "add_parser"):
        module.add_parser(sub)
    elif hasattr(module, "HELP"):
        default = module.__name__.rpartition(".")[2].removesuffix("_").replace("_", "-")
        p = sub.add_parser(
            getattr(module, "NAME", default),
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", None),
        )
        if hasattr(module, "add_arguments"):
            module.add_arguments(p)
        p.set_defaults(run=module.run)


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


def console() -> int:
    """The ``album`` command: :func:`main`, then the interpreter's last full garbage
    collection is skipped (0.35 s of every command once torch is loaded; the process ends
    anyway, and exit handlers still run)."""
    code = main()
    gc.freeze()
    return code


def _version() -> str:
    from album.desktop import version

    return version()


class UserError(Exception):
    """A problem the user can fix (bad path, missing weights...): printed without a traceback."""
