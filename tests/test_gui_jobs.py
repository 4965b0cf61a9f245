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
