"""One writer job per catalog at a time: scan, re-embed, re-cluster.

The lock is a row of the catalog's ``settings`` table (key ``writer_job``) holding the job, its
process id, that process's start time and a token, taken and released in ``BEGIN IMMEDIATE``
transactions, so two processes can never both take it. A row whose process is gone, or whose
pid now belongs to a process started at another time (a reused pid), is stale and taken over:
a job killed with SIGKILL never locks the catalog for good.

>>> with writer_job(catalog, "scan", "~/Pictures"):
...     ...  # a second job meanwhile waits ``wait`` seconds, then gets CatalogLockedError

Taking it again in the thread that holds it nests (a scan that re-clusters at its end).
People operations are not jobs: they only need SQLite's write lock for a moment.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from album.catalog.schema import now
from album.catalog.store import Catalog, write_transaction

log = logging.getLogger(__name__)

LOCK_KEY = "writer_job"


class CatalogLockedError(RuntimeError):
    """Another writer job runs on the catalog; the message names it."""

    def __init__(self, holder: JobInfo, path: Path) -> None:
        super().__init__(
            f"{holder.description} started at {holder.started_at} by process {holder.pid} is "
            f"running on {path}; wait for it to finish (or stop it) and try again"
        )
        self.holder = holder


@dataclass(frozen=True)
class JobInfo:
    job: str  # "scan", "re-embed", "re-cluster"
    description: str  # for messages: "a scan of /photos"
    pid: int
    process_start: str | None  # the holder process's start time, as the OS gives it
    started_at: str  # when the job took the lock (UTC)
    token: str


# (catalog file, thread) -> [token, depth] of the locks this process holds.
_held: dict[tuple[str, int], list] = {}
_held_guard = threading.Lock()


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque string; None when there is no such process.
    With a start time, a dead holder whose pid was reused is told from a live one."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        # Fields 3 (state) and 22 (start time in clock ticks since boot); the name in (...)
        # may hold spaces. A zombie is dead: killed, not yet reaped by its parent.
        fields = stat.rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else fields[19]
    if sys.platform == "win32":
        return _windows_start(pid)
    try:  # macOS and the BSDs
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown" if _posix_alive(pid) else None
    text = out.stdout.strip()
    return text or None


def _posix_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _windows_start(pid: int) -> str | None:
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return None
    try:
        code = wintypes.DWORD()
        if k32.GetExitCodeProcess(handle, ctypes.byref(code)) and code.value != 259:
            return None  # exited (259: STILL_ACTIVE)
        times = [wintypes.FILETIME() for _ in range(4)]
        if not k32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
            return "unknown"
        return f"{times[0].dwHighDateTime}:{times[0].dwLowDateTime}"
    finally:
        k32.CloseHandle(handle)


_MY_START = process_start(os.getpid())


def _live(holder: JobInfo) -> bool:
    """Is the job that wrote this lock row still running?"""
    if holder.pid == os.getpid() and holder.process_start == _MY_START:
        with _held_guard:
            return any(token == holder.token for token, _ in _held.values())
    start = process_start(holder.pid)
    if start is None:
        return False
    return holder.process_start is None or start == holder.process_start


def _read(catalog: Catalog) -> JobInfo | None:
    value = catalog.get_setting(LOCK_KEY)
    if not value:
        return None
    try:
        return JobInfo(**json.loads(value))
    except (TypeError, ValueError):
        return None  # unreadable: treated as stale


def running_job(catalog: Catalog) -> JobInfo | None:
    """The writer job running on ``catalog`` now, if any."""
    holder = _read(catalog)
    return holder if holder is not None and _live(holder) else None


def clear_stale(catalog: Catalog) -> None:
    """Drop the lock row unless a live job holds it (e.g. after restoring a backup)."""
    with write_transaction(catalog.db):
        holder = _read(catalog)
        if holder is not None and not _live(holder):
            catalog.db.execute("DELETE FROM settings WHERE key = ?", (LOCK_KEY,))


@contextmanager
def writer_job(
    catalog: Catalog, job: str, what: str | None = None, wait: float = 5.0
) -> Iterator[JobInfo | None]:
    """Hold the catalog's writer lock for ``job`` while the block runs.

    Args:
        catalog: the open catalog (its own connection is used).
        job: "scan", "re-embed" or "re-cluster".
        what: what the job works on, for the message another job shows ("/photos").
        wait: seconds to wait for a running job before giving up.

    Raises:
        CatalogLockedError: another live job kept the lock for ``wait`` seconds.
    """
    key = (str(catalog.path.resolve()), threading.get_ident())
    with _held_guard:
        mine = _held.get(key)
        if mine is not None:
            mine[1] += 1
    if mine is not None:  # nested in this thread's own job
        try:
            yield None
        finally:
            with _held_guard:
                mine[1] -= 1
        return

    description = f"a {job} of {what}" if what else f"a {job}"
    info = JobInfo(job, description, os.getpid(), _MY_START, now(), uuid.uuid4().hex)
    deadline = time.monotonic() + wait
    while True:
        try:
            with write_transaction(catalog.db):
                holder = _read(catalog)
                free = holder is None or not _live(holder)
                if free:
                    if holder is not None:
                        log.warning(
                            "taking over the lock of %s (process %d is gone)",
                            holder.description,
                            holder.pid,
                        )
                    catalog.set_setting(LOCK_KEY, json.dumps(asdict(info)))
                    with _held_guard:  # before COMMIT: from then on the row is live
                        _held[key] = [info.token, 1]
        except BaseException:
            with _held_guard:
                _held.pop(key, None)
            raise
        if free:
            break
        assert holder is not None
        if time.monotonic() >= deadline:
            raise CatalogLockedError(holder, catalog.path)
        time.sleep(0.2)
    try:
        yield info
    finally:
        with _held_guard:
            _held.pop(key, None)
        try:
            with write_transaction(catalog.db):
                current = _read(catalog)
                if current is not None and current.token == info.token:
                    catalog.db.execute("DELETE FROM settings WHERE key = ?", (LOCK_KEY,))
        except Exception:  # the lock is stale now (its token is no longer held): log only
            log.exception("could not release the catalog's writer lock")


def interrupt_dead_runs(catalog: Catalog) -> int:
    """Mark scan and re-embed runs left 'running' by a process that is gone as
    'interrupted'; returns how many. Call with the writer lock held: then no other job runs,
    and a 'running' row of a live process can only be a reused pid (left for later)."""
    rows = catalog.db.execute("SELECT id, pid FROM scan_runs WHERE status = 'running'").fetchall()
    dead = [
        run_id
        for run_id, pid in rows
        if pid is None or pid == os.getpid() or process_start(int(pid)) is None
    ]
    for run_id in dead:
        catalog.db.execute(
            "UPDATE scan_runs SET status = 'interrupted', updated_at = ? WHERE id = ?",
            (now(), run_id),
        )
    return len(dead)
