"""What every long catalog job shares: pause/cancel control, progress reports, and a bounded
read-ahead of files decoded in a thread pool. Plain Python, so a GUI worker thread can drive a
job and forward its progress as signals."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ScanControl:
    """Pause, resume and cancel a running job from any thread.

    The job checks in between batches: a pause takes effect after the batch in flight is
    committed, and so does a cancel (nothing is lost; a later run resumes).
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused job so it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def checkpoint(self) -> bool:
        """Block while paused; False if the job should stop."""
        self._running.wait()
        return not self._cancelled.is_set()


@dataclass(frozen=True)
class ScanProgress:
    """A progress report. ``rate`` is photos per second since the job started; ``eta_seconds``
    is None until the rate is known."""

    photos_done: int
    photos_total: int
    faces: int
    errors: int
    rate: float
    eta_seconds: float | None
    current_path: str | None
    elapsed: float


ProgressCallback = Callable[[ScanProgress], None]


class ProgressMeter:
    """Counts a job's work and makes ``ScanProgress`` reports."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.faces = 0
        self.errors = 0
        self.callback = callback
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def report(self, current_path: str | None = None) -> ScanProgress:
        elapsed = self.elapsed
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        p = ScanProgress(
            self.done, self.total, self.faces, self.errors, rate, eta, current_path, elapsed
        )
        if self.callback is not None:
            self.callback(p)
        return p


class ReadAhead(Generic[T, R]):
    """``fn(item)`` for each item in a thread pool, results in input order, at most ``window``
    in flight or waiting, so memory stays bounded however long the input is.

    ``wait_seconds`` is the time the consumer spent blocked on a result: the decode stage's
    share of the wall time.
    """

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], workers: int, window: int):
        self.fn = fn
        self.items = iter(items)
        self.window = max(1, window)
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="album-read")
        self.pending: deque[Future[R]] = deque()
        self.wait_seconds = 0.0
        self._stopped = False

    def _fill(self) -> None:
        while not self._stopped and len(self.pending) < self.window:
            item = next(self.items, _END)
            if item is _END:
                return
            self.pending.append(self.pool.submit(self.fn, item))

    def __iter__(self) -> Iterator[R]:
        self._fill()
        while self.pending:
            fut = self.pending.popleft()
            t = time.perf_counter()
            result = fut.result()
            self.wait_seconds += time.perf_counter() - t
            self._fill()
            yield result

    def close(self) -> None:
        """Stop submitting, drop what is queued, wait for the running reads."""
        self._stopped = True
        for fut in self.pending:
            fut.cancel()
        self.pending.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReadAhead[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END = object()
