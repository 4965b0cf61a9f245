"""Measure the GUI while it scans: the longest event-loop stall (10 ms timer probe) and the
scan time, through the real window and job runner.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m album.gui.bench FOLDER [--shots DIR]
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m album.gui.bench FOLDER  # under X

A fresh catalog in a temporary folder is used (the user's catalog is not touched). Start-up
time: ``.venv/bin/python -m album.gui --quit-after-visible``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


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
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="album-gui-bench-"))
    os.environ.setdefault("ALBUM_HOME", str(tmp))

    from PySide6.QtCore import QSettings, QTimer

    from album.gui import core
    from album.gui.app import make_app
    from album.gui.main_window import MainWindow
    from album.gui.probe import StallProbe

    app = make_app()
    w = MainWindow(tmp / "catalog.db", QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat))
    w.resize(1280, 800)
    w.show()
    probe = StallProbe(10)
    loading = StallProbe(10)  # while the core (torch) loads in a worker thread
    loading.start()
    result: dict = {}

    def shot(name: str) -> None:
        if a.shots:
            a.shots.mkdir(parents=True, exist_ok=True)
            # Under a display server, what it shows (read back from it); offscreen, a render.
            on_screen = app.platformName() != "offscreen"
            image = w.screen().grabWindow(w.winId()) if on_screen else w.grab()
            image.save(str(a.shots / f"{name}.png"))

    def start() -> None:
        if a.in_process_grouping:
            from album.people import offload

            offload.use_child_process(False)
        loading.stop()
        probe.start()
        result["t0"] = time.perf_counter()
        w.scan([str(a.folder)])

    texts = ["start"]
    stalls: list[tuple[float, str]] = []

    def watch() -> None:  # note what the job was doing when a stall ended
        if probe.gaps and probe.gaps[-1] > 100 and len(stalls) < 20:
            stalls.append((probe.gaps[-1], texts[-1]))

    probe.timer.timeout.connect(watch)

    people = w.people_page.model

    def grid_changed() -> None:  # the first people shown while the scan runs
        if "t0" in result and "people" not in result and people.rowCount():
            result["people"] = time.perf_counter() - result["t0"]

    people.modelReset.connect(grid_changed)

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
        app.quit()

    w.runner.progress.connect(progress)
    w.runner.finished.connect(finished)
    w.core_ready.connect(lambda: QTimer.singleShot(0, start))
    app.exec()
    core.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)  # the fresh catalog: figures only are kept
    res = result.get("res")
    if res is None:
        print("the scan did not finish")
        return 1
    s = res.scan
    where = "in-process" if a.in_process_grouping else "in a child process"
    print(f"platform: {app.platformName()}; grouping {where}")
    print(
        f"scanned {s.photos} photos ({s.faces} faces) in {result['seconds']:.1f} s "
        f"(scan {s.seconds:.1f} s + grouping); longest event-loop stall "
        f"{probe.longest_ms:.0f} ms; p99 {probe.percentile(0.99):.0f} ms; "
        f"{len(probe.gaps)} ticks of 10 ms"
    )
    for gap, text in stalls:
        print(f"  stall {gap:.0f} ms during: {text}")
    first = result.get("people")
    print(
        (f"first people shown {first:.1f} s after the scan started; " if first else "")
        + f"grouping during the scan: {res.live_runs} runs, {res.live_seconds:.1f} s "
        f"({100 * res.live_seconds / max(s.seconds, 1e-9):.1f}% of the scan's {s.seconds:.1f} s)"
    )
    print(
        f"while the core loaded after the window showed: longest stall "
        f"{loading.longest_ms:.0f} ms, p99 {loading.percentile(0.99):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
