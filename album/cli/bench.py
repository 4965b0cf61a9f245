"""``album bench``: speed and memory figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed and memory")
    what = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    eng = what.add_parser("engine", help="detection photos/s, embedding faces/s, peak memory")
    eng.add_argument("--data", type=Path, default=Path("../shared/datasets/lfw"),
                     help="LFW folder, source of the faces pasted into test photos")
    eng.add_argument("--model", default=None)
    eng.add_argument("--photos", type=int, default=8, help="number of 1600x1200 test photos")
    eng.add_argument("--no-flip", action="store_true", help="embed without the mirrored chip")
    eng.set_defaults(run=run_engine)


def run_engine(args: argparse.Namespace) -> int:
    from album.evaluation.engine_bench import run_engine_bench
    from models.registry import DEFAULT_MODEL

    if not args.data.is_dir():
        raise UserError(f"{args.data}: not found; pass --data with the LFW folder")
    f = run_engine_bench(args.data, args.model or DEFAULT_MODEL, args.device,
                         photos=args.photos, flip=False if args.no_flip else None)
    print(f"device              {f.device} ({f.threads} threads)")
    print(f"detection           {f.detect_photos_per_s:.2f} photos/s at 1600x1200 "
          f"({f.faces_per_photo:.1f} faces per photo, min face 40 px)")
    flip = " (with mirrored chip)" if f.embed_flip else ""
    print(f"embedding batch 1   {f.embed_faces_per_s_batch1:.1f} faces/s{flip}")
    print(f"embedding batch 32  {f.embed_faces_per_s_batch32:.1f} faces/s{flip}")
    print(f"peak RSS            {f.peak_rss_mb:.0f} MiB")
    return 0
