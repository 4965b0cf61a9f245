"""People while a scan runs: re-grouping every few hundred photos or half a minute, so a
long first scan shows people within a minute instead of at its end.

``LiveGrouping.maybe_run`` is called from the scan's progress callback, between two stored
batches (no transaction open, in the scan's thread and under its writer lock). Each run is
``PeopleService.recluster``: new faces recognised against the named people, the rest grouped,
the user's decisions left alone. Runs are spaced so they cost at most ``budget`` of the scan's
time: after a run of d seconds the next waits at least d / budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class LiveGrouping:
    """Decides when to re-group during a scan and does it.

    ``recluster``: the grouping to run (``PeopleService.recluster``). A run is due once
    ``every_photos`` more photos are stored, or ``every_seconds`` have passed with at least
    one new photo, and the time budget allows it.
    """

    def __init__(
        self,
        recluster: Callable[[], Any],
        every_photos: int = 300,
        every_seconds: float = 30.0,
        budget: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recluster = recluster
        self.every_photos = every_photos
        self.every_seconds = every_seconds
        self.budget = budget
        self.clock = clock
        self.runs = 0
        self.seconds = 0.0  # spent grouping
        self._photos = 0  # stored at the last run
        self._last_end = clock()
        self._wait = 0.0  # the budget's pause after the last run

    def due(self, photos_done: int) -> bool:
        new = photos_done - self._photos
        if new <= 0:
            return False
        since = self.clock() - self._last_end
        if since < self._wait:
            return False
        return new >= self.every_photos or since >= self.every_seconds

    def maybe_run(self, photos_done: int) -> Any | None:
        """Re-group if due; the grouping's result, else None."""
        if not self.due(photos_done):
            return None
        start = self.clock()
        result = self.recluster()
        end = self.clock()
        took = end - start
        self.runs += 1
        self.seconds += took
        self._photos = photos_done
        self._last_end = end
        self._wait = took / self.budget if self.budget > 0 else float("inf")
        log.info("live grouping %d after %d photos: %.2f s", self.runs, photos_done, took)
        return result
