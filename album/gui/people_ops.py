"""The main window's people operations (quick SQL, run on the GUI thread): run one, undo
the last, and tell the user what happened: done in the status bar, a refusal there too, any
other error in a message box, in words."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

log = logging.getLogger(__name__)

# op(fn) runs ``fn(people_service)`` for the user, shows errors, refreshes the views: the
# window's ``PeopleOps.op``, handed to the pages and dialogs that change people.
Op = Callable[[Callable[[Any], Any], str], Any]


def _in_words(exc: BaseException) -> str:
    """An error for the user: what happened, without Python's class names where possible."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
        return (
            "The catalog is busy: another program is writing to it. Nothing was changed; "
            f"try again in a moment. ({exc})"
        )
    if isinstance(exc, sqlite3.Error):
        return f"The catalog could not be changed: {exc}. Nothing was changed."
    return f"{exc} ({type(exc).__name__})" if str(exc) else type(exc).__name__


class PeopleOps:
    """The window's people operations, mixed into ``MainWindow``: it provides ``ready`` (the
    core is loaded), ``session`` and ``refresh``."""

    def op(self, fn: Callable[[Any], Any], done: str) -> Any:
        """Run a people operation now (they are quick SQL), show what happened or why not,
        refresh. Returns its result, or ``False`` when it was refused or failed (test with
        ``is False``: some operations return None or 0)."""
        if not self.ready:  # the people service loads with the core: never on this thread
            self.show_message("Still loading the face engine: try again in a moment", error=True)
            return False
        ok, result = self._guard(lambda: fn(self.session.people), "The change was not made")
        if not ok:
            return False
        self.show_message(f"{done}. Ctrl+Z to undo.")
        self.refresh()
        return result

    def undo(self) -> None:
        if not self.ready:
            return
        ok, entry = self._guard(self.session.people.undo, "Undo failed")
        if ok:
            self.show_message(f"Undone: {entry.summary}" if entry else "Nothing to undo")
        self.refresh()

    def _guard(self, fn: Callable[[], Any], title: str) -> tuple[bool, Any]:
        """Run ``fn``; a refusal (PeopleError) goes to the status bar, any other error to a
        message box titled ``title``, in words, with the traceback logged and under
        "details"."""
        from album.people.errors import PeopleError

        try:
            return True, fn()
        except PeopleError as exc:
            self.show_message(str(exc), error=True)
        except Exception as exc:
            details = traceback.format_exc()
            log.error("%s: %s\n%s", title, exc, details)
            # A failed write rolled back; re-read so the views show what is really stored.
            with contextlib.suppress(Exception):
                self.refresh()
            self.show_error(title, _in_words(exc), details)
        return False, None

    def show_error(self, title: str, text: str, details: str = "") -> None:
        """A non-blocking warning box (and the text in the status bar)."""
        self.show_message(f"{title}: {text}", error=True)
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.error_box = box

    def show_message(self, text: str, error: bool = False) -> None:
        self.statusBar().showMessage(("⚠ " if error else "") + text, 8000)
        if error:
            log.info("refused: %s", text)
