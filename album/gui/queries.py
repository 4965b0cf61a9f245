"""Reads that take too long for the GUI thread (a person's 10,000 photos, regrouping a person's
faces), run in a worker thread with their own catalog connection (SQLite connections are per
thread); only the newest request's answer is delivered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class NewestQuery(QObject):
    """``submit(fn, *args)`` runs ``fn(*args)`` in a worker thread; ``ready(result)`` brings the
    answer of the newest request only (an older one is dropped), ``failed(text)`` its error in
    words. Nothing arrives once this object is gone (the window closed while it read)."""

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._request = 0
        self._workers: set = set()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        from superqt.utils import create_worker

        self._request += 1
        request = self._request
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda result: self._done(request, result, None))
        worker.errored.connect(lambda exc: self._done(request, None, exc))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)  # referenced until it ends
        worker.start()

    def _done(self, request: int, result: Any, exc: BaseException | None) -> None:
        if not shiboken6.isValid(self) or request != self._request:
            return
        if exc is not None:
            log.info("%s: %s", type(self).__name__, exc)
            self.failed.emit(str(exc))
        else:
            self.ready.emit(result)
