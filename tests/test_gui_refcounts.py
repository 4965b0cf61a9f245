"""The installed PySide6 keeps its references: 6.12.0 (excluded in pyproject.toml) loses one
to True on every signal emitted from Python 3.11, and one to None on every model change, until
the interpreter aborts; a long scan emits hundreds of thousands."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys

import pytest

pytest.importorskip("PySide6.QtCore")

pytestmark = pytest.mark.gui


def test_signals_and_model_changes_keep_their_references() -> None:
    from PySide6.QtCore import QModelIndex, QObject, QStringListModel, Signal

    class Emitter(QObject):
        signal = Signal(object)

    e, model, got = Emitter(), QStringListModel(), []
    e.signal.connect(got.append)
    # Few enough to never abort: the loss shows in the counts.
    before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(64):
        e.signal.emit(i)
        model.beginInsertRows(QModelIndex(), 0, 0)
        model.endInsertRows()
    after = sys.getrefcount(True), sys.getrefcount(None)
    lost = [b - a for a, b in zip(after, before, strict=True)]
    assert max(lost) < 32, f"this PySide6 loses references to True/None: {lost} per 64 calls"
    for i in range(20_000):  # more than True has references in a bare interpreter
        e.signal.emit(i)
        model.beginInsertRows(QModelIndex(), 0, 0)
        model.endInsertRows()
    assert len(got) == 20_064
