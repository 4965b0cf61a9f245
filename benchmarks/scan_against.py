"""This checkout's scan against an earlier revision's, in turns, on the same photos.

    .venv/bin/python benchmarks/make_album.py /tmp/album80 --photos 80 --split test --seed 7
    .venv/bin/python benchmarks/scan_against.py /tmp/album80 --base 116358e

On a machine where the same scan varies from run to run by several percent, two versions are
compared fairly only in turns. The earlier revision is checked out into a temporary git
worktree (the working tree is left alone) and both trees run with their bytecode compiled, as
an installed package has it. Each of ``--runs`` rounds runs ``album bench scan`` of the album
(default model of each version, fresh process, fresh catalog) in the earlier tree, then in this
one; each of ``--starts`` rounds times a one-photo ``album scan`` (the photo with the most
faces, into a new catalog) in each. Printed: photos/s and peak memory per run, start-up per
run, and this checkout's figures as multiples of the earlier one's (medians).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# As each version's ``album`` command runs: its console entry where it has one.
CLI = (
    "import sys; import album.cli as c; sys.argv[0] = 'album'; "
    "sys.exit(getattr(c, 'console', c.main)())"
)


def run_in(tree: Path, *args: str) -> subprocess.CompletedProcess:
    """``album ARGS`` run from ``tree``'s sources (never the installed package)."""
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )


def scan_figures(tree: Path, folder: Path, truth: Path) -> tuple[float, float]:
    """photos/s and peak RSS (MiB) of one ``album bench scan`` in ``tree``."""
    out = run_in(tree, "bench", "scan", str(folder), "--truth", str(truth))
    text = out.stdout.replace("\r", "\n")
    speed = re.search(r"([\d.]+) photos/s", text)
    peak = re.search(r"peak RSS\s+(\d+) MiB", text)
    if not speed or not peak:
        raise SystemExit(f"no figures in the output of {tree}:\n{text[-2000:]}")
    return float(speed.group(1)), float(peak.group(1))


def start_seconds(tree: Path, photos: Path, scratch: Path) -> float:
    """Wall time of ``album scan`` of ``photos`` into a new catalog, from ``tree``."""
    library = scratch / "one.db"
    library.unlink(missing_ok=True)
    start = time.perf_counter()
    run_in(tree, "--library", str(library), "scan", str(photos), "--no-progress")
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="album made by benchmarks/make_album.py")
    ap.add_argument("--base", required=True, help="the earlier revision (a git commit)")
    ap.add_argument("--runs", type=int, default=3, help="album scans per version (3; 0: none)")
    ap.add_argument("--starts", type=int, default=5, help="one-photo scans per version (5)")
    args = ap.parse_args()
    truth_path = args.folder / "truth.json"
    truth = json.loads(truth_path.read_text())["photos"]
    with tempfile.TemporaryDirectory(prefix="album-against-") as tmp:
        scratch = Path(tmp)
        base = scratch / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
            check=True,
            capture_output=True,
        )
        try:
            trees = {"earlier": base, "now": ROOT}
            for tree in trees.values():  # as an installed package has it
                for package in ("album", "models"):
                    subprocess.run(
                        [sys.executable, "-m", "compileall", "-q", str(tree / package)],
                        check=True,
                        capture_output=True,
                    )
            photos = scratch / "one"
            photos.mkdir()
            name = max(truth, key=lambda n: len(truth[n]))
            shutil.copy2(args.folder / name, photos / name)
            speed: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
            starts: dict[str, list[float]] = {k: [] for k in trees}
            for i in range(args.runs):
                for label, tree in trees.items():
                    speed[label].append(scan_figures(tree, args.folder, truth_path))
                    print(f"scan {i + 1} {label:8} {speed[label][-1][0]:6.2f} photos/s, "
                          f"peak {speed[label][-1][1]:.0f} MiB", flush=True)  # fmt: skip
            for i in range(args.starts):
                for label, tree in trees.items():
                    starts[label].append(start_seconds(tree, photos, scratch))
                    print(f"start {i + 1} {label:7} {starts[label][-1]:.2f} s", flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                capture_output=True,
            )
    nan = float("nan")
    med = {k: statistics.median(s for s, _ in v) if v else nan for k, v in speed.items()}
    mem = {k: statistics.median(m for _, m in v) if v else nan for k, v in speed.items()}
    start = {k: statistics.median(v) if v else nan for k, v in starts.items()}
    print(f"\nearlier: {args.base}; medians of {args.runs} scans and {args.starts} starts")
    print(f"{'':8} {'photos/s':>9} {'peak MiB':>9} {'one-photo scan':>15}")
    for k in trees:
        print(f"{k:8} {med[k]:9.2f} {mem[k]:9.0f} {start[k]:14.2f}s")
    figures = {"speed": med, "memory": mem, "start": start}
    ratio = {k: v["now"] / v["earlier"] for k, v in figures.items()}
    print(
        f"now / earlier: speed {ratio['speed']:.2f}x, memory {ratio['memory']:.2f}x, "
        f"start-up {ratio['start']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
