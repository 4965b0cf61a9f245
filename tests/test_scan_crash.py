"""`album scan` killed with SIGKILL at random moments and restarted ends with exactly the faces
of an uninterrupted scan, in a sound database file."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_scan import write_photos

ROOT = Path(__file__).resolve().parents[1]


def _scan_cmd(library: Path, folder: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from album.cli import main; sys.exit(main())",
        "--library",
        str(library),
        "scan",
        "--json",
        "--no-progress",
        "--threads",
        "1",
        "--batch",
        "4",
        str(folder),
    ]


def _photos_done(library: Path) -> int:
    try:
        conn = sqlite3.connect(library, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or schema not there yet
        return 0


def _state(library: Path, folder: Path) -> tuple[list, list, dict]:
    conn = sqlite3.connect(library)
    try:
        faces = sorted(
            conn.execute(
                "SELECT content_hash, face_key, box_left, box_top, box_right, box_bottom FROM faces"
            ).fetchall()
        )
        photos = sorted(
            (os.path.relpath(p, folder), h, s)
            for p, h, s in conn.execute("SELECT path, content_hash, status FROM photos")
        )
        checks = {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "foreign_keys": conn.execute("PRAGMA foreign_key_check").fetchall(),
            "faces_without_one_embedding": conn.execute(
                "SELECT COUNT(*) FROM faces f WHERE (SELECT COUNT(*) FROM embeddings e "
                "WHERE e.face_id = f.id) != 1"
            ).fetchone()[0],
        }
        return faces, photos, checks
    finally:
        conn.close()


def _killed_and_resumed(lfw: Path, tmp_path: Path, photos: int, kills: int, seed: int) -> None:
    folder = tmp_path / "album"
    write_photos(lfw, folder, photos, faces=(0, 2), face_px=(90, 170), seed=seed)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    reference = tmp_path / "reference.db"
    done = subprocess.run(
        _scan_cmd(reference, folder), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["photos"] == photos

    rng = random.Random(seed)
    library = tmp_path / "killed.db"
    # Kill 1 lands at a random time (often while starting up); the others when the catalog
    # shows a random number of photos done, plus a random delay (mid-batch or mid-commit).
    targets = sorted(rng.sample(range(1, photos - photos // 5), kills - 1))
    killed_at = []
    for i in range(kills):
        proc = subprocess.Popen(
            _scan_cmd(library, folder),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if i == 0:
                time.sleep(rng.uniform(0.5, 4.0))
            else:
                deadline = time.monotonic() + 300
                while (
                    _photos_done(library) < targets[i - 1]
                    and proc.poll() is None
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 0.4))
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
        killed_at.append("finished" if finished else _photos_done(library))
        if library.exists():  # possibly killed before or while creating the tables
            conn = sqlite3.connect(library)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()

    print("killed at (photos in catalog):", killed_at)
    final = subprocess.run(
        _scan_cmd(library, folder), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert final.returncode == 0, final.stderr
    # The progress-triggered kills all hit a scan in mid-flight.
    assert sum(isinstance(k, int) and 0 < k < photos for k in killed_at) >= kills - 1, killed_at

    want_faces, want_photos, want_checks = _state(reference, folder)
    got_faces, got_photos, got_checks = _state(library, folder)
    assert got_photos == want_photos
    assert len(got_faces) == len(want_faces) > photos // 3
    assert got_faces == want_faces
    for checks in (want_checks, got_checks):
        assert checks == {"integrity": "ok", "foreign_keys": [], "faces_without_one_embedding": 0}
    conn = sqlite3.connect(library)
    statuses = [r[0] for r in conn.execute("SELECT status FROM scan_runs ORDER BY id")]
    conn.close()
    assert statuses[-1] == "done" and "running" not in statuses


def test_scan_killed_twice_resumes_exactly(lfw, tmp_path) -> None:
    _killed_and_resumed(lfw, tmp_path, photos=60, kills=2, seed=11)


@pytest.mark.slow
def test_scan_of_500_photos_killed_five_times_resumes_exactly(lfw, tmp_path) -> None:
    _killed_and_resumed(lfw, tmp_path, photos=500, kills=5, seed=12)
