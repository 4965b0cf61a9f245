"""The library: every photo by month, newest first, filtered by people ("photos with Ada and
Bo together", or any of them). The query is the core's ``album.people.photos.photos_with``
(as ``album photos --person A --person B [--any]``), read off the GUI thread."""

from __future__ import annotations

import logging
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.grids import FlowingGrid
from album.gui.models import PhotoDelegate, PhotoIdRole, PhotoRow, PhotosModel
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import icon
from album.people.overview import PersonOverview

log = logging.getLogger(__name__)


def read_photos(catalog_path: Path, person_ids: list[int], any_: bool = False) -> list[PhotoRow]:
    """The photos with all (``any_``: any) of these people, newest first; run in a worker
    thread, with its own catalog connection (they are per thread)."""
    from album.catalog import Catalog
    from album.people.photos import photos_with

    with Catalog(catalog_path) as cat:
        return photos_with(cat, person_ids, any_=any_)


class PhotoQuery(QObject):
    """Runs ``read_photos`` in a worker thread (0.2-0.3 s for 10,000 photos: too long for the
    GUI thread); ``ready(rows)`` brings only the newest request's answer."""

    ready = Signal(list)

    def __init__(self, catalog_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog_path = catalog_path
        self._request = 0
        self._workers: set = set()

    def run(self, person_ids: list[int], any_: bool = False) -> None:
        from superqt.utils import create_worker

        self._request += 1
        request = self._request
        worker = create_worker(
            read_photos,
            self.catalog_path,
            list(person_ids),
            any_,
            _start_thread=False,
            _ignore_errors=True,
        )
        worker.returned.connect(lambda rows: self._done(request, rows))
        worker.errored.connect(lambda exc: log.warning("reading the photos failed: %s", exc))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)  # referenced until it ends
        worker.start()

    def _done(self, request: int, rows: list[PhotoRow]) -> None:
        # The window may have closed while the worker read.
        if shiboken6.isValid(self) and request == self._request:
            self.ready.emit(rows)


def photo_grid(model: PhotosModel, name: str) -> QListView:
    """A grid of photo tiles under full-width month headings."""
    view = FlowingGrid(2, name)
    view.setModel(model)
    view.setItemDelegate(PhotoDelegate(model.size, view, view))
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return view


