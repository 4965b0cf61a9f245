"""Scanning on a Ray cluster (``album scan --ray``): a local cluster of two worker processes
stores the same faces and embeddings as the scan on this machine, resumes like it, and loses
no photo when its workers are killed."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from test_scan import write_photos

from album.catalog import Catalog
from album.scan import ScanControl, Scanner, ScanSettings

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'album[ray]')")

from album.scan.distributed import (  # noqa: E402  (after the skip: needs Ray)
    MAX_TRIES,
    ClusterError,
    ClusterScanner,
    ScanWorker,
    worker_pids,
)

SETTINGS = ScanSettings(batch_size=2)


@pytest.fixture(scope="module")
def cluster():
    """Head plus two worker slots on this machine, for the whole module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cluster") / "photos"
    write_photos(lfw, folder, 8, seed=5)
    return folder


@pytest.fixture(scope="module")
def local_faces(photos: Path, tmp_path_factory: pytest.TempPathFactory, embedder, detector):
    """What the scan on this machine stores: (photo, box) -> embedding."""
    with Catalog(tmp_path_factory.mktemp("local") / "catalog.db") as cat:
        Scanner(cat, detector, embedder, SETTINGS).run([photos])
        return faces_of(cat)


def faces_of(cat: Catalog) -> dict[tuple[str, tuple], np.ndarray]:
    out = {}
    for f in cat.all_faces():
        out[(f.content_hash, tuple(round(v) for v in f.box))] = cat.embedding(f.id, cat.model)
    return out


def assert_same_faces(found: dict, expected: dict) -> None:
    assert len(found) == len(expected) > 0
    by_photo: dict[str, list] = {}
    for (photo, box), v in expected.items():
        by_photo.setdefault(photo, []).append((np.array(box), v))
    for (photo, box), v in found.items():
        box_dev, match = min(
            ((np.abs(np.array(box) - b).max(), w) for b, w in by_photo[photo]),
            key=lambda t: t[0],
        )
        assert box_dev <= 1  # within a pixel
        assert float(v @ match) >= 0.9999


def test_a_cluster_scan_stores_what_the_local_scan_stores_and_resumes(
    cluster, photos, local_faces, tmp_path
) -> None:
    with Catalog(tmp_path / "catalog.db") as cat:
        scanner = ClusterScanner(cat, workers=2, settings=SETTINGS)
        try:
            control = ScanControl()

            def stop_after_first_batch(p) -> None:
                if p.photos_done >= 2:
                    control.cancel()

            first = scanner.run([photos], progress=stop_after_first_batch, control=control)
            assert first.cancelled and 2 <= first.photos < 8
            rest = scanner.run([photos])
            assert not rest.cancelled and first.photos + rest.photos == 8
            assert rest.unchanged == first.photos
            again = scanner.run([photos])
            assert (again.photos, again.unchanged, again.faces) == (0, 8, 0)
        finally:
            scanner.close()
        assert_same_faces(faces_of(cat), local_faces)
        assert cat.counts().photos == 8


def test_killed_workers_lose_no_photo(cluster, photos, local_faces, tmp_path) -> None:
    kills: list[int] = []

    def kill_a_worker(p) -> None:
        # After each of the first three stored batches: SIGKILL a worker mid-scan.
        if len(kills) < 3 and p.photos_done >= 2 * (len(kills) + 1):
            pids = worker_pids()
            if pids:
                os.kill(pids[len(kills) % len(pids)], signal.SIGKILL)
                kills.append(pids[0])

    with Catalog(tmp_path / "catalog.db") as cat:
        scanner = ClusterScanner(cat, workers=2, settings=SETTINGS)
        try:
            summary = scanner.run([photos], progress=kill_a_worker)
        finally:
            scanner.close()
        assert len(kills) == 3
        assert (summary.photos, summary.errors) == (8, 0)
        rows = cat.db.execute("SELECT status, COUNT(*) FROM photos GROUP BY status").fetchall()
        assert rows == [("done", 8)]
        assert_same_faces(faces_of(cat), local_faces)  # none lost, none twice


def test_a_photo_that_kills_its_worker_is_recorded_as_an_error(cluster, photos, tmp_path) -> None:
    import shutil

    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    first = sorted(folder.glob("*.jpg"))[0]
    poison = folder / "poison.jpg"
    poison.write_bytes(first.read_bytes() + b"\0")  # other content, so it is read

    class DiesOnPoison(ScanWorker):
        def process(self, entries):
            if any(e.path.endswith("poison.jpg") for e in entries):
                os._exit(1)  # as a decoder crash or the kernel's OOM killer would
            return super().process(entries)

    with Catalog(tmp_path / "catalog.db") as cat:
        scanner = ClusterScanner(cat, workers=2, settings=SETTINGS, worker_class=DiesOnPoison)
        try:
            summary = scanner.run([folder])
        finally:
            scanner.close()
        assert (summary.photos, summary.errors) == (8, 1)
        status, error = cat.db.execute(
            "SELECT status, error FROM photos WHERE path LIKE '%poison.jpg'"
        ).fetchone()
        assert status == "error" and f"stopped {MAX_TRIES} times" in error


def test_album_scan_ray_from_the_command_line(cluster, photos, tmp_path, capsys) -> None:
    import json

    from album.cli import main

    db = tmp_path / "catalog.db"
    code = main(
        ["--library", str(db), "scan", str(photos), "--ray", "local", "--workers", "2", "--json"]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out["photos"], out["errors"]) == (8, 0)


def test_without_ray_the_user_is_told_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with (
        Catalog(tmp_path / "catalog.db") as cat,
        pytest.raises(ClusterError, match="album\\[ray\\]"),
    ):
        ClusterScanner(cat)
