"""``album bench scan --compare``: today's default against the current default, side by side.

Each configuration scans the album in a fresh process (its own start-up, memory and caches),
on the same photos and machine, one after another; then the reduced decode alone on all cores
gives the ceiling, and a one-photo ``album scan`` in a fresh process the start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = ("dlib-resnet-v1", "torch")  # the default model and engine before this engine


def configurations() -> list[tuple[str, str]]:
    """(model, engine) pairs: the baseline, then the current default on each engine."""
    from models.engine import engine_choice
    from models.registry import DEFAULT_MODEL

    out = [BASELINE]
    for engine in ("torch", engine_choice()):
        if (DEFAULT_MODEL, engine) not in out:
            out.append((DEFAULT_MODEL, engine))
    return out


def _album(engine: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "album", "--engine", engine, *args]


def scan_figures(args: argparse.Namespace, model: str, engine: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="album-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        cmd = _album(
            engine, "bench", "scan", str(args.folder), "--truth", str(args.truth),
            "--model", model, "--json", str(out),
        )  # fmt: skip
        if args.batch:
            cmd += ["--batch", str(args.batch)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def one_photo_seconds(folder: Path, truth: dict, engine: str) -> float:
    """Wall time of ``album scan`` of a folder holding one photo with faces, in a new catalog."""
    name = max(truth, key=lambda n: len(truth[n]))
    with tempfile.TemporaryDirectory(prefix="album-bench-") as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        shutil.copy2(folder / name, photos / name)
        cmd = _album(engine, "--library", str(Path(tmp) / "one.db"), "scan", str(photos))
        start = time.perf_counter()
        subprocess.run([*cmd, "--no-progress"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_compare(args: argparse.Namespace) -> int:
    from album.evaluation.scan_bench import decode_limit
    from album.scan.pipeline import ScanSettings
    from models.device import resolve_device, use_bf16

    truth = json.loads(args.truth.read_text())["photos"]
    bf16 = use_bf16(resolve_device("cpu"))
    print(
        f"machine             {cpu_name()}, {os.cpu_count()} cores"
        f"{', native bf16' if bf16 else ', no native bf16'}"
    )
    rows = []
    for model, engine in configurations():
        f = scan_figures(args, model, engine)
        start = one_photo_seconds(args.folder, truth, engine)
        rows.append((model, engine, f, start))
    limit = decode_limit(args.folder, ScanSettings().decode_side)
    base = rows[0][2]["photos_per_s"]
    print(f"decode limit        {limit:.1f} photos/s (reduced decode alone, all cores)")
    print(
        f"{'model':16} {'engine':9} {'photos/s':>8} {'vs first':>8} {'of limit':>8} "
        f"{'recall':>7} {'prec.':>6} {'peak MiB':>8} {'1-photo scan':>12}"
    )
    for model, engine, f, start in rows:
        print(
            f"{model:16} {engine:9} {f['photos_per_s']:8.2f} {f['photos_per_s'] / base:7.2f}x "
            f"{f['photos_per_s'] / limit:8.1%} {f['recall']:7.1%} {f['precision']:6.1%} "
            f"{f['peak_rss_mb']:8.0f} {start:11.1f}s"
        )
    print("stage seconds (decode: summed over decode threads; align + embed run beside detect)")
    for model, engine, f, _ in rows:
        t = f["times"]
        print(
            f"  {model:16} {engine:9} decode {t['read']:.1f}, detect {t['detect']:.1f}, "
            f"align {t['align']:.1f}, embed {t['embed']:.1f}, write {t['store']:.1f}; waited "
            f"for decode {t['read_wait']:.1f}, for embed {t['embed_wait']:.1f}"
        )
    return 0
