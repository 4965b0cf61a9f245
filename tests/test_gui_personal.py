"""The app's "Improve recognition from my labels" when it pays off: the message in words, then
"Re-group with it" switches the catalog to the new model and re-groups (a job)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")
pytest.importorskip("superqt")

from personal_album import confirm, embeddings, make_catalog
from PySide6.QtCore import QSettings

pytestmark = pytest.mark.gui

JOB_TIMEOUT = 90_000  # ms; the first job imports torch


def _settings_open(qtbot, tmp_path: Path, x, labels, confirmed: int):
    """The app on a catalog of these embeddings, ``confirmed`` faces a person confirmed, with
    its Settings dialog open."""
    from album.gui.app import make_app
    from album.gui.main_window import MainWindow

    path, ids = make_catalog(tmp_path / "album", x)
    confirm(path, ids, labels, confirmed)
    make_app()
    w = MainWindow(path, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.ready, timeout=JOB_TIMEOUT)
    w.a_settings.trigger()
    return w


def test_improve_recognition_message_and_regroup(qtbot, tmp_path: Path) -> None:
    x, labels = embeddings(5, 6, 0.8)  # a family the base model confuses (tests/personal_album)
    w = _settings_open(qtbot, tmp_path, x, labels, 6)
    with qtbot.waitSignal(w.runner.finished, timeout=JOB_TIMEOUT) as sig:
        w.settings_dialog.train.click()
    result = sig.args[1]
    assert result.kept
    box = w.training_box
    h = result.held_out
    text = box.text()
    assert (
        box.isVisible() and f"Recognises your 5 people correctly in {100 * h.id_after:.0f}%" in text
    )
    assert f"up from {100 * h.id_before:.0f}%" in text
    regroup = next(b for b in box.buttons() if b.text() == "Re-group with it")
    with qtbot.waitSignal(w.runner.finished, timeout=JOB_TIMEOUT) as sig:
        regroup.click()
    from album.gui.jobs import JobKind

    assert sig.args[0].kind is JobKind.ADOPT and sig.args[1].faces == 30  # re-grouped, all faces
    assert w.session.catalog.model == result.name
    w.close()


def test_improve_recognition_says_in_words_what_is_missing(qtbot, tmp_path: Path) -> None:
    x, labels = embeddings(2, 3, 0.8)
    # One confirmed face each: nothing to learn from yet.
    w = _settings_open(qtbot, tmp_path, x, labels, 1)
    with qtbot.waitSignal(w.runner.failed, timeout=JOB_TIMEOUT):
        w.settings_dialog.train.click()
    assert "Confirm at least two faces each of at least two people" in w.error_box.text()
    assert "--batch-p" not in w.error_box.text()
    w.close()
