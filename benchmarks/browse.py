"""Browsing figures: time to the first screen, and the People page and a person's Photos on a
large catalog, through the real window (offscreen unless QT_QPA_PLATFORM says otherwise).

    .venv/bin/python benchmarks/browse.py [--photos 10000] [--people 300] [--runs 3]

1. Start-up: ``python -m album.gui --quit-after-visible`` on an empty catalog (the welcome)
   and on the large one (the People grid), timed by this process from spawning the child to
   its report (the window painted with the first screen). Median of ``--runs``.
2. A synthetic catalog (no image files, so thumbnails fail fast and stay placeholders):
   ``--photos`` photos over ten years; one person in every photo, ``--people`` more with
   Zipf-like counts, a face each. Then in this process: the People page (window shown with
   the grid filled), opening the big person (their Photos view filled and painted), and
   scrolling that grid top to bottom under the stall probe (longest event-loop stall), with
   the number of tiles asked for against the rows.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def first_screen(catalog: Path, home: Path, runs: int) -> tuple[float, float, str]:
    """Median seconds from spawning the app to its first-screen report, the median CPU
    seconds the process had used by then (all its threads: the engine starts loading as the
    window shows), and the report. The app exits once the engine has loaded; not counted."""
    times, cpu, line = [], [], ""
    env = {**os.environ, "ALBUM_HOME": str(home)}
    cmd = [sys.executable, "-m", "album.gui", "--library", str(catalog), "--quit-after-visible"]
    for _ in range(runs):
        t = time.perf_counter()
        with subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as child:
            assert child.stdout is not None
            line = next((x for x in child.stdout if x.startswith("visible")), "")
            times.append(time.perf_counter() - t)
            _, err = child.communicate()
        used = re.search(r"([\d.]+) s CPU", line)
        if child.returncode or used is None:
            raise RuntimeError(f"the app failed (exit {child.returncode}): {err[-2000:]}")
        cpu.append(float(used.group(1)))
    screen = line.strip().split("first screen: ", 1)[-1]
    return statistics.median(times), statistics.median(cpu), screen


def make_catalog(path: Path, photos: int, people: int, seed: int = 0) -> int:
    """The synthetic catalog; returns the id of the person in every photo."""
    from album.catalog import Catalog
    from album.catalog.schema import now
    from album.people.synthetic import fill_catalog

    rng = np.random.default_rng(seed)
    counts = np.maximum(1, (photos / 4 / np.arange(1, people + 1) ** 0.9).astype(int))
    photo_of = [np.arange(photos)] + [rng.choice(photos, n, replace=False) for n in counts]
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(photo_of)])
    photo_of_face = np.concatenate(photo_of)
    x = rng.normal(size=(len(owner), 128)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = now()
    with Catalog(path) as cat:
        ids = fill_catalog(cat, x, photo_of_face)
        db = cat.db
        with db.atomic():
            start = np.datetime64("2015-01-01T00:00")
            for n in range(photos):  # one photo every ~8 hours over ten years
                taken = str(start + np.timedelta64(int(n * 526), "m"))
                db.execute(
                    "UPDATE photos SET taken_at = ? WHERE path LIKE ?",
                    (taken, f"%photo_{n:05d}.jpg"),
                )
            person = []
            for i in range(len(photo_of)):
                name = "Big" if i == 0 else (f"Person {i}" if i % 3 else None)
                person.append(
                    db.execute(
                        "INSERT INTO people (name, created_at, updated_at, origin) "
                        "VALUES (?, ?, ?, 'user')",
                        (name, t, t),
                    ).lastrowid
                )
            db.conn.executemany(
                "INSERT INTO assignments (face_id, person_id, source, confidence, updated_at) "
                "VALUES (?, ?, 'automatic', 0.3, ?)",
                [(f, person[o], t) for f, o in zip(ids, owner, strict=True)],
            )
    return person[0]


def in_window(catalog: Path, home: Path, big: int) -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from album.gui.app import make_app
    from album.gui.main_window import MainWindow
    from album.gui.probe import StallProbe
    from album.people.overview import people_overview
    from album.people.photos import photos_with

    out: dict[str, float] = {}
    app = make_app()
    t = time.perf_counter()
    w = MainWindow(catalog, QSettings(str(home / "gui.ini"), QSettings.Format.IniFormat))
    w.resize(1280, 800)
    w.show()
    app.processEvents()
    w.repaint()
    out["people page shown"] = time.perf_counter() - t
    out["people rows"] = w.people_page.model.rowCount()
    t = time.perf_counter()
    people_overview(w.session.catalog, include_hidden=True)
    out["people query"] = time.perf_counter() - t
    t = time.perf_counter()
    out["photos rows"] = len(photos_with(w.session.catalog, [big]))
    out["photos query"] = time.perf_counter() - t
    while not w.ready:  # the engine loads in a worker; opening a person waits for it
        app.processEvents()
        time.sleep(0.01)

    page = w.person_page
    done: list[float] = []
    page.photos_loaded.connect(lambda: done.append(time.perf_counter()))
    asked: set = set()
    original_get = w.thumbs.get

    def get(key):  # count the tiles the grid asks for
        if key[0] == "tile":
            asked.add(key[1])
        return original_get(key)

    w.thumbs.get = get
    loop = QEventLoop()  # waits as the app does (a busy loop would take the GIL from the query)
    page.photos_loaded.connect(loop.quit)
    fill: list[float] = []  # when the rows arrived from the worker, and when they were in
    set_photos = page.photos_model.set_photos

    def timed_set_photos(rows, *args) -> None:
        fill.append(time.perf_counter())
        set_photos(rows, *args)
        fill.append(time.perf_counter())

    page.photos_model.set_photos = timed_set_photos
    t = time.perf_counter()
    w.open_person(big)
    if not done:
        loop.exec()
    page.photo_view.repaint()
    out["person photos shown"] = time.perf_counter() - t
    out["person query done"] = fill[-2] - t  # the opening's own work, then the worker's query
    out["person rows filled"] = fill[-1] - fill[-2]
    out["tiles asked on open"] = len(asked)

    probe = StallProbe(10)
    probe.start()
    bar = page.photo_view.verticalScrollBar()
    t = time.perf_counter()
    while bar.value() < bar.maximum() and time.perf_counter() - t < 60:
        bar.setValue(bar.value() + bar.pageStep() // 2)
        end = time.perf_counter() + 0.016  # about one frame per step
        while time.perf_counter() < end:
            app.processEvents()
    probe.stop()
    out["scroll seconds"] = time.perf_counter() - t
    out["scroll longest stall ms"] = probe.longest_ms
    out["scroll p99 ms"] = probe.percentile(0.99)
    out["tiles asked after scrolling"] = len(asked)
    out.update(search(app, w, big))
    w.close()
    QApplication.processEvents()
    return out


def search(app, w, big: int) -> dict[str, float]:
    """Exact-set and exclusion search: the core's queries (best of 3), then the Photos page's
    "Photos with…" field typed into (a name, "-name", "only them") under the stall probe,
    each step waiting for its rows as the app does."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtTest import QTest

    from album.gui.probe import StallProbe
    from album.people.photos import photos_with

    cat = w.session.catalog
    second = cat.db.execute("SELECT id FROM people WHERE name = 'Person 1'").fetchone()[0]
    out: dict[str, float] = {}
    for key, ids, kw in (
        ("only", [big, second], {"only": True}),
        ("only no strangers", [big, second], {"only": True, "strangers": False}),
        ("with one without another", [big], {"without": [second]}),
        ("every photo without one", [], {"without": [second]}),
    ):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            rows = photos_with(cat, ids, **kw)
            best = min(best, time.perf_counter() - t)
        out[f"search {key} ms"] = best * 1000
        out[f"search {key} rows"] = len(rows)

    page = w.library_page
    w.show_library([])
    loop = QEventLoop()
    page.loaded.connect(loop.quit)
    loop.exec()
    probe = StallProbe(10)
    probe.start()
    t = time.perf_counter()
    for typed in ("Big", "-Person 1"):
        QTest.keyClicks(page.add, typed)
        QTest.keyClick(page.add, Qt.Key.Key_Return)
        loop.exec()
    page.set_people([big], without=[])
    loop.exec()
    QTest.keyClicks(page.add, "Person 2")
    QTest.keyClick(page.add, Qt.Key.Key_Return)
    loop.exec()
    page.mode.setCurrentIndex(page.mode.findData("only"))
    loop.exec()
    probe.stop()
    out["search field seconds"] = time.perf_counter() - t
    out["search field longest stall ms"] = probe.longest_ms
    out["search field rows"] = page.model.rowCount()
    out["search field text"] = page.counts.text()  # type: ignore[assignment]
    return out


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--photos", type=int, default=10_000)
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--runs", type=int, default=3, help="start-up runs (median)")
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="album-browse-bench-"))
    os.environ["ALBUM_HOME"] = str(tmp)  # never the user's catalog or thumbnails

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    seconds, cpu, screen = first_screen(tmp / "empty.db", tmp, a.runs)
    print(f"first screen, empty catalog: {seconds:.2f} s, {cpu:.2f} s CPU ({screen})")
    t = time.perf_counter()
    big = make_catalog(tmp / "big.db", a.photos, a.people)
    print(f"(made a {a.photos}-photo catalog in {time.perf_counter() - t:.1f} s)")
    seconds, cpu, screen = first_screen(tmp / "big.db", tmp, a.runs)
    print(f"first screen, {a.photos} photos: {seconds:.2f} s, {cpu:.2f} s CPU ({screen})")
    f = in_window(tmp / "big.db", tmp, big)
    print(
        f"People page: window shown with {f['people rows']:.0f} people in "
        f"{f['people page shown']:.2f} s (their query {f['people query'] * 1000:.0f} ms)"
    )
    print(
        f"a person in all {f['photos rows']:.0f} photos: Photos view filled and painted in "
        f"{f['person photos shown']:.2f} s (rows back from the worker after "
        f"{f['person query done']:.2f} s, the query alone {f['photos query'] * 1000:.0f} ms; "
        f"model filled in {f['person rows filled'] * 1000:.0f} ms); "
        f"{f['tiles asked on open']:.0f} tiles asked"
    )
    print(
        f"scrolling those photos top to bottom ({f['scroll seconds']:.1f} s): longest stall "
        f"{f['scroll longest stall ms']:.0f} ms, p99 {f['scroll p99 ms']:.0f} ms; "
        f"{f['tiles asked after scrolling']:.0f} tiles asked in all"
    )
    print(
        "search (core, best of 3): "
        + "; ".join(
            f"{key} {f[f'search {key} ms']:.0f} ms ({f[f'search {key} rows']:.0f} photos)"
            for key in (
                "only",
                "only no strangers",
                "with one without another",
                "every photo without one",
            )
        )
    )
    print(
        f"Photos page, typing 'Big', '-Person 1', then 'Big' + 'Person 2' and 'only them' "
        f"({f['search field seconds']:.2f} s, rows fetched off the GUI thread): longest stall "
        f"{f['search field longest stall ms']:.0f} ms; last: {f['search field text']}"
    )
    sys.stdout.flush()
    # Leave without finalizing: PySide6 can crash tearing down Qt objects of a QApplication
    # that never ran exec(); the figures are printed.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