class LibraryPage(QWidget):
    """Every photo, newest first under month headings; "With:" narrows it to the photos
    showing all (or any) of the people picked."""

    open_photo = Signal(int, list)  # the photo, within the photos shown
    loaded = Signal()  # the grid has the rows of the current filter

    def __init__(
        self, catalog_path: Path, thumbs: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.people: list[int] = []  # the filter, in the order picked
        self._labels: dict[int, str] = {}
        self._by_name: dict[str, int] = {}
        self.query = PhotoQuery(catalog_path, self)
        self.query.ready.connect(self._ready)
        self.model = PhotosModel(thumbs)

        title = QLabel("Photos")
        title.setObjectName("pageTitle")
        self.counts = QLabel()
        self.counts.setObjectName("dim")
        self.add = QLineEdit()
        self.add.setObjectName("search")
        self.add.setPlaceholderText("Photos with…  (type a name)")
        self.add.setClearButtonEnabled(True)
        self.add.addAction(icon("people"), QLineEdit.ActionPosition.LeadingPosition)
        self.completer = QCompleter([], self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add.setCompleter(self.completer)
        self.add.returnPressed.connect(self._add_typed)
        self.completer.activated.connect(self._add_name)
        self.mode = QComboBox()
        self.mode.addItem("all of them, together", False)
        self.mode.addItem("any of them", True)
        self.mode.setToolTip("Photos showing every person picked, or any one of them")
        self.mode.currentIndexChanged.connect(lambda *_: self.reload())
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        self.clear_button = QToolButton()
        self.clear_button.setText("Everyone")
        self.clear_button.setToolTip("Show every photo again")
        self.clear_button.clicked.connect(lambda: self.set_people([]))

        self.view = photo_grid(self.model, "libraryGrid")
        self.view.activated.connect(self._activated)
        self.empty = QLabel()
        self.empty.setObjectName("emptyText")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.counts)
        head.addStretch(1)
        head.addWidget(self.add, 1)
        filters = QHBoxLayout()
        self.with_label = QLabel("With:")
        filters.addWidget(self.with_label)
        filters.addLayout(self.chips)
        filters.addWidget(self.mode)
        filters.addWidget(self.clear_button)
        filters.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(filters)
        lay.addLayout(self.stack, 1)
        self.setFocusProxy(self.view)
        self._show_filter()

    # --- the people to pick from and the filter ---------------------------------------------

    def set_choices(self, people: list[PersonOverview]) -> None:
        """The people the filter can name (named people by name; any id from the grid)."""
        self._labels = {p.id: p.name or f"Unnamed #{p.id}" for p in people}
        self._by_name = {p.name.casefold(): p.id for p in people if p.name}
        names = sorted((p.name for p in people if p.name), key=str.casefold)
        self.completer.setModel(QStringListModel(names, self.completer))

    def set_people(self, person_ids: list[int], any_: bool | None = None) -> None:
        """Show the photos with these people (none: every photo)."""
        self.people = list(dict.fromkeys(person_ids))
        if any_ is not None:
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(1 if any_ else 0)
            self.mode.blockSignals(False)
        self._show_filter()
        self.reload()

    def any_of_them(self) -> bool:
        return bool(self.mode.currentData())

    def reload(self) -> None:
        self.query.run(self.people, self.any_of_them())

    def _add_typed(self) -> None:
        self._add_name(self.add.text())

    def _add_name(self, text: str) -> None:
        pid = self._by_name.get(text.strip().casefold())
        if pid is None:
            if text.strip():
                self.counts.setText(f"No one is named “{text.strip()}”")
            return
        self.add.clear()
        if pid not in self.people:
            self.set_people([*self.people, pid])

    def _remove(self, pid: int) -> None:
        self.set_people([p for p in self.people if p != pid])

    def _show_filter(self) -> None:
        while self.chips.count():
            item = self.chips.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for pid in self.people:
            chip = QToolButton()
            chip.setObjectName("chip")
            chip.setText(f"{self._labels.get(pid, f'#{pid}')}  ✕")
            chip.setToolTip("Remove from the filter")
            chip.clicked.connect(lambda _=False, p=pid: self._remove(p))
            self.chips.addWidget(chip)
        picked = bool(self.people)
        self.with_label.setVisible(picked)
        self.clear_button.setVisible(picked)
        self.mode.setVisible(len(self.people) > 1)

    def describe(self) -> str:
        """The filter in words: 'Ada and Bo together', 'Ada or Bo', 'everyone'."""
        names = [self._labels.get(p, f"#{p}") for p in self.people]
        if not names:
            return "everyone"
        if len(names) == 1:
            return names[0]
        joined = ", ".join(names[:-1]) + (" or " if self.any_of_them() else " and ") + names[-1]
        return joined if self.any_of_them() else joined + " together"

    # --- the photos --------------------------------------------------------------------------

    def _ready(self, rows: list[PhotoRow]) -> None:
        self.model.set_photos(rows)
        n = len(rows)
        self.counts.setText(
            f"{n} photo{'s' if n != 1 else ''}"
            + ("" if not self.people else f" with {self.describe()}")
        )
        if rows:
            self.stack.setCurrentWidget(self.view)
        else:
            self.empty.setText(
                f"No photos with {self.describe()} yet."
                if self.people
                else "No photos yet: add a photo folder to get started."
            )
            self.stack.setCurrentWidget(self.empty)
        self.loaded.emit()

    def _activated(self, index) -> None:
        photo_id = index.data(PhotoIdRole)
        if photo_id is not None:
            self.open_photo.emit(int(photo_id), self.model.photo_ids())
