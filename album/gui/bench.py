"""Measure the GUI while it scans: the longest event-loop stall (10 ms timer probe) and the
scan time, through the real window and job runner.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m album.gui.bench FOLDER [--shots DIR]
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m album.gui.bench FOLDER  # under X
    .venv/bin/python -m album.gui.bench FOLDER --compare 2  # live grouping's cost, A/B

Each scan uses a fresh catalog in a temporary folder (the user's catalog is not touched).
``--compare N`` scans the folder 2N times in this one process, with and without the
grouping during the scan, alternating (with, without, without, with, ...) so that neither
gets the warmer caches, after an uncounted scan of a few of its photos (models loaded), and
prints each total (scan plus the grouping at its end) and the difference of the means.
Start-up time: ``.venv/bin/python -m album.gui --quit-after-visible``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def scan_once(
    folder: Path, live: bool = True, shots: Path | None = None, in_process: bool = False
) -> dict[str, Any]:
    """Open a window on a fresh catalog, scan ``folder`` (``live``: with the grouping during
    the scan) and close it; the figures, or {} when the scan did not finish."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from album.gui.app import when_exposed
    from album.gui.main_window import MainWindow
    from album.gui.probe import StallProbe
    from album.people import scanning

    app = QApplication.instance()
    tmp = Path(tempfile.mkdtemp(prefix="album-gui-bench-"))
    os.environ["ALBUM_HOME"] = str(tmp)  # the thumbnails of this scan only
    every = (scanning.LIVE_EVERY_PHOTOS, scanning.LIVE_EVERY_SECONDS)
    if not live:  # never due: the scan groups once, at its end
        scanning.LIVE_EVERY_PHOTOS, scanning.LIVE_EVERY_SECONDS = 2**62, math.inf
    w = MainWindow(tmp / "catalog.db", QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat))
    w.resize(1280, 800)
    w.show()
    probe = StallProbe(10)
    # While the core (torch) loads in a worker thread, from the window's first paint on: the
    # time to that paint is start-up (``--quit-after-visible``), printed apart.
    loading = StallProbe(10)
    result: dict[str, Any] = {}
    shown = time.perf_counter()

    def painted() -> None:
        result["first_paint"] = time.perf_counter() - shown
        if "t0" not in result:  # the scan has not started (a core loaded earlier: at once)
            loading.start()

    when_exposed(w, painted)
    loop = QEventLoop()

    def shot(name: str) -> None:
        if shots:
            _screenshot(app, w, shots / f"{name}.png")
            probe.skip()  # the screenshot is the bench's work, not the app's

    def start() -> None:
        if in_process:
            from album.people import offload

            offload.use_child_process(False)
        loading.stop()
        probe.start()
        result["t0"] = time.perf_counter()
        w.scan([str(folder)])

    texts = ["start"]
    stalls = _watch_stalls(w, probe, texts)
    _note_first_people(w, result)

    def progress(pr) -> None:
        texts.append(pr.text)
        if pr.total and pr.done >= pr.total // 2 and "shot" not in result:
            result["shot"] = True
            QTimer.singleShot(0, lambda: shot("scan-progress"))

    def finished(name: str, res) -> None:
        probe.stop()
        result["seconds"] = time.perf_counter() - result["t0"]
        result["res"] = res
        QTimer.singleShot(1500, finish)

    def finish() -> None:
        shot("people")
        loop.quit()

    w.runner.progress.connect(progress)
    w.runner.finished.connect(finished)
    w.runner.failed.connect(lambda *_: loop.quit())
    if w.ready:  # the core was loaded by an earlier scan of this process
        QTimer.singleShot(0, start)
    else:
        w.core_ready.connect(lambda: QTimer.singleShot(0, start))
    loop.exec()
    w.close()
    w.deleteLater()
    scanning.LIVE_EVERY_PHOTOS, scanning.LIVE_EVERY_SECONDS = every
    shutil.rmtree(tmp, ignore_errors=True)  # the fresh catalog: figures only are kept
    if "res" not in result:
        return {}
    result.update(probe=probe, loading=loading, stalls=stalls)
    return result


def _screenshot(app, w, path: Path) -> None:
    """Save what the window shows: under a display server, read back from it; offscreen,
    a render."""
    path.parent.mkdir(parents=True, exist_ok=True)
    on_screen = app.platformName() != "offscreen"
    image = w.screen().grabWindow(w.winId()) if on_screen else w.grab()
    image.save(str(path))


