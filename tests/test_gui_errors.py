"""The app tells the user, in words, when an operation is refused or fails, and when a job
fails; it follows a model switch. Real widgets (pytest-qt, offscreen) over a synthetic
catalog (no image files: thumbnails stay blank)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import json
import sqlite3
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")
pytest.importorskip("superqt")

from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui

JOB_TIMEOUT = 90_000  # ms; the first job imports torch


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """Ada and Bob, 4 confirmed faces each; their first faces share a photo (so they can
    never be merged); a third unnamed cluster."""
    from album.catalog import Catalog
    from album.people import PeopleService
    from album.people.synthetic import fill_catalog, synthetic_people
    from album.scan.model_switch import mark_offered

    x, truth = synthetic_people(3, 4, spread=0.25, seed=5)
    photo = np.arange(len(truth))
    photo[4] = photo[0]
    path = tmp_path / "catalog.db"
    with Catalog(path) as cat:
        ids = fill_catalog(cat, x, photo)
        svc = PeopleService(cat)
        svc.recluster()
        svc.name(svc.person_of(ids[0]).person_id, "Ada")
        svc.name(svc.person_of(ids[4]).person_id, "Bob")
        mark_offered(cat)  # on the earlier default model, already asked about the switch
    return path


@pytest.fixture
def window(qtbot, catalog: Path, tmp_path: Path):
    from test_gui import _window

    w = _window(qtbot, catalog, tmp_path)
    yield w
    w.close()


def _open_named(qtbot, w, name: str) -> int:
    svc = w.session.people
    pid = svc.by_name(name).id
    rows = w.people_page.model
    row = next(r for r in range(rows.rowCount()) if rows.person_at(r).id == pid)
    view = w.people_page.view
    view.setFocus()
    view.setCurrentIndex(view.model().index(row, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert w.person_page.person_id == pid
    return pid


def test_a_refused_merge_typed_on_the_person_page_says_why(qtbot, window) -> None:
    """Typing Ada's name on Bob's page offers a merge; the core refuses it (a shared photo):
    the status bar says why and the page stays on Bob (it raised AttributeError before)."""
    w = window
    bob = _open_named(qtbot, w, "Bob")
    page = w.person_page
    page.name.selectAll()
    qtbot.keyClicks(page.name, "Ada")
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    assert page.offer.isVisible()
    qtbot.mouseClick(page.offer.yes, Qt.MouseButton.LeftButton)
    message = w.statusBar().currentMessage()
    assert "same photo" in message and message.startswith("⚠")
    assert page.person_id == bob and w.session.people.person(bob).merged_into is None
    page.show_view("faces")  # the page opens on the photos; Bob's faces are all still his
    assert page.model.rowCount() == 4


def test_an_operation_that_fails_shows_a_message_box(qtbot, window, catalog: Path) -> None:
    """Another program keeps the catalog's write lock: Hide fails after waiting, and the
    user reads why in a message box (before, the error escaped and nothing was shown)."""
    w = window
    pid = _open_named(qtbot, w, "Ada")
    w.session.catalog.db.execute("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(catalog)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        qtbot.mouseClick(w.person_page.hide_person, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: getattr(w, "error_box", None) is not None)
        box = w.error_box
        assert box.isVisible() and box.windowTitle() == "The change was not made"
        assert "busy" in box.text() and "Nothing was changed" in box.text()
        assert "Traceback" in box.detailedText()
        assert "busy" in w.statusBar().currentMessage()
    finally:
        blocker.rollback()
        blocker.close()
    box.close()
    assert w.session.people.person(pid).hidden is False
    qtbot.mouseClick(w.person_page.hide_person, Qt.MouseButton.LeftButton)  # works again
    assert w.session.people.person(pid).hidden is True


def test_a_job_refused_by_a_running_scan_names_it(qtbot, window, catalog: Path) -> None:
    from album.catalog import Catalog
    from album.catalog.lock import LOCK_KEY, JobInfo, process_start

    w = window
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        info = JobInfo("scan", "a scan of /photos", proc.pid, process_start(proc.pid), "t0", "x")
        with Catalog(catalog) as cat:
            cat.set_setting(LOCK_KEY, json.dumps(asdict(info)))
        with qtbot.waitSignal(w.runner.failed, timeout=JOB_TIMEOUT):
            qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    finally:
        proc.kill()
        proc.wait()
    box = w.error_box
    assert box.isVisible() and box.windowTitle() == "Grouping failed"
    assert f"a scan of /photos started at t0 by process {proc.pid} is running" in box.text()


def test_the_people_service_follows_a_model_switch(qtbot, window) -> None:
    from album.gui import core
    from album.scan.reembed import ReembedSummary

    w = window
    assert w.session.people.model_id == "dlib-resnet-v1"
    w.session.catalog.set_setting("model", "facenet-vggface2")  # what a re-embed ends with
    job = core.reembed_job(w.session.path, "facenet-vggface2")
    w.runner.finished.emit(job, ReembedSummary(1, "facenet-vggface2", switched=True))
    assert w.session.people.model_id == "facenet-vggface2"
