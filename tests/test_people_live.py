"""Grouping while a scan runs (``album.people.live``): when it runs and what it may cost."""

from __future__ import annotations

from album.people.live import LiveGrouping


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_every_few_hundred_photos_or_half_a_minute_within_the_budget() -> None:
    clock = Clock()
    took = [0.5]

    def recluster() -> str:
        clock.t += took[0]  # the grouping's own time
        return "grouped"

    live = LiveGrouping(recluster, every_photos=300, every_seconds=30, budget=0.05, clock=clock)
    assert live.maybe_run(0) is None  # nothing stored yet
    clock.t = 10
    assert live.maybe_run(299) is None  # neither 300 photos nor 30 s
    assert live.maybe_run(300) == "grouped" and live.runs == 1
    clock.t += 29
    assert live.maybe_run(301) is None
    clock.t += 1
    assert live.maybe_run(301) == "grouped"  # 30 s and a new photo
    clock.t += 60
    assert live.maybe_run(301) is None  # no new photo: nothing to do

    # A slow grouping (10 s) waits 10 / 0.05 = 200 s, however many photos arrive.
    took[0] = 10.0
    assert live.maybe_run(1000) == "grouped"
    clock.t += 199
    assert live.maybe_run(5000) is None
    clock.t += 1
    assert live.maybe_run(5000) == "grouped"
    assert live.seconds == 0.5 + 0.5 + 10 + 10


def test_the_cost_stays_within_the_budget() -> None:
    """Scanning 50,000 photos at 5 photos/s with a grouping that grows with the catalog:
    grouping takes at most 5 % of the time, and the first people show within a minute."""
    clock = Clock()
    done = [0]

    def recluster() -> bool:
        clock.t += 0.2 + done[0] / 2000  # 0.2 s at first, 25 s at 50,000 photos
        return True

    live = LiveGrouping(recluster, clock=clock)
    first = None
    while done[0] < 50_000:
        clock.t += 8 / 5  # a batch of 8 photos
        done[0] += 8
        if live.maybe_run(done[0]) is not None and first is None:
            first = clock.t
    assert first is not None and first < 60
    assert live.seconds / clock.t < 0.05 and live.runs > 20