def _watch_stalls(w, probe, texts: list[str]) -> list[tuple[float, str]]:
    """The stalls over 25 ms that ``probe`` sees in window ``w``, each with what the job was
    doing (``texts[-1]``) and what the GUI thread did meanwhile: its own CPU time (little: it
    waited for the GIL or a core) and the time in the people and thumbnail slots (the rest:
    Qt's layout and painting). The list fills as the probe ticks."""
    stalls: list[tuple[float, str]] = []
    busy = {"cpu": time.thread_time(), "slots": 0.0}

    def watch() -> None:  # note what the job was doing when a stall ended
        cpu = time.thread_time()
        if probe.gaps and probe.gaps[-1] > 25:
            stalls.append(
                (
                    probe.gaps[-1],
                    f"{texts[-1]} (GUI thread CPU {1000 * (cpu - busy['cpu']):.0f} ms, "
                    f"in the people and thumbnail slots {1000 * busy['slots']:.0f} ms)",
                )
            )
        busy["cpu"], busy["slots"] = cpu, 0.0

    def timed(fn):
        def run(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                busy["slots"] += time.perf_counter() - t

        return run

    w.refresh_people = timed(w.refresh_people)
    w.thumbs._on_loaded = timed(w.thumbs._on_loaded)
    w.thumbs._loader.loaded.disconnect()
    w.thumbs._loader.loaded.connect(w.thumbs._on_loaded)
    probe.timer.timeout.connect(watch)
    return stalls


def _note_first_people(w, result: dict[str, Any]) -> None:
    """Set ``result["people"]``: the seconds from the scan's start (``result["t0"]``) to the
    first people shown in the grid while the scan runs."""
    people = w.people_page.model

    def grid_changed() -> None:
        if "t0" in result and "people" not in result and people.rowCount():
            result["people"] = time.perf_counter() - result["t0"]

    people.updated.connect(grid_changed)


def report(r: dict[str, Any], live: bool, in_process: bool) -> None:
    from PySide6.QtWidgets import QApplication

    res, probe, loading = r["res"], r["probe"], r["loading"]
    s = res.scan
    where = "in-process" if in_process else "in a child process"
    print(
        f"platform: {QApplication.platformName()}; grouping {where}"
        + ("" if live else "; no grouping during the scan")
    )
    print(
        f"scanned {s.photos} photos ({s.faces} faces) in {r['seconds']:.1f} s "
        f"(scan {s.seconds:.1f} s + grouping); longest event-loop stall "
        f"{probe.longest_ms:.0f} ms; p99 {probe.percentile(0.99):.0f} ms; "
        f"{len(probe.gaps)} ticks of 10 ms"
    )
    for gap, text in sorted(r["stalls"], reverse=True)[:5]:  # the five longest
        print(f"  stall {gap:.0f} ms during: {text}")
    first = r.get("people")
    print(
        (f"first people shown {first:.1f} s after the scan started; " if first else "")
        + f"grouping during the scan: {res.live_runs} runs, {res.live_seconds:.1f} s "
        f"({100 * res.live_seconds / max(s.seconds, 1e-9):.1f}% of the scan's {s.seconds:.1f} s)"
    )
    print(
        f"window painted {1000 * r.get('first_paint', math.nan):.0f} ms after show(); "
        f"while the core loaded "
        f"after that: longest stall {loading.longest_ms:.0f} ms, "
        f"p99 {loading.percentile(0.99):.0f} ms",
        flush=True,
    )


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("folder", type=Path)
    p.add_argument("--shots", type=Path, help="save 1280x800 screenshots here")
    p.add_argument(
        "--in-process-grouping",
        action="store_true",
        help="cluster in the scan's thread, not the app's child process (for comparison)",
    )
    p.add_argument(
        "--no-live-grouping",
        action="store_true",
        help="group once at the end of the scan only, as before people appeared during it",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="profile the GUI thread's Python code (cProfile) during the scan into FILE",
    )
    p.add_argument(
        "--compare",
        type=int,
        metavar="N",
        help="scan 2N times, alternating with and without live grouping; compare the totals",
    )
    a = p.parse_args()
    os.environ.setdefault("ALBUM_HOME", tempfile.mkdtemp(prefix="album-gui-bench-"))

    from album.gui import core
    from album.gui.app import make_app

    make_app()
    try:
        if not a.compare:
            live = not a.no_live_grouping
            profile = None
            if a.profile:
                import cProfile

                profile = cProfile.Profile()  # this thread only: Qt's calls into Python
                profile.enable()
            r = scan_once(a.folder, live, a.shots, a.in_process_grouping)
            if profile is not None:
                profile.disable()
                profile.dump_stats(a.profile)
            if not r:
                print("the scan did not finish")
                return 1
            report(r, live, a.in_process_grouping)
            return 0
        # A first, uncounted scan of a few of the photos: the models, the clustering
        # process and the caches are then as warm for the first counted scan as the rest.
        warm = Path(tempfile.mkdtemp(prefix="album-gui-bench-warm-"))
        for f in sorted(a.folder.iterdir())[:8]:
            if f.is_file():
                shutil.copy(f, warm / f.name)
        scan_once(warm, True, None, a.in_process_grouping)
        shutil.rmtree(warm, ignore_errors=True)
        totals: dict[bool, list[float]] = {True: [], False: []}
        for i in range(2 * a.compare):
            live = i % 4 in (0, 3)  # with, without, without, with, ...
            r = scan_once(a.folder, live, None, a.in_process_grouping)
            if not r:
                print("a scan did not finish")
                return 1
            report(r, live, a.in_process_grouping)
            totals[live].append(r["seconds"])
            print(f"load average {os.getloadavg()[0]:.1f}\n", flush=True)
        with_, without = statistics.mean(totals[True]), statistics.mean(totals[False])
        print(
            f"total scan time with live grouping {with_:.1f} s "
            f"({', '.join(f'{t:.1f}' for t in totals[True])}), without {without:.1f} s "
            f"({', '.join(f'{t:.1f}' for t in totals[False])}): "
            f"{100 * (with_ / without - 1):+.1f}%"
        )
        # Scans of one mode can differ by 15% on a shared machine: the medians are less
        # swayed by one unusually fast or slow scan.
        mid_with, mid_without = statistics.median(totals[True]), statistics.median(totals[False])
        print(f"medians: {100 * (mid_with / mid_without - 1):+.1f}%")
        return 0
    finally:
        core.shutdown()


if __name__ == "__main__":
    code = main()
    # Leave without finalizing: tearing down the Qt objects of a window that is still shown
    # can crash PySide6 at exit (seen once in seven runs under Xvfb, after the figures
    # were printed but before they were flushed); the figures are out, the catalog closed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
