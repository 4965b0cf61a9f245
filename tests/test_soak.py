"""Soak: random user operations through PeopleService while other processes re-cluster (and,
in the slow version, scan new photos into) the same catalog and are killed with SIGKILL at
random moments. Every decision that reported success must still be there, no operation may
raise anything but a refusal, and the file must stay sound. See ``benchmarks/soak.py``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _soak():
    # Imported by name: its re-cluster loops run in forked processes that import it too.
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module("soak")


def _check(report) -> None:
    assert report.problems == []
    assert report.raised == 0 and report.decisions_lost == 0 and report.worker_errors == 0
    assert report.kills_survived == report.kills
    assert report.integrity == "ok"


def test_user_operations_survive_concurrent_reclustering_and_kills(tmp_path: Path) -> None:
    r = _soak().run_soak(tmp_path / "soak", ops=150, kills=3, seed=1, lfw=None, say=print)
    _check(r)
    assert r.operations >= 150 and r.kills == 3
    assert r.succeeded > 75  # most random operations are legal
    assert r.reclusters >= 1  # the workers did write meanwhile


@pytest.mark.slow
def test_soak_with_scans_of_new_photos(lfw: Path, tmp_path: Path) -> None:
    r = _soak().run_soak(
        tmp_path / "soak", ops=1000, kills=25, seed=2, lfw=lfw, scan_photos=12, say=print
    )
    _check(r)
    assert r.operations >= 1000 and r.kills == 25
    assert r.worker_runs.get("album scan", 0) >= 2 and r.scans.get("done", 0) >= 1
