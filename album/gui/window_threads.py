"""The main window's work in plain threads, below the window's CPU priority: loading the
core (torch) after the first paint, and re-reading the people during a scan."""

from __future__ import annotations

import contextlib
import threading
import traceback
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal

from album.gui import core, quiet_import
from album.gui.jobs import JobError, background_priority
from album.people.overview import PersonOverview


def read_people_behind_window(path: Path) -> list[PersonOverview]:
    """The people overview, read at the jobs' lower CPU priority: the window comes first."""
    from album.people.overview import read_people_overview

    with background_priority():
        return read_people_overview(path)


class CoreLoader(QObject):
    """Loads the core (``core.warm_up``: torch, scipy) in a plain thread, with superqt, the
    jobs' worker library: importing that on the GUI thread, as starting a job does, froze the
    first screen for 0.2-0.5 s right after it appeared. ``loaded()`` or ``failed(name,
    JobError)`` arrive on the GUI thread (queued signals)."""

    loaded = Signal()
    failed = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="album-core-loader", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the loading to end; whether it has. The app
        waits for it before it exits: the interpreter ending while the thread is inside
        torch's import crashes the process."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def _run(self) -> None:
        err = None
        try:
            # The window first where the cores are busy; no garbage collection over the
            # app's objects while the lookups and imports below make new ones.
            with background_priority(), quiet_import.quiet_imports():
                quiet_import.make_classes()  # before superqt's star imports (qtpy)
                import superqt.utils  # noqa: F401

                core.warm_up()
        except Exception as exc:
            err = JobError("Loading", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            if shiboken6.isValid(self) and err is not None:
                self.failed.emit("Loading", err)
            elif shiboken6.isValid(self):
                self.loaded.emit()
