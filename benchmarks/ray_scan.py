"""A scan on a Ray cluster of this machine against the scan on this machine, on one album.

    .venv/bin/python benchmarks/make_album.py /tmp/album500 --photos 500
    .venv/bin/python benchmarks/ray_scan.py /tmp/album500 --workers 2 --kills 3

Three scans of the same photos into fresh catalogs, one after the other: the local scan
(``Scanner``, as ``album scan`` runs it), the scan on a local Ray cluster with ``--workers``
worker processes (``album scan --ray local``), and the same Ray scan with a worker killed
(SIGKILL) ``--kills`` times while it runs. Printed: each scan's photos, faces and speed (all
of it, and once the first batch is stored, i.e. without loading the models), Ray's overhead
against the local scan, how far the Ray scans' faces are from the local scan's (boxes in
pixels, embeddings as cosine), and what the kills cost (photos lost or stored twice).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album.catalog import Catalog
from album.cli.scan import set_threads
from album.scan import Scanner


class Clock:
    """Progress callback: when the first batch was stored, and the last."""

    def __init__(self, then=None) -> None:
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] = (time.perf_counter(), 0)
        self.then = then

    def __call__(self, p) -> None:
        now = (time.perf_counter(), p.photos_done)
        if self.first is None and p.photos_done > 0:
            self.first = now
        self.last = now
        if self.then is not None:
            self.then(p)

    def steady(self) -> float:
        if self.first is None or self.last[1] <= self.first[1]:
            return 0.0
        return (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])


def faces_of(db: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    out: dict[str, list] = {}
    with Catalog(db) as cat:
        for f in cat.all_faces():
            v = cat.embedding(f.id, cat.model)
            out.setdefault(f.content_hash, []).append((np.array(f.box), v))
    return out


def compare(found: dict, expected: dict) -> tuple[int, int, float, float, int]:
    """(faces found, faces expected, largest box deviation in px, smallest cosine, photos
    whose face count differs)."""
    worst_box, worst_cos, differ = 0.0, 1.0, 0
    for photo in set(found) | set(expected):
        mine, theirs = found.get(photo, []), expected.get(photo, [])
        differ += len(mine) != len(theirs)
        for box, v in mine:
            if not theirs:
                continue
            dev, w = min(((np.abs(box - b).max(), w) for b, w in theirs), key=lambda t: t[0])
            worst_box, worst_cos = max(worst_box, float(dev)), min(worst_cos, float(v @ w))
    n = sum(len(v) for v in found.values())
    return n, sum(len(v) for v in expected.values()), worst_box, worst_cos, differ


def report(name: str, summary, clock: Clock) -> None:
    rate = summary.photos / summary.seconds
    n = max(1, summary.photos)
    print(
        f"{name:<22} {summary.photos} photos, {summary.faces} faces, {summary.errors} errors in "
        f"{summary.seconds:.1f} s: {rate:.2f} photos/s; after the first batch "
        f"{clock.steady():.2f} photos/s; catalog writes {1000 * summary.times.store / n:.1f} "
        "ms per photo"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("album", type=Path)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--batch", type=int, default=4, help="photos per batch (4)")
    args = p.parse_args()
    from album.scan import ScanSettings
    from album.scan.distributed import ClusterScanner, connect, worker_pids

    settings = ScanSettings(batch_size=args.batch)
    work = Path(tempfile.mkdtemp(prefix="ray-scan-bench-"))
    print(f"album {args.album}; {os.cpu_count()} cores; {args.workers} Ray workers")

    set_threads(None)  # as album scan does
    local_clock = Clock()
    with Catalog(work / "local.db") as cat:
        local = Scanner(cat, settings=settings).run([args.album], progress=local_clock)
    report("local scan", local, local_clock)
    size = (work / "local.db").stat().st_size
    faces = max(1, local.faces)
    print(
        f"  catalog {size / 1e6:.1f} MB: {size / max(1, local.photos) / 1e3:.1f} kB per photo, "
        f"{size / faces / 1e3:.1f} kB per face"
    )
    expected = faces_of(work / "local.db")

    start = time.perf_counter()
    connect("local", args.workers)
    print(f"Ray cluster started in {time.perf_counter() - start:.1f} s")
    clock = Clock()
    with Catalog(work / "ray.db") as cat:
        scanner = ClusterScanner(cat, workers=args.workers, settings=settings)
        remote = scanner.run([args.album], progress=clock)
        scanner.close()
    report("Ray scan", remote, clock)
    n, m, box, cos, differ = compare(faces_of(work / "ray.db"), expected)
    print(
        f"  faces {n} (local {m}); photos with another face count {differ}; largest box "
        f"deviation {box:.2f} px; smallest cosine {cos:.6f}"
    )
    for what, here, there in (
        ("overall", local.photos / local.seconds, remote.photos / remote.seconds),
        ("after the first batch", local_clock.steady(), clock.steady()),
    ):
        print(f"  Ray's overhead ({what}): {100 * (here / there - 1):+.1f}% time per photo")
    kills: list[int] = []
    total = local.photos

    def kill(p) -> None:
        due = (len(kills) + 1) * total // (args.kills + 1)
        if len(kills) < args.kills and p.photos_done >= due:
            pids = worker_pids()
            if pids:
                os.kill(pids[len(kills) % len(pids)], signal.SIGKILL)
                kills.append(p.photos_done)

    clock = Clock(kill)
    with Catalog(work / "killed.db") as cat:
        scanner = ClusterScanner(cat, workers=args.workers, settings=settings)
        killed = scanner.run([args.album], progress=clock)
        scanner.close()
        status = dict(cat.db.execute("SELECT status, COUNT(*) FROM photos GROUP BY status"))
        twice = cat.db.execute(
            "SELECT COUNT(*) FROM (SELECT content_hash, face_key FROM faces "
            "GROUP BY content_hash, face_key HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    report(f"Ray scan, {len(kills)} kills", killed, clock)
    n, m, box, cos, differ = compare(faces_of(work / "killed.db"), expected)
    print(
        f"  workers killed after {kills} photos; photos stored {status}; lost "
        f"{total - status.get('done', 0)}; faces {n} (local {m}), stored twice {twice}; photos "
        f"with another face count {differ}; largest box deviation {box:.2f} px; smallest "
        f"cosine {cos:.6f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
