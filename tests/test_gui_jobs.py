"""Jobs run below the window's CPU priority (``album.gui.jobs.background_priority``)."""

from __future__ import annotations

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
    from album.gui import main_window, thumbs
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
    t = threading.Thread(target=main_window._read_people_behind_window, args=(tmp_path,))
    t.start()
    t.join()
    expected = min(19, window + JOB_NICENESS)
    assert seen == {"loader": expected, "reader": expected}
    assert _priority() == window


def test_the_core_loads_below_the_window_with_the_collector_paused(monkeypatch) -> None:
    """The engine's import runs in its own thread at the jobs' priority, with the garbage
    collector paused from PySide6's class lookups (which make many objects) on."""
    import gc

    from album.gui import core, main_window, quiet_import

    seen: dict[str, object] = {}
    monkeypatch.setattr(
        quiet_import, "make_classes", lambda: seen.update(classes_gc=gc.isenabled())
    )
    monkeypatch.setattr(
        core, "warm_up", lambda: seen.update(warm_gc=gc.isenabled(), priority=_priority())
    )
    loader = main_window.CoreLoader()
    t = threading.Thread(target=loader._run)  # what ``start`` runs
    t.start()
    t.join()
    gc.unfreeze()
    assert seen["classes_gc"] is False and seen["warm_gc"] is False
    assert gc.isenabled()
    if sys.platform.startswith("linux"):
        assert seen["priority"] == min(19, _priority() + JOB_NICENESS)
