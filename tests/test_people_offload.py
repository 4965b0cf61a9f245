"""Clustering in the app's child process (``album.people.offload``): a real worker process,
the same labels as in-process, errors in words, and in-process again when it is gone."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.people import clustering, offload
from album.people.clustering import ClusterReport
from album.people.errors import PeopleError
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people


@pytest.fixture
def child():
    offload.use_child_process()
    yield
    offload.shutdown()
    offload.use_child_process(False)  # the other tests cluster in-process


def _faces(people: int = 40, seed: int = 3) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    x, _ = synthetic_people(people, rng.integers(1, 12, people), spread=0.3, seed=seed)
    n = len(x)
    kw = {
        "quality": rng.uniform(0.2, 1.0, n),
        "yaw": rng.uniform(-70.0, 70.0, n),
        "cannot_link": [(0, 5), (10, 11), (20, 21)],
        "must_link": [(1, n - 1)],
    }
    return x, kw


def _outcome(r: ClusterReport) -> tuple:
    return (r.method, r.path, r.seeds, r.groups, r.ejected, r.paired, r.merges, r.attached,
            r.split, r.must_merges)  # fmt: skip


def test_the_worker_is_another_process_and_groups_alike(child) -> None:
    pid = offload.worker_pid()
    assert pid is not None and pid != os.getpid()
    x, kw = _faces()
    for method, path in (("hdbscan", None), ("hdbscan", "graph"), ("agglomerative", None)):
        here, there = ClusterReport(), ClusterReport()
        expected = clustering.cluster(x, method=method, path=path, report=here, **kw)
        got = offload.cluster(x, method=method, path=path, report=there, **kw)
        assert np.array_equal(got, expected), (method, path)
        assert _outcome(there) == _outcome(here) and there.times.keys() == here.times.keys()
        assert (expected >= 0).sum() > len(x) // 2  # real groups, not all left alone
    assert offload.enabled() and offload.worker_pid() == pid  # one long-lived worker


def test_errors_in_the_worker_surface_in_words(child) -> None:
    x, _ = _faces(5)
    with pytest.raises(ValueError, match="unknown clustering method 'nope'"):
        offload.cluster(x, method="nope")
    assert offload.enabled()  # a mistake in the call is no reason to give the worker up


def test_a_lost_worker_means_in_process_from_then_on(child) -> None:
    os.kill(offload.worker_pid(), signal.SIGKILL)
    x, kw = _faces()
    assert np.array_equal(offload.cluster(x, **kw), clustering.cluster(x, **kw))
    assert not offload.enabled()


def test_shutdown_stops_a_running_grouping_in_words(child) -> None:
    pid = offload.worker_pid()
    x, _ = synthetic_people(300, 10, spread=0.45, seed=1)  # 3,000 faces: seconds of work
    errors: list[BaseException] = []

    def group() -> None:
        try:
            offload.cluster(x)
        except Exception as exc:  # what the job would report
            errors.append(exc)

    t = threading.Thread(target=group)
    t.start()
    deadline = time.monotonic() + 10
    while not offload._pool._pending_work_items and time.monotonic() < deadline:
        time.sleep(0.005)
    offload.shutdown()
    t.join(20)
    assert len(errors) == 1 and isinstance(errors[0], PeopleError)
    assert "the app is closing" in str(errors[0])
    with pytest.raises(ProcessLookupError):  # ended and reaped
        os.kill(pid, 0)
    assert not offload.enabled()  # later calls run in-process


def _assignments(path: Path, child: bool) -> tuple[list[tuple], str]:
    offload.use_child_process(child)
    with Catalog(path) as cat:
        summary = PeopleService(cat).recluster()
        rows = cat.db.execute(
            "SELECT face_id, person_id, source FROM assignments ORDER BY face_id"
        ).fetchall()
    return rows, summary.path


def test_recluster_through_the_worker_writes_the_same_people(tmp_path: Path) -> None:
    x, _ = synthetic_people(30, np.arange(30) % 6 + 1, spread=0.3, seed=5)
    paths = []
    for name in ("here", "there"):
        paths.append(tmp_path / f"{name}.db")
        with Catalog(paths[-1]) as cat:
            fill_catalog(cat, x, np.arange(len(x)) // 2)  # two faces a photo: cannot-links
    try:
        here = _assignments(paths[0], child=False)
        there = _assignments(paths[1], child=True)
        assert offload.enabled()  # it ran in the worker, no fallback
    finally:
        offload.shutdown()
        offload.use_child_process(False)
    assert there == here and len(here[0]) > len(x) // 2


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no CPU priorities here")
def test_the_worker_gives_way_to_the_app(child) -> None:
    pid = offload.prestart().result(timeout=120)
    assert pid != os.getpid()
    parent = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, parent + offload.CHILD_NICENESS)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_worker_ends_when_the_app_is_killed(sig) -> None:
    """A program killed while its worker exists (here between groupings; a grouping in
    progress lets go of the GIL often enough) leaves no orphan behind."""
    import subprocess
    import sys

    code = (
        "import os, sys; from album.people import offload; offload.use_child_process(); "
        "print(offload.worker_pid(), flush=True); sys.stdin.read()"
    )
    app = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(app.stdout.readline())
        os.kill(worker, 0)  # alive
        app.send_signal(sig)
        app.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived the app by 10 s")
    finally:
        app.kill()
        app.wait()
