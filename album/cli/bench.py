"""``album bench``: speed and memory figures."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from album.cli import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed and memory")
    what = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    eng = what.add_parser("engine", help="detection photos/s, embedding faces/s, peak memory")
    eng.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/datasets/lfw"),
        help="LFW folder, source of the faces pasted into test photos",
    )
    eng.add_argument("--model", default=None)
    eng.add_argument("--photos", type=int, default=8, help="number of 1600x1200 test photos")
    eng.add_argument("--no-flip", action="store_true", help="embed without the mirrored chip")
    eng.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per network (default: as a scan, CPU cores - 1, at least 1)",
    )
    eng.set_defaults(run=run_engine)
    scan = what.add_parser(
        "scan",
        help="end-to-end scan of a synthetic album: photos/s, "
        "faces/s, recall and precision, peak memory",
    )
    scan.add_argument(
        "folder", type=Path, metavar="DIR", help="album made by benchmarks/make_album.py"
    )
    scan.add_argument(
        "--truth",
        type=Path,
        required=True,
        metavar="FILE",
        help="its truth.json (true identity and box of every face)",
    )
    scan.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: CPU cores - 1, at least 1)",
    )
    scan.add_argument(
        "--batch", type=int, default=None, help="photos per step and commit (default 4)"
    )
    scan.add_argument("--model", default=None, help="embedder name (default: the default model)")
    scan.add_argument(
        "--min-size",
        type=int,
        default=80,
        help="report recall also for true faces at least this wide (80 px)",
    )
    scan.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    scan.add_argument(
        "--compare",
        action="store_true",
        help="scan with dlib-resnet-v1 on torch (the earlier default) and with the default "
        "model on each engine, each in a fresh process, and print them side by side with "
        "the decode limit of these photos and a one-photo scan's start-up",
    )
    scan.set_defaults(run=run_scan)


def run_engine(args: argparse.Namespace) -> int:
    from album.cli.scan import set_threads
    from album.evaluation.engine_bench import run_engine_bench
    from models.engine import engine_choice
    from models.registry import DEFAULT_MODEL

    if not args.data.is_dir():
        raise UserError(f"{args.data}: not found; pass --data with the LFW folder")
    set_threads(args.threads)
    # Both engines in one run (same photos, same machine), unless one was named.
    engines = [args.engine] if args.engine else sorted({"torch", engine_choice()})
    rows = [
        run_engine_bench(
            args.data,
            args.model or DEFAULT_MODEL,
            args.device,
            photos=args.photos,
            flip=False if args.no_flip else None,
            engine=engine,
        )
        for engine in engines
    ]
    print(f"model               {args.model or DEFAULT_MODEL}")
    for f in rows:
        print(f"{f.engine} ({f.device}, {f.threads} threads)")
        print(
            f"  detection         {f.detect_photos_per_s:.2f} photos/s at 1600x1200 "
            f"({f.faces_per_photo:.1f} faces per photo, min face 40 px)"
        )
        print(f"  embedding batch 1  {f.embed_faces_per_s_batch1:.1f} faces/s")
        print(f"  embedding batch 32 {f.embed_faces_per_s_batch32:.1f} faces/s")
    print(f"peak RSS            {max(f.peak_rss_mb for f in rows):.0f} MiB (both runs)")
    return 0


def run_scan(args: argparse.Namespace) -> int:
    from album.cli.scan import scan_settings, set_threads
    from album.evaluation.scan_bench import run_scan_bench

    if not args.folder.is_dir():
        raise UserError(f"{args.folder}: not a folder")
    if not args.truth.is_file():
        raise UserError(f"{args.truth}: not found")
    if args.compare:
        from album.cli._bench_compare import run_compare

        return run_compare(args)
    set_threads(args.threads)
    f = run_scan_bench(
        args.folder,
        args.truth,
        args.device,
        scan_settings(args),
        min_size=args.min_size,
        model=args.model,
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(f)))
    t = f.times
    print(f"device              {f.device} ({f.threads} torch threads, {f.engine})")
    print(
        f"photos              {f.photos} in {f.seconds:.1f} s: {f.photos_per_s:.2f} photos/s "
        f"({f.errors} errors)"
    )
    print(
        f"faces               {f.faces_found} found, {f.truth_faces} true: "
        f"{f.faces_per_s:.2f} faces/s"
    )
    print(
        f"recall              {f.recall:.1%} (faces >= {f.min_size} px: {f.recall_min_size:.1%})"
        f", IoU >= 0.5"
    )
    print(f"precision           {f.precision:.1%}")
    print(f"peak RSS            {f.peak_rss_mb:.0f} MiB")
    print(
        f"stage seconds       decode {t.read:.1f} (decode threads; detection waited "
        f"{t.read_wait:.1f}), detect {t.detect:.1f}, align {t.align:.1f} + embed "
        f"{t.embed:.1f} (beside detection; storing waited {t.embed_wait:.1f}), "
        f"write {t.store:.1f}"
    )
    return 0
