"""The library: every photo by month, newest first, filtered by people ("photos with Ada and
Bo together", any of them, only them, without Cy). The query is the core's
``album.people.photos.photos_with`` (as ``album photos --person A --person B [--any | --only]
[--without C]``), read off the GUI thread."""

from __future__ import annotations

from pathlib import Path

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
from album.gui.photos_model import PhotoDelegate, PhotoRow, PhotosModel
from album.gui.queries import NewestQuery
from album.gui.roles import PhotoIdRole
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import icon
from album.people.overview import PersonOverview


def read_photos(
    catalog_path: Path, person_ids: list[int], mode: str = "all", without: list[int] | None = None
) -> list[PhotoRow]:
    """The photos with these people (``mode``: "all" of them, "any" of them, "only" them),
    none of ``without``, newest first; run in a worker thread, with its own catalog
    connection (they are per thread)."""
    from album.catalog import Catalog
    from album.people.photos import photos_with

    only = mode == "only" and bool(person_ids)
    with Catalog(catalog_path) as cat:
        return photos_with(cat, person_ids, any_=mode == "any", only=only, without=without or [])


class PhotoQuery(NewestQuery):
    """``read_photos`` off the GUI thread (0.2-0.3 s for 10,000 photos: too long for the GUI
    thread); ``ready(rows)`` brings only the newest request's answer."""

    def __init__(self, catalog_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog_path = catalog_path

    def run(
        self, person_ids: list[int], mode: str = "all", without: list[int] | None = None
    ) -> None:
        self.submit(read_photos, self.catalog_path, list(person_ids), mode, list(without or []))


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
        self.without: list[int] = []  # people whose photos are left out
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
        self.add.setPlaceholderText("Photos with…  (type a name; -name leaves them out)")
        self.add.setClearButtonEnabled(True)
        self.add.addAction(icon("people"), QLineEdit.ActionPosition.LeadingPosition)
        self.completer = QCompleter([], self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add.setCompleter(self.completer)
        self.add.returnPressed.connect(self._add_typed)
        self.completer.activated.connect(self._add_name)
        self.mode = QComboBox()
        self.mode.addItem("all of them, together", "all")
        self.mode.addItem("any of them", "any")
        self.mode.addItem("only them, nobody else", "only")
        self.mode.setToolTip(
            "Photos showing every person picked, any one of them, or them and no one else "
            "named or grouped"
        )
        self.mode.currentIndexChanged.connect(lambda *_: self.reload())
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        self.clear_button = QToolButton()
        self.clear_button.setText("Everyone")
        self.clear_button.setToolTip("Show every photo again")
        self.clear_button.clicked.connect(lambda: self.set_people([], without=[]))

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

    def set_people(
        self, person_ids: list[int], any_: bool | None = None, without: list[int] | None = None
    ) -> None:
        """Show the photos with these people (none: every photo), without those in
        ``without`` (None: as before)."""
        self.people = list(dict.fromkeys(person_ids))
        if without is not None:
            self.without = list(dict.fromkeys(without))
        self.without = [p for p in self.without if p not in self.people]
        if any_ is not None:
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(self.mode.findData("any" if any_ else "all"))
            self.mode.blockSignals(False)
        self._show_filter()
        self.reload()

    def any_of_them(self) -> bool:
        return self.mode.currentData() == "any"

    def only_them(self) -> bool:
        return self.mode.currentData() == "only" and bool(self.people)

    def reload(self) -> None:
        self.query.run(self.people, str(self.mode.currentData()), self.without)

    def _add_typed(self) -> None:
        self._add_name(self.add.text())

    def _add_name(self, text: str) -> None:
        name = text.strip()
        leave_out = name.startswith("-")
        name = name.removeprefix("-").strip()
        pid = self._by_name.get(name.casefold())
        if pid is None:
            if name:
                self.counts.setText(f"No one is named “{name}”")
            return
        self.add.clear()
        if leave_out:
            if pid not in self.without:
                people = [p for p in self.people if p != pid]
                self.set_people(people, without=[*self.without, pid])
        elif pid not in self.people:
            self.set_people([*self.people, pid])

    def _remove(self, pid: int) -> None:
        self.set_people(
            [p for p in self.people if p != pid], without=[p for p in self.without if p != pid]
        )

    def _show_filter(self) -> None:
        while self.chips.count():
            item = self.chips.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        chips = [(pid, "") for pid in self.people] + [(pid, "not ") for pid in self.without]
        for pid, prefix in chips:
            chip = QToolButton()
            chip.setObjectName("chip")
            chip.setText(f"{prefix}{self._labels.get(pid, f'#{pid}')}  ✕")
            chip.setToolTip("Remove from the filter")
            chip.clicked.connect(lambda _=False, p=pid: self._remove(p))
            self.chips.addWidget(chip)
        picked = bool(self.people or self.without)
        self.with_label.setVisible(picked)
        self.with_label.setText("With:" if self.people else "Without:")
        self.clear_button.setVisible(picked)
        # One person: "only them" still narrows (photos of them alone); two: all, any, only.
        self.mode.setVisible(bool(self.people))

    def describe(self) -> str:
        """The filter in words, as it follows "photos": 'with Ada and Bo together', 'with Ada
        or Bo', 'with only Ada and Bo', 'with Ada, without Cy', 'without Cy'; '' for every
        photo."""
        label = [self._labels.get(p, f"#{p}") for p in self.people]
        out = []
        if label:
            joined = ", ".join(label[:-1]) + (" or " if self.any_of_them() else " and ")
            joined = joined + label[-1] if len(label) > 1 else label[0]
            if self.only_them():
                out.append(f"with only {joined}")
            elif len(label) > 1 and not self.any_of_them():
                out.append(f"with {joined} together")
            else:
                out.append(f"with {joined}")
        if self.without:
            out.append("without " + " or ".join(self._labels.get(p, f"#{p}") for p in self.without))
        return ", ".join(out)

    # --- the photos --------------------------------------------------------------------------

    def _ready(self, rows: list[PhotoRow]) -> None:
        self.model.set_photos(rows)
        n = len(rows)
        described = self.describe()
        self.counts.setText(
            f"{n} photo{'s' if n != 1 else ''}" + (f" {described}" if described else "")
        )
        if rows:
            self.stack.setCurrentWidget(self.view)
        else:
            self.empty.setText(
                f"No photos {described} yet."
                if described
                else "No photos yet: add a photo folder to get started."
            )
            self.stack.setCurrentWidget(self.empty)
        self.loaded.emit()

    def _activated(self, index) -> None:
        photo_id = index.data(PhotoIdRole)
        if photo_id is not None:
            self.open_photo.emit(int(photo_id), self.model.photo_ids())
