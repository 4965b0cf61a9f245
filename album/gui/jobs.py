"""The one way the GUI runs long work (scan, re-embed, cluster, questions, weights): a job.

A job is a plain function ``fn(ctx: JobContext) -> result`` run by superqt's ``create_worker``
in a thread of the global pool. It reports progress with ``ctx.report(...)`` and checks
``ctx.control`` (pause / cancel) between steps; its result or exception comes back to the GUI
thread as ``JobRunner`` signals. Jobs open their own ``Catalog`` (SQLite connections are
per-thread) and import torch-using modules inside ``fn``, never at module level.

One job runs at a time: a second ``start`` while one runs is refused (``busy``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from PySide6.QtCore import QObject, Signal

from album.scan.work import ScanControl

log = logging.getLogger(__name__)


# One pause/resume/cancel object for every long task; the scanner accepts it as is.
JobControl = ScanControl

# How much less CPU priority a job's thread gets than the GUI thread (nice steps).
JOB_NICENESS = 5
# Seconds between progress reports: about as often as a person can read a count, and each
# report costs the GUI thread a re-layout and a repaint of the task bar (the progress bar's
# at once, inside setValue), which is time taken from a grid that is taking in new people.
PROGRESS_EVERY = 0.2


@contextlib.contextmanager
def background_priority(step: int = JOB_NICENESS) -> Iterator[None]:
    """Run the calling thread (and the threads it starts) at a lower CPU priority: where the
    cores are busy, the GUI thread is scheduled before the scan's work instead of waiting
    its turn. Linux only (nice is per thread there); elsewhere nothing changes."""
    tid = threading.get_native_id()
    try:
        old = os.getpriority(os.PRIO_PROCESS, tid) if sys.platform.startswith("linux") else None
        if old is not None:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, old + step))
    except OSError:
        old = None
    try:
        yield
    finally:
        if old is not None:
            # Raising it back may need a privilege an unprivileged user lacks.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, old)


@dataclass(frozen=True)
class JobProgress:
    """A job's progress: ``done`` of ``total`` steps (total 0: unknown), a line of text, the
    estimated seconds left (None: not known yet)."""

    job: str
    done: int
    total: int
    text: str
    eta_seconds: float | None = None
    event: str = ""  # 'people': the job changed the people (the views re-read them)


class JobContext:
    """What a running job sees: its control and a thread-safe ``report``."""

    def __init__(self, name: str, control: JobControl, emit: Callable[[JobProgress], None]):
        self.name = name
        self.control = control
        self._emit = emit
        self._last = 0.0

    def report(
        self,
        done: int,
        total: int,
        text: str,
        eta: float | None = None,
        force: bool = False,
        event: str = "",
    ) -> None:
        """Send progress to the GUI (at most every ``PROGRESS_EVERY`` seconds unless
        ``force``); ``event`` tells the GUI what changed (see ``JobProgress``)."""
        t = time.perf_counter()
        if not force and t - self._last < PROGRESS_EVERY and done < total:
            return
        self._last = t
        self._emit(JobProgress(self.name, done, total, text, eta, event))

    @property
    def cancelled(self) -> bool:
        return self.control.cancelled


class JobError(Exception):
    """A job failed; ``details`` holds the traceback for the "details" part of the dialog."""

    def __init__(self, job: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.job = job
        self.details = details


class JobKind(Enum):
    """What a job is. The window acts on the kind (what its result means, what to refresh),
    never on the title it shows."""

    SCAN = auto()
    GROUPING = auto()
    QUESTIONS = auto()
    REVIEW = auto()
    REEMBED = auto()
    MARK_FACE = auto()
    TRAINING = auto()
    ADOPT = auto()
    WEIGHTS = auto()
    EXPORT = auto()


@dataclass(frozen=True)
class Job:
    """One job for the runner: its kind, the title shown while it runs, the work (run in a
    worker thread with a ``JobContext``), and what its end means: ``cancellable`` and
    ``pausable`` (the job bar's buttons), ``refresh`` (it changed the catalog: the window
    re-reads it)."""

    kind: JobKind
    title: str
    run: Callable[[JobContext], Any]
    cancellable: bool = True
    pausable: bool = False
    refresh: bool = True


class JobRunner(QObject):
    """Runs jobs one at a time; every signal arrives on the GUI thread.

    Signals: ``started(Job)``, ``progress(JobProgress)``, ``finished(Job, result)``
    (also after a cancel: the result says what was done), ``failed(Job, JobError)``,
    ``busy_changed(bool)``.
    """

    started = Signal(object)
    progress = Signal(object)
    finished = Signal(object, object)
    failed = Signal(object, object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: Any = None
        self.job: Job | None = None
        self.control: JobControl | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    @property
    def current(self) -> str | None:
        """The running job's title."""
        return self.job.title if self.job is not None else None

    @property
    def cancellable(self) -> bool:
        return self.job is not None and self.job.cancellable

    def start(self, job: Job, on_done: Callable[[Any], None] | None = None) -> bool:
        """Start ``job`` in a worker thread; False (nothing started) while another job runs.
        ``on_done(result)`` runs on the GUI thread after ``finished`` is emitted."""
        if self.busy:
            return False
        from superqt.utils import create_worker

        control = JobControl()
        ctx = JobContext(job.title, control, self.progress.emit)

        def work() -> Any:
            try:
                with background_priority():
                    return job.run(ctx)
            except Exception as exc:  # carried to the GUI thread with its traceback
                raise JobError(
                    job.title, f"{type(exc).__name__}: {exc}", traceback.format_exc()
                ) from exc

        self.job, self.control = job, control
        # _ignore_errors: errors arrive through ``failed`` (below); superqt would otherwise
        # also re-raise them in the GUI event loop, where nobody handles them.
        worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda result: self._done(job, result, on_done))
        worker.errored.connect(lambda exc: self._error(job, exc))
        self._worker = worker
        self.started.emit(job)
        self.busy_changed.emit(True)
        worker.start()
        return True

    def cancel(self) -> None:
        if self.control is not None and self.cancellable:
            self.control.cancel()

    def _finish(self) -> None:
        self.job, self._worker, self.control = None, None, None
        self.busy_changed.emit(False)

    def _done(self, job: Job, result: Any, on_done: Callable[[Any], None] | None) -> None:
        self._finish()
        self.finished.emit(job, result)
        if on_done is not None:
            on_done(result)

    def _error(self, job: Job, exc: BaseException) -> None:
        log.warning("job %s failed: %s", job.title, exc)
        self._finish()
        err = exc if isinstance(exc, JobError) else JobError(job.title, str(exc))
        self.failed.emit(job, err)


def format_eta(seconds: float | None) -> str:
    """'about 3 min left', '12 s left', or '' when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"
