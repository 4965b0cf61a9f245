"""``album reembed --model NAME``: switch the catalog to another embedding model."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli.scan import ctrl_c_cancels, open_catalog, progress_bar, set_threads

HELP = "embed every face again with another model"
DESCRIPTION = (
    "Compute the faces' embeddings with another model, keeping "
    "boxes and labels; resumable like a scan. When every face of the present "
    "photos is embedded the catalog uses the new model."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model name (see 'album models list')")
    p.add_argument("--batch", type=int, default=8, help="photos per commit (8)")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from album.scan import ScanControl
    from album.scan.reembed import Reembedder
    from models.embedder import Embedder
    from models.registry import WeightsMissingError

    set_threads(args.threads)
    with open_catalog(args, must_exist=True) as cat:
        try:
            embedder = Embedder(args.model, device=args.device)
        except (WeightsMissingError, KeyError, RuntimeError) as exc:
            raise UserError(str(exc)) from None
        control = ScanControl()
        with ctrl_c_cancels(control), progress_bar(not args.no_progress) as bar:
            s = Reembedder(cat, embedder, batch_size=max(1, args.batch)).run(bar, control)
    if args.json:
        print(json.dumps(s.as_dict()))
    else:
        print(
            f"embedded {s.faces} faces of {s.photos} photos with {s.model} in "
            f"{s.seconds:.1f} s; {s.skipped_faces} faces skipped (photo missing or changed)"
        )
        if s.switched:
            print(f"the catalog now uses {s.model}")
        elif s.cancelled:
            print("stopped; run the same command again to resume")
        else:
            print("some photos could not be read; rescan, then run this again")
    return 1 if s.cancelled else 0
