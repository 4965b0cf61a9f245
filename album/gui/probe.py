"""Measuring how long the GUI thread is blocked: a 10 ms timer whose late ticks are stalls."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer


class StallProbe(QObject):
    """Ticks every ``interval_ms``; ``longest_ms`` is the longest gap beyond the interval
    (the longest time the event loop could not run a timer)."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest_ms = 0.0
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def skip(self) -> None:
        """Leave the time since the last tick out (a measurement's own work, e.g. a
        screenshot)."""
        self._last = time.perf_counter()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        t = time.perf_counter()
        late = (t - self._last - self.interval) * 1000
        self._last = t
        self.gaps.append(late)
        self.longest_ms = max(self.longest_ms, late)

    def percentile(self, q: float) -> float:
        if not self.gaps:
            return 0.0
        s = sorted(self.gaps)
        return s[min(len(s) - 1, int(q * len(s)))]
