"""End-to-end scan benchmark on a synthetic album with known faces (benchmarks/make_album.py).

Scans the folder into a temporary catalog, then compares the stored boxes with the truth: a
found face is a true positive when it overlaps an unmatched true face with IoU >= 0.5
(greedy, best overlap first); a face the album rotated in the image plane also matches by its
upright box (``upright_box``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from album.catalog.store import Catalog
from album.evaluation.engine_bench import peak_rss_mb
from album.scan.faces import StageTimes
from album.scan.pipeline import Scanner, ScanSettings
from album.scan.writer import iou


@dataclass
class ScanBenchFigures:
    photos: int
    faces_found: int
    truth_faces: int
    seconds: float
    photos_per_s: float
    faces_per_s: float
    recall: float
    recall_min_size: float  # recall over true faces at least ``min_size`` px wide
    min_size: int
    precision: float
    peak_rss_mb: float
    errors: int
    device: str
    threads: int
    times: StageTimes
    engine: str = "torch"


def match(found: list, truth: list, threshold: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of boxes by IoU; returns (found index, truth index) pairs."""
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True
    )
    used_f, used_t, out = set(), set(), []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def upright_box(record: dict) -> list[float] | None:
    """For a face that ``make_album.py --damage`` rotated in the image plane: the face box
    before the rotation (same centre, the face's own width and height), which a detector that
    boxes faces upright reports; its true ``box`` is the axis-aligned box of the rotated face
    box, which such a box overlaps by IoU 0.5 or less near 45 degrees. None for other faces."""
    damage = record.get("damage") or {}
    angle = math.radians(abs(damage.get("rotation", 0.0)))
    if not angle:
        return None
    left, top, right, bottom = record["box"]
    w = float(damage["width"])
    c, s = abs(math.cos(angle)), abs(math.sin(angle))
    h = (right - left - w * c) / s if s > 1e-6 else bottom - top  # box width = w c + h s
    cx, cy = (left + right) / 2, (top + bottom) / 2
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def match_truth(found: list, records: list[dict], threshold: float = 0.5) -> list[tuple[int, int]]:
    """``match`` of found boxes to true faces (``make_album.py`` records), then a second pass
    for what is left: a rotated true face also matches by its upright box (``upright_box``)."""
    pairs = match(found, [r["box"] for r in records], threshold)
    used_f = {i for i, _ in pairs}
    used_t = {j for _, j in pairs}
    rest_f = [i for i in range(len(found)) if i not in used_f]
    rest_t = [j for j, r in enumerate(records) if j not in used_t and upright_box(r) is not None]
    if rest_f and rest_t:
        more = match(
            [found[i] for i in rest_f], [upright_box(records[j]) for j in rest_t], threshold
        )
        pairs += [(rest_f[i], rest_t[j]) for i, j in more]
    return pairs


def run_scan_bench(
    folder: Path,
    truth_file: Path,
    device: str | None = None,
    settings: ScanSettings | None = None,
    min_size: int = 80,
    library: Path | None = None,
    model: str | None = None,
) -> ScanBenchFigures:
    import torch

    from models.embedder import Embedder

    truth = json.loads(truth_file.read_text())["photos"]
    with tempfile.TemporaryDirectory(prefix="album-bench-") as tmp:
        db_path = library or Path(tmp) / "bench.db"
        with Catalog(db_path) as cat:
            embedder = Embedder(model, device=device) if model else None
            scanner = Scanner(cat, embedder=embedder, settings=settings, device=device)
            summary = scanner.run([folder])
            tp = tp_min = n_min = n_truth = n_found = 0
            for name, faces in truth.items():
                photo = cat.photo_by_path(folder / name)
                found = [f.box for f in cat.faces_of_photo(photo)] if photo else []
                boxes = [f["box"] for f in faces]
                pairs = match_truth(found, faces)
                n_truth += len(boxes)
                n_found += len(found)
                tp += len(pairs)
                big = {j for j, b in enumerate(boxes) if b[2] - b[0] >= min_size}
                n_min += len(big)
                tp_min += sum(1 for _, j in pairs if j in big)
            device_name = str(scanner.embedder.device)
            engine = f"detector {scanner.detector.engine}, embedder {scanner.embedder.engine}"
    secs = summary.seconds
    return ScanBenchFigures(
        photos=summary.photos,
        faces_found=n_found,
        truth_faces=n_truth,
        seconds=secs,
        photos_per_s=summary.photos / secs if secs else 0.0,
        faces_per_s=summary.faces / secs if secs else 0.0,
        recall=tp / n_truth if n_truth else 1.0,
        recall_min_size=tp_min / n_min if n_min else 1.0,
        min_size=min_size,
        precision=tp / n_found if n_found else 1.0,
        peak_rss_mb=peak_rss_mb(),
        errors=summary.errors,
        device=device_name,
        threads=torch.get_num_threads(),
        times=summary.times,
        engine=engine,
    )


def decode_limit(folder: Path, decode_side: int, workers: int | None = None) -> float:
    """Photos/s of the scan's reduced decode alone (``load_image`` at ``decode_side``) on all
    cores: the most any scan of these photos could do on this machine."""
    from concurrent.futures import ThreadPoolExecutor

    from album.images import load_image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if not files:
        return 0.0
    start = time.perf_counter()
    # Pillow's decoders release the GIL, so threads use every core.
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        for _ in pool.map(lambda p: load_image(p, max_side=decode_side), files):
            pass
    return len(files) / (time.perf_counter() - start)
