"""Clustering in a child process, so that a program with a user interface stays responsive.

``hdbscan``'s compiled exact path holds the GIL for hundreds of milliseconds at a time (about
1 s for 2,000 faces, 8 s for 5,000), so clustering in a worker *thread* still freezes the GUI
thread. The app calls ``use_child_process()`` once; from then on ``cluster`` (same arguments
and result as ``album.people.clustering.cluster``) runs in one long-lived worker process,
started with "spawn" on first use (or ``prestart()``) and ended by ``shutdown()``. Without that
call (command line, scripts, tests) it runs in-process, as does any call once the worker
cannot start or has died (logged). Results are the same: the child runs the same function on
the same arrays.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import fields
from typing import Any

import numpy as np

from album.people.clustering import ClusterReport, Pairs, _pairs
from album.people.clustering import cluster as _cluster_here
from album.people.errors import PeopleError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_enabled = False
_pool: ProcessPoolExecutor | None = None
_closed = False  # shutdown() was called: a lost worker means "stop", not "retry here"
# The worker's CPU priority below its parent's (nice steps): clustering is background work.
CHILD_NICENESS = 10


def use_child_process(enabled: bool = True) -> None:
    """Run ``cluster`` in a child process from now on (``False``: in-process again)."""
    global _enabled, _closed
    with _lock:
        _enabled, _closed = enabled, False


def enabled() -> bool:
    return _enabled and not _closed


def prestart() -> Future | None:
    """Start the worker now and let it import the clustering libraries, so the first
    grouping does not wait for that (about a second). Returns at once; None when disabled."""
    pool = _get_pool()
    if pool is None:
        return None
    try:
        return pool.submit(_warm)
    except (OSError, RuntimeError, BrokenProcessPool) as exc:
        _give_up(exc)
        return None


def worker_pid() -> int | None:
    """The worker process's id (None when disabled or it cannot start); starts it."""
    pool = _get_pool()
    if pool is None:
        return None
    try:
        return int(pool.submit(os.getpid).result())
    except (OSError, RuntimeError, BrokenProcessPool) as exc:
        _give_up(exc)
        return None


def shutdown() -> None:
    """End the worker (at the app's exit). A grouping waiting on it raises ``PeopleError``;
    it had written nothing yet. Later calls run in-process."""
    global _pool, _closed
    with _lock:
        pool, _pool, _closed = _pool, None, True
    if pool is None:
        return
    # terminate: the pool's own shutdown waits for a running task (seconds to minutes).
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        p.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def cluster(
    embeddings: np.ndarray,
    quality: np.ndarray | None = None,
    cannot_link: Pairs = None,
    must_link: Pairs = None,
    report: ClusterReport | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """``album.people.clustering.cluster``, in the worker process when enabled."""
    pool = _get_pool()
    if pool is not None:
        # Arrays pickle as one buffer each; lists of tuples would cost the GIL per pair.
        args = (np.asarray(embeddings), quality, _pairs(cannot_link), _pairs(must_link))
        try:
            labels, child_report = pool.submit(_cluster_there, *args, **kwargs).result()
        except (OSError, BrokenProcessPool, CancelledError) as exc:
            if _closed:
                raise PeopleError("grouping stopped: the app is closing") from exc
            _give_up(exc)
        except RuntimeError as exc:  # submitted just after shutdown(), or raised by the work
            if _closed:
                raise PeopleError("grouping stopped: the app is closing") from exc
            raise
        else:
            if report is not None:
                for f in fields(ClusterReport):
                    setattr(report, f.name, getattr(child_report, f.name))
            return labels
    return _cluster_here(embeddings, quality, cannot_link, must_link, report=report, **kwargs)


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool
    with _lock:
        if not _enabled or _closed:
            return None
        if _pool is None:
            try:
                _pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init
                )
            except (OSError, ValueError, ImportError) as exc:  # no processes here
                log.warning("clustering in-process: no worker process (%s)", exc)
                return None
        return _pool


def _give_up(exc: BaseException) -> None:
    """The worker could not start or died: cluster in-process for the rest of the session."""
    global _pool, _enabled
    log.warning("clustering in-process from now on: the worker process failed (%r)", exc)
    with _lock:
        pool, _pool, _enabled = _pool, None, False
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


# --- in the worker process -------------------------------------------------------------------


def _child_init() -> None:
    """The worker gives way to the program that started it (its window, its scan), and ends
    when that program is gone: killed (SIGTERM, SIGKILL, a crash), the program cannot stop
    it, and a grouping in progress would otherwise run on for minutes, orphaned."""
    with contextlib.suppress(AttributeError, OSError):  # no nice() on Windows
        os.nice(CHILD_NICENESS)
    threading.Thread(
        target=_end_with_parent, args=(os.getppid(),), daemon=True, name="album-parent-watch"
    ).start()


def _end_with_parent(parent: int, every: float = 0.5) -> None:
    """Exit this process once it no longer has ``parent`` (on POSIX an orphan is re-parented;
    the check runs whenever the clustering lets go of the GIL, at least every few seconds)."""
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(0)


def _warm() -> int:
    with contextlib.suppress(ImportError):
        import hdbscan  # noqa: F401  (imported by clustering on first use)
    return os.getpid()


def _cluster_there(*args: Any, **kwargs: Any) -> tuple[np.ndarray, ClusterReport]:
    report = ClusterReport()
    return _cluster_here(*args, report=report, **kwargs), report
