"""Jobs run below the window's CPU priority (``album.gui.jobs.background_priority``)."""

from __future__ import annotations

import math
import os
import sys
import threading

import pytest

pytest.importorskip("PySide6.QtCore")

from album.gui.jobs import JOB_NICENESS, background_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux")
def test_a_job_thread_runs_at_a_lower_priority_and_gets_it_back() -> None:
    seen: dict[str, int] = {}

    def job() -> None:
        tid = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, tid)
        with background_priority():
            seen["during"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen["after"] = os.getpriority(os.PRIO_PROCESS, tid)

    t = threading.Thread(target=job)
    t.start()
    t.join()
    assert seen["during"] == min(19, seen["before"] + JOB_NICENESS)
    # The calling (GUI) thread is untouched.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == seen["before"]
    if os.geteuid() == 0:  # only a privileged user may raise a priority back
        assert seen["after"] == seen["before"]


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux")
def test_the_thumbnail_loader_and_the_people_reader_run_below_the_window(
    monkeypatch, tmp_path
) -> None:
    """The window's other threads: the thumbnail loader (covers decoded during a scan) and
    the re-read of the people after each live grouping."""
    from album.gui import thumbs, window_threads
    from album.people import overview

    window = _priority()
    seen: dict[str, int] = {}
    monkeypatch.setattr(thumbs._Loader, "_serve", lambda self: seen.update(loader=_priority()))
    loader = thumbs._Loader(tmp_path / "catalog.db", None)
    loader.start()
    assert loader.wait(10_000)

    def read(path):
        seen["reader"] = _priority()
        return []

    monkeypatch.setattr(overview, "read_people_overview", read)
    t = threading.Thread(target=window_threads.read_people_behind_window, args=(tmp_path,))
    t.start()
    t.join()
    expected = min(19, window + JOB_NICENESS)
    assert seen == {"loader": expected, "reader": expected}
    assert _priority() == window


def test_the_core_loads_below_the_window_with_the_collector_paused(monkeypatch) -> None:
    """The engine's import runs in its own thread at the jobs' priority, with the garbage
    collector paused from PySide6's class lookups (which make many objects) on."""
    import gc

    from album.gui import core, quiet_import, window_threads

    seen: dict[str, object] = {}
    monkeypatch.setattr(
        quiet_import, "make_classes", lambda: seen.update(classes_gc=gc.isenabled())
    )
    monkeypatch.setattr(
        core, "warm_up", lambda: seen.update(warm_gc=gc.isenabled(), priority=_priority())
    )
    loader = window_threads.CoreLoader()
    t = threading.Thread(target=loader._run)  # what ``start`` runs
    t.start()
    t.join()
    gc.unfreeze()
    assert seen["classes_gc"] is False and seen["warm_gc"] is False
    assert gc.isenabled()
    if sys.platform.startswith("linux"):
        assert seen["priority"] == min(19, _priority() + JOB_NICENESS)


def test_progress_reaches_the_window_a_few_times_a_second(monkeypatch) -> None:
    """Reports closer together than ``PROGRESS_EVERY`` are dropped (each one costs the window
    a re-layout and a repaint), except forced ones and the last step."""
    from album.gui import jobs

    clock = [100.0]
    monkeypatch.setattr(jobs.time, "perf_counter", lambda: clock[0])
    sent: list = []
    ctx = jobs.JobContext("Scan", jobs.JobControl(), sent.append)
    step = 0.0625  # a photo every 62.5 ms (exact in binary)
    for done in range(1, 10):
        ctx.report(done, 10, f"{done} of 10")
        clock[0] += step
    ctx.report(9, 10, "grouped", force=True, event="people")
    ctx.report(10, 10, "10 of 10")
    shown = [(p.done, p.event) for p in sent]
    every = math.ceil(jobs.PROGRESS_EVERY / step)
    assert every > 1
    assert shown == [(d, "") for d in range(1, 10, every)] + [(9, "people"), (10, "")]


def test_jobs_are_typed_values_the_runner_carries(qtbot) -> None:
    """The runner takes a Job and hands the same value to every signal; a second job is
    refused while one runs; a failure arrives in words with the job it belongs to."""
    from album.gui.jobs import Job, JobError, JobKind, JobRunner

    runner = JobRunner()
    release = threading.Event()

    def slow(ctx):
        ctx.report(1, 2, "half way", force=True)
        release.wait(10)
        return 42

    job = Job(JobKind.SCAN, "Scanning", slow, pausable=True)
    with qtbot.waitSignal(runner.started) as started:
        assert runner.start(job)
    assert started.args == [job] and runner.current == "Scanning" and runner.cancellable
    assert not runner.start(Job(JobKind.GROUPING, "Grouping", lambda ctx: 0))
    with qtbot.waitSignal(runner.finished, timeout=10_000) as finished:
        release.set()
    assert finished.args == [job, 42] and not runner.busy

    def broken(ctx):
        raise ValueError("no such folder")

    failing = Job(JobKind.EXPORT, "Exporting", broken, cancellable=False)
    with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
        runner.start(failing)
    got, err = failed.args
    assert got is failing and isinstance(err, JobError) and "no such folder" in str(err)
