"""``album scan DIR...``: find the faces in the photos under folders, into the catalog.

Also the helpers the other catalog commands share (opening the catalog, the progress bar,
thread settings, Ctrl-C handling).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from album.cli import UserError

HELP = "scan photo folders for faces (incremental, resumable)"
DESCRIPTION = (
    "Read the photos under each folder (recursively), find and embed their "
    "faces, and store them in the catalog. Only new and changed files are read; stopping "
    "(Ctrl-C) or a crash loses at most one batch, and running the command again resumes."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="folder to scan")
    add_scan_options(p)


def add_scan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary (photos, faces, errors, seconds) at the end",
    )
    p.add_argument(
        "--retry-errors",
        action="store_true",
        help="read again the unchanged files that could not be read before",
    )
    p.add_argument("--batch", type=int, default=None, help="photos per step and commit (default 4)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: CPU cores - 1, at least 1)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="detect and embed on a Ray cluster: 'auto', 'ray://host:port', or 'local' to start "
        "one on this machine (needs pip install 'album[ray]'; the workers read the photos from "
        "the same paths)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="with --ray: worker processes (default: one per GPU of the cluster, else per CPU)",
    )
    p.add_argument(
        "--group",
        action="store_true",
        help="then group the faces into people, as the app does ('album cluster' later does "
        "the same)",
    )
    p.add_argument(
        "--no-metadata-names",
        action="store_true",
        help="do not name faces after the face regions in the photos' own metadata (XMP "
        "embedded or in sidecars, as Lightroom, digiKam or Picasa write it)",
    )


def open_catalog(args: argparse.Namespace, must_exist: bool = False):
    """The catalog named by ``--library`` (or the default)."""
    from album.catalog import Catalog, SchemaError, default_catalog_path

    path = Path(args.library).expanduser() if args.library else default_catalog_path()
    if must_exist and not path.exists():
        raise UserError(f"no catalog at {path} yet; run 'album scan DIR' first")
    if path.is_dir():
        raise UserError(f"{path} is a folder; --library takes the catalog file's path")
    try:
        return Catalog(path)
    except (SchemaError, OSError) as exc:
        raise UserError(str(exc)) from None


def set_threads(threads: int | None) -> int:
    """Torch's thread count. Default: leave one core to the decode threads; on a busy 2-core
    machine one torch thread scanned 2.2-3 photos/s where two managed 0.5-0.9 (spinning
    OpenMP threads starve the decoders)."""
    import torch

    n = threads if threads is not None else max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


@contextlib.contextmanager
def progress_bar(enabled: bool, unit: str = "photo") -> Iterator:
    """A callback drawing a tqdm bar on stderr (only on a terminal)."""
    from tqdm import tqdm

    bar = tqdm(
        total=0, unit=unit, disable=None if enabled else True, file=sys.stderr, dynamic_ncols=True
    )

    def update(p) -> None:
        if bar.total != p.photos_total:
            bar.reset(total=p.photos_total)
        bar.n = p.photos_done
        bar.set_postfix(faces=p.faces, errors=p.errors, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@contextlib.contextmanager
def ctrl_c_cancels(control) -> Iterator[None]:
    """First Ctrl-C: finish the batch in flight, then stop. Second: stop now."""

    def handler(signum, frame) -> None:
        if control.cancelled:
            raise KeyboardInterrupt
        control.cancel()
        print("\nstopping after the current batch (Ctrl-C again to stop now)", file=sys.stderr)

    try:
        old = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def scan_settings(args: argparse.Namespace):
    """The scan's settings, with ``--batch`` where given."""
    from album.scan import ScanSettings

    return ScanSettings(batch_size=max(1, args.batch)) if args.batch else ScanSettings()


def make_scanner(args: argparse.Namespace, catalog):
    from album.scan import ModelMismatchError, Scanner
    from models.registry import WeightsMissingError

    set_threads(args.threads)
    if args.workers is not None and (args.workers < 1 or not args.ray):
        raise UserError("--workers takes a number >= 1, with --ray")
    try:
        if args.ray:
            from album.scan.distributed import ClusterScanner

            return ClusterScanner(
                catalog, args.ray, args.workers, scan_settings(args), device=args.device
            )
        return Scanner(catalog, settings=scan_settings(args), device=args.device)
    except (ModelMismatchError, WeightsMissingError, KeyError, RuntimeError) as exc:
        raise UserError(str(exc)) from None


def scan_folders(args: argparse.Namespace, catalog, folders: list[Path]) -> int:
    """Scan with a progress bar; print the summary (text or JSON)."""
    from album.scan import ScanControl

    # Pillow warns about odd files (corrupt EXIF, huge images) that the scan already reports
    # as data; on a terminal they would only garble the progress bar.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    from album.people.scanning import scan_and_group

    scanner = make_scanner(args, catalog)
    control = ScanControl()
    with ctrl_c_cancels(control), progress_bar(not args.no_progress) as bar:
        try:
            result = scan_and_group(
                catalog,
                scanner,
                folders,
                progress=bar,
                control=control,
                retry_errors=args.retry_errors,
                names=not args.no_metadata_names,
                group=args.group,
            )
        except FileNotFoundError as exc:
            raise UserError(str(exc)) from None
        finally:
            if hasattr(scanner, "close"):
                scanner.close()  # a cluster's workers
    summary, names, grouped = result.scan, result.names, result.cluster
    counts = catalog.counts()
    if args.json:
        out = {
            "photos": summary.photos,
            "faces": summary.faces,
            "errors": summary.errors,
            "seconds": round(summary.seconds, 3),
            "unchanged": summary.unchanged,
            "moved": summary.moved,
            "copies": summary.copies,
            "missing": summary.missing,
            "cancelled": summary.cancelled,
            "metadata_names": None
            if names is None
            else {"regions": names.regions, "named": names.named, "kept": names.kept},
            "groups": None if grouped is None else grouped.clusters,
            "catalog": {
                "photos": counts.photos,
                "faces": counts.faces,
                "errors": counts.photos_error,
            },
        }
        print(json.dumps(out))
    else:
        rate = summary.photos / summary.seconds if summary.seconds > 0 else 0.0
        verb = "stopped after" if summary.cancelled else "scanned"
        print(
            f"{verb} {summary.photos} photos in {summary.seconds:.1f} s ({rate:.2f} photos/s): "
            f"{summary.faces} new faces, {summary.errors} errors"
        )
        print(
            f"  {summary.unchanged} unchanged, {summary.moved} moved, {summary.copies} copies, "
            f"{summary.missing} missing"
        )
        print(
            f"catalog: {counts.photos} photos, {counts.faces} faces, {counts.photos_error} errors"
        )
        if names is not None and names.regions:
            print(
                f"names in the photos' metadata: {names.named} faces named, {names.kept} "
                f"left as they were, {len(names.problems)} not matched ('album undo' "
                "reverts the naming)"
            )
        if grouped is not None:
            print(
                f"people: {grouped.clusters} unnamed groups, {grouped.assigned} faces "
                "recognised as named people"
            )
        if summary.errors:
            print("'album status --errors' lists the files that could not be read")
        if summary.cancelled:
            print("run the same command again to resume")
    return 1 if summary.cancelled else 0


def run(args: argparse.Namespace) -> int:
    for folder in args.folders:
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder")
    with open_catalog(args) as catalog:
        return scan_folders(args, catalog, args.folders)
