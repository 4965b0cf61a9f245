"""The main window: People, a person's page and Review in one stack; a task bar for the
running job (progress, ETA, pause, cancel); Ctrl+Z undoes the last people operation."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QStackedWidget, QToolBar, QWidget

from album.gui import core
from album.gui.hidden_people import HiddenPeopleDialog
from album.gui.jobs import JobError, JobProgress, JobRunner
from album.gui.library import LibraryPage
from album.gui.people_ops import PeopleOps
from album.gui.people_page import PeoplePage
from album.gui.person_page import PersonPage
from album.gui.review_page import ReviewPage
from album.gui.task_bar import TaskBar
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import icon
from album.gui.window_jobs import WindowJobs
from album.gui.window_threads import CoreLoader, read_people_behind_window
from album.people.overview import PersonOverview

log = logging.getLogger(__name__)


class MainWindow(PeopleOps, WindowJobs, QMainWindow):
    """The application window over one catalog (its people operations in ``PeopleOps``,
    its jobs in ``WindowJobs``)."""

    core_ready = Signal()
    refreshed = Signal()

    def __init__(
        self,
        catalog_path: str | os.PathLike[str] | None = None,
        settings: QSettings | None = None,
        thumbs_root: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Album — People")
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings("album", "album")
        self.session = core.Session(catalog_path)
        self.thumbs = ThumbnailCache(self.session.path, thumbs_root, parent=self)
        self.runner = JobRunner(self)
        self._loader = CoreLoader(self)  # loads the core (torch) off the GUI thread
        self.ready = False
        self.last_folders: list[str] = []
        self.last_result: Any = None
        self.last_error: JobError | None = None
        self.pair_dialog = None
        self.viewer = None
        self.hidden_dialog: HiddenPeopleDialog | None = None
        self.split_dialog = None  # the "Split…" dialog, while open
        self._pending_person: int | None = None  # opened before the core was loaded
        self.model_offer: QMessageBox | None = None  # the switch offered once (see below)
        self._workers: set = set()
        self._shown_people: dict[int, PersonOverview] = {}  # the last overview, by id

        self.people_page = PeoplePage(self.thumbs)
        self.person_page = PersonPage(self.session, self.thumbs, self.op)
        self.review_page = ReviewPage(self.session, self.thumbs, self.op)
        self.library_page = LibraryPage(self.session.path, self.thumbs)
        self.stack = QStackedWidget()
        for page in (self.people_page, self.person_page, self.review_page, self.library_page):
            self.stack.addWidget(page)
        self.library_page.open_photo.connect(self.open_photo)
        self.setCentralWidget(self.stack)
        self.people_page.person_activated.connect(self.open_person)
        self.people_page.choose_folder.connect(self.add_folder)
        self.people_page.set_sort(str(self.settings.value("people/sort", "photos")))
        self.people_page.sort_changed.connect(
            lambda key: self.settings.setValue("people/sort", key)
        )
        self.people_page.hide_requested.connect(self.hide_people)
        self.people_page.hidden_requested.connect(self.show_hidden_people)
        self.people_page.photos_requested.connect(self.show_library)
        self.people_page.split_requested.connect(self.open_split)
        self.person_page.split_requested.connect(self.open_split)
        self.person_page.back.connect(self.show_people)
        self.person_page.open_face.connect(self.open_face_photo)
        self.person_page.open_photo.connect(self.open_photo)
        self.person_page.compare.connect(self.compare_faces)
        self.review_page.load_requested.connect(self.load_review)

        self.taskbar = TaskBar(self.runner)
        self.statusBar().addPermanentWidget(self.taskbar, 1)
        self.runner.finished.connect(self._job_finished)
        self.runner.failed.connect(self._job_failed)
        self.runner.busy_changed.connect(self._busy_changed)
        self.runner.progress.connect(self._job_progress)
        self._make_actions()
        self._restore_state()
        self._loader.loaded.connect(self._core_loaded)
        self._loader.failed.connect(self._job_failed)
        self._load_started = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._load_started:  # load the core after the first paint, off the GUI thread
            self._load_started = True
            # The first screen needs no engine: people (or the welcome) from plain SQL, and
            # thumbnails (PIL) right away, so the user can act before torch has loaded.
            self.refresh()
            self.thumbs.start()
            QTimer.singleShot(50, self._loader.start)

    # --- actions ----------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        icon_name: str,
        shortcut: str | QKeySequence | None,
        slot: Callable[[], Any],
        tip: str = "",
    ) -> QAction:
        a = QAction(icon(icon_name), text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setToolTip(f"{tip or text} ({a.shortcut().toString()})" if shortcut else tip or text)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        self.a_people = self._action("People", "people", "Ctrl+1", self.show_people)
        self.a_photos = self._action(
            "Photos", "photos", "Ctrl+3", self.show_library, "Every photo by month, by people"
        )
        self.a_review = self._action(
            "Review", "review", "Ctrl+2", self.show_review, "Confirm or reject suggestions"
        )
        self.a_pair = self._action(
            "Same person?",
            "pair",
            "Ctrl+P",
            self.ask_pairs,
            "Answer the most useful same-person questions",
        )
        self.a_add = self._action(
            "Add folder…", "folder", QKeySequence.StandardKey.Open, self.add_folder
        )
        self.a_scan = self._action("Scan", "scan", "F5", self.scan, "Scan the photo folders")
        self.a_group = self._action(
            "Regroup", "refresh", "Ctrl+R", self.recluster, "Group faces into people again"
        )
        self.a_export = self._action("Export…", "export", "Ctrl+E", self.export)
        self.a_settings = self._action(
            "Settings", "settings", QKeySequence.StandardKey.Preferences, self.open_settings
        )
        self.a_undo = self._action("Undo", "undo", QKeySequence.StandardKey.Undo, self.undo)
        self.a_find = self._action(
            "Find", "search", QKeySequence.StandardKey.Find, self._focus_search
        )
        if self.a_settings.shortcut().isEmpty():
            self.a_settings.setShortcut(QKeySequence("Ctrl+,"))
        tb = QToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (self.a_people, self.a_photos, self.a_review, self.a_pair):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.a_add, self.a_scan, self.a_group, self.a_export):
            tb.addAction(a)
        spacer = QWidget()
        spacer.setObjectName("spacer")
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        tb.addWidget(spacer)
        tb.addAction(self.a_undo)
        tb.addAction(self.a_settings)
        self.addToolBar(tb)
        # Actions that need the core (torch, the people service): enabled once it is loaded.
        self._core_actions = (
            self.a_review,
            self.a_pair,
            self.a_group,
            self.a_export,
            self.a_undo,
            self.a_settings,
        )
        for a in self._core_actions:
            a.setEnabled(False)

    def _focus_search(self) -> None:
        self.show_people()
        self.people_page.search.setFocus()
        self.people_page.search.selectAll()

    # --- state --------------------------------------------------------------------------------

    def _restore_state(self) -> None:
        geo = self.settings.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1280, 800)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        if self.runner.busy:
            self.runner.cancel()
        self.thumbs.close()
        super().closeEvent(event)

    def wait_for_engine(self, timeout: float = 30.0) -> bool:
        """At exit: let the engine's loading (started with the window) end first."""
        return self._loader.wait(timeout)

    def _core_loaded(self) -> None:
        self.ready = True
        for a in self._core_actions:
            a.setEnabled(True)
        self._busy_changed(self.runner.busy)
        self.refresh()
        self.core_ready.emit()
        if self._pending_person is not None:
            pid, self._pending_person = self._pending_person, None
            self.open_person(pid)
        QTimer.singleShot(0, self.offer_default_model)

    # --- refreshing ---------------------------------------------------------------------------

    def _job_progress(self, p: JobProgress) -> None:
        if p.event != "people":
            return
        # A scan grouped the faces so far: show the people now, read in a worker thread (the
        # query takes 50-150 ms on 10,000 photos, a stall the scan's window must not have).
        from superqt.utils import create_worker

        worker = create_worker(
            read_people_behind_window, self.session.path, _start_thread=False, _ignore_errors=True
        )
        worker.returned.connect(self._live_people)
        worker.errored.connect(lambda exc: log.warning("reading the people failed: %s", exc))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)  # referenced until it ends
        worker.start()

    def _live_people(self, everyone: list[PersonOverview]) -> None:
        if shiboken6.isValid(self):  # the window may have closed while the worker read
            self.refresh_people(everyone, covers="changed")

    def refresh_people(
        self, everyone: list[PersonOverview] | None = None, covers: str = "all"
    ) -> list[PersonOverview]:
        """Show ``everyone`` (hidden included; default: read now, plain SQL, possible before
        the core has loaded) in the People grid and the library's choices; returns them.

        ``covers``: reload every cover ('all': after the user's changes, which may set one)
        or those of people whose faces changed ('changed': a regrouping during a scan; the
        scan's end reloads them all). They reload behind the old ones, without a flash."""
        from album.people.overview import people_overview

        if everyone is None:
            everyone = people_overview(self.session.catalog, include_hidden=True)
        rows = [r for r in everyone if not r.hidden]
        before = self._shown_people
        self._shown_people = {r.id: r for r in everyone}
        if covers == "changed":
            # Each cover reloaded is work for the loader thread and a repaint here.
            ids = {r.id for r in everyone if before.get(r.id) != r}
            self.thumbs.invalidate("person", keep_stale=True, ids=ids)
        else:
            self.thumbs.invalidate("person", keep_stale=True)
        self.people_page.set_people(rows, hidden=len(everyone) - len(rows))
        self.library_page.set_choices(everyone)
        if rows:
            self.people_page.set_empty(None)
        return everyone

    def refresh(self) -> None:
        """Re-read people (and the open person) from the catalog. The People grid needs no
        engine, so this also runs before the core has loaded."""
        self.session.sync_model()  # after a re-embed: people on the new model's embeddings
        everyone = self.refresh_people()
        rows = [r for r in everyone if not r.hidden]
        if self.stack.currentWidget() is self.library_page:
            self.library_page.reload()
        if self.hidden_dialog is not None and self.hidden_dialog.isVisible():
            self.hidden_dialog.set_people([r for r in everyone if r.hidden])
        counts = self.session.catalog.counts()
        if rows:
            self.people_page.set_empty(None)
        elif counts.photos == 0 and not self.runner.busy:
            self.people_page.set_empty(
                "Welcome! Choose the folder where your photos are.\n"
                "Album finds the faces in them and groups them by person."
            )
        elif self.runner.busy:
            self.people_page.set_empty(
                "Looking for faces… people appear here as they are found.", show_button=False
            )
        else:
            self.people_page.set_empty(
                f"No people yet: {counts.faces} faces in {counts.photos} photos.\n"
                "Use Regroup (Ctrl+R) to group them.",
                show_button=False,
            )
        if self.ready and self.stack.currentWidget() is self.person_page:
            try:
                self.person_page.reload()
            except Exception:
                self.show_people()
        if not self.runner.busy:
            self.statusBar().showMessage(
                f"{counts.photos_done} photos · {counts.faces} faces · {len(rows)} people"
            )
        self.refreshed.emit()

    # --- navigation ---------------------------------------------------------------------------

    def show_people(self) -> None:
        self.stack.setCurrentWidget(self.people_page)
        self.people_page.view.setFocus()

    def open_person(self, person_id: int) -> None:
        if not self.ready:  # opened as soon as the core is loaded
            self._pending_person = person_id
            self.show_message("Opening as soon as the face engine has loaded…")
            return
        self.stack.setCurrentWidget(self.person_page)
        self.person_page.show_person(person_id)

    def hide_people(self, person_ids: list[int]) -> None:
        """Hide people from the People grid (kept in the catalog: scans and regrouping leave
        the choice alone; "Hidden people" shows them again)."""
        n = len(person_ids)
        what = "1 person" if n == 1 else f"{n} people"
        self.op(
            lambda s: [s.hide(pid) for pid in person_ids],
            f"Hid {what}; “Hidden people” shows them again",
        )

    def open_split(self, person_id: int) -> None:
        """The "Split…" dialog for a person who is really two or more people."""
        from album.gui.split_dialog import SplitDialog

        if not self.ready:
            self.show_message("Still loading the face engine: try again in a moment", error=True)
            return
        if self.split_dialog is not None:
            self.split_dialog.close()
        self.split_dialog = SplitDialog(self.session, self.thumbs, self.op, person_id, self)
        self.split_dialog.show()

    def show_hidden_people(self) -> None:
        from album.people.overview import people_overview

        if self.hidden_dialog is None:
            self.hidden_dialog = HiddenPeopleDialog(self.thumbs, self)
            self.hidden_dialog.unhide.connect(self.unhide_people)
            self.hidden_dialog.open_person.connect(
                lambda pid: (self.hidden_dialog.accept(), self.open_person(pid))
            )
        everyone = people_overview(self.session.catalog, include_hidden=True)
        self.hidden_dialog.set_people([r for r in everyone if r.hidden])
        self.hidden_dialog.show()
        self.hidden_dialog.raise_()

    def unhide_people(self, person_ids: list[int]) -> None:
        n = len(person_ids)
        self.op(
            lambda s: [s.hide(pid, False) for pid in person_ids],
            f"{'1 person is' if n == 1 else f'{n} people are'} back in People",
        )

    def show_library(self, person_ids: list[int] | None = None) -> None:
        """Every photo by month; with ``person_ids``, the photos showing all of them."""
        self.stack.setCurrentWidget(self.library_page)
        if person_ids:
            self.library_page.set_people(person_ids, any_=False, without=[])
        else:
            self.library_page.reload()
        self.library_page.view.setFocus()

    def show_review(self) -> None:
        self.stack.setCurrentWidget(self.review_page)
        self.load_review()

    def load_review(self) -> None:
        if self.ready:
            self.start_job(core.review_job(self.session.path), on_done=self._review_loaded)

    def _review_loaded(self, items) -> None:
        self.review_page.set_items(items)
        self.review_page.card.setFocus()

    def open_face_photo(self, face_id: int) -> None:
        photo = self.session.photo_of_face(face_id)
        if photo is not None:
            self.open_photo(photo.id)

    def open_photo(self, photo_id: int, photo_ids: list[int] | None = None) -> None:
        """Show the photo; next / previous go through ``photo_ids`` (the list it was opened
        from) when given."""
        from album.gui.viewer import PhotoViewer

        if self.viewer is None:
            self.viewer = PhotoViewer(self.session, self.thumbs, self)
            self.viewer.person_requested.connect(self.open_person)
            self.viewer.face_marked.connect(self.mark_face)
        if photo_ids and photo_id in photo_ids:
            self.viewer.show_photos(photo_ids, photo_ids.index(photo_id))
        else:
            self.viewer.show_photos([photo_id])
        self.viewer.show()
        self.viewer.raise_()

    def mark_face(self, photo_id: int, box: tuple, name: str) -> bool:
        """A face the scan missed, drawn by hand on photo ``photo_id``: measured in a job
        (the models load there), then stored and confirmed as ``name`` (undoable)."""
        if not self.ready:
            return False
        device = str(self.settings.value("device", "auto"))

        def store(face) -> None:
            if isinstance(face, str):
                problem: str | None = face
                self.show_message(face, error=True)
            else:
                done = self.op(lambda s: s.add_face(face, name), f"Marked a face as {name}")
                problem = None if done is not False else "The face could not be added."
            if self.viewer is not None and self.viewer.photo is not None:
                self.viewer.note.setText(problem or f"Marked a face as {name} · Ctrl+Z to undo")
                self.viewer.show_photo(self.viewer.photo.id)

        return self.start_job(
            core.manual_face_job(self.session.path, photo_id, box, device), on_done=store
        )

    # --- "same person?" -----------------------------------------------------------------------

    def _pair_dialog(self):
        from album.gui.dialogs import PairDialog

        if self.pair_dialog is None:
            self.pair_dialog = PairDialog(self.session, self.thumbs, self.op, self)
            self.pair_dialog.finished.connect(self._pairs_done)
        self.pair_dialog.answers = 0
        return self.pair_dialog

    def ask_pairs(self) -> None:
        if self.ready:
            self.start_job(
                core.questions_job(self.session.path),
                on_done=lambda qs: self._show_pairs(qs.pairs, qs.batches),
            )

    def _show_pairs(self, questions, batches=()) -> None:
        d = self._pair_dialog()
        d.set_questions(questions, batches)
        d.show()
        d.raise_()
        d.activateWindow()

    def compare_faces(self, a: int, b: int) -> None:
        v = self.session.people.verify(a, b)
        self._show_pairs([core.PairQuestion(a, b, v.distance, v.probability, "faces you selected")])

    def _pairs_done(self, *args) -> None:
        if self.pair_dialog is not None and self.pair_dialog.answers:
            self.recluster()
