"""A scan and what follows it, the same for the app and the command line: the scan, then the
names other programs stored in the photos (they seed the grouping), then, when asked, the
grouping itself; with live grouping, people also appear while the scan runs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from album.catalog import Catalog

# Live grouping during a scan (album.people.live): every this many photos or seconds.
LIVE_EVERY_PHOTOS = 300
LIVE_EVERY_SECONDS = 30.0


@dataclass
class ScanResult:
    scan: Any  # album.scan.ScanSummary
    cluster: Any | None  # album.people.service.ReclusterSummary, when grouped after the scan
    names: Any | None = None  # album.people.metadata.NamesImport, when read
    live_runs: int = 0  # groupings during the scan (album.people.live)
    live_seconds: float = 0.0  # their time, within the scan's


def scan_and_group(
    catalog: Catalog,
    scanner: Any,
    folders: Sequence[str | Path],
    *,
    progress: Callable[[Any], None] | None = None,
    control: Any = None,
    retry_errors: bool = False,
    names: bool = True,
    group: bool = False,
    live: bool = False,
    on_people: Callable[[], None] | None = None,
    status: Callable[[str], None] | None = None,
) -> ScanResult:
    """Scan ``folders`` with ``scanner`` (an ``album.scan.Scanner`` on ``catalog``), then read
    the names in the new photos' metadata (``names``), then group faces into people
    (``group``). ``live``: also group while the scan runs, between two stored batches
    (``on_people()`` after each such grouping). ``progress(ScanProgress)`` and ``control``
    (``ScanControl``) are the scan's; ``status(text)`` says which step runs. A cancelled scan
    stops there: nothing after it runs. Raises FileNotFoundError for a missing folder."""
    from album.people.live import LiveGrouping

    @functools.cache
    def people() -> Any:
        """The people service, made on first need: a scan that groups nothing and finds no
        names in its photos does not pay for its import (0.14 s: the clustering's)."""
        from album.people.service import PeopleService

        return PeopleService(catalog)

    during = LiveGrouping(lambda: people().recluster(), LIVE_EVERY_PHOTOS, LIVE_EVERY_SECONDS)

    def each_batch(p: Any) -> None:
        if progress is not None:
            progress(p)
        stopping = control is not None and control.cancelled
        if live and not stopping and during.maybe_run(p.photos_done) and on_people is not None:
            on_people()

    summary = scanner.run(
        [str(f) for f in folders], progress=each_batch, control=control, retry_errors=retry_errors
    )
    result = ScanResult(summary, None, live_runs=during.runs, live_seconds=during.seconds)
    if summary.cancelled:
        return result
    if names:
        from album.people.metadata import import_embedded_names

        if status is not None:
            status("Reading names from the photos' metadata…")
        result.names = import_embedded_names(catalog, people)
    if group:
        if status is not None:
            status("Grouping faces into people…")
        result.cluster = people().recluster()
    return result
