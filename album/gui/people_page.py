"""The People grid page: everyone as round faces with names and photo counts, searched by
name, sorted, with the few-photo people folded under "More people"; hiding and splitting
people start here."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.grids import FlowingGrid
from album.gui.people_model import PeopleFilter, PeopleModel, PersonDelegate
from album.gui.roles import PersonIdRole, SectionRole
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import icon
from album.people.overview import PersonOverview


class PeoplePage(QWidget):
    """Everyone, as round faces with names and photo counts: search by name, sort, people
    seen in few photos folded under "More people", hide people and show the hidden ones."""

    person_activated = Signal(int)
    choose_folder = Signal()
    sort_changed = Signal(str)
    hide_requested = Signal(list)  # person ids
    hidden_requested = Signal()  # show the list of hidden people
    photos_requested = Signal(list)  # person ids: show the photos with all of them
    split_requested = Signal(int)  # a person who is really two or more people

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PeopleModel(thumbs)
        self.filter = PeopleFilter(self)
        self.filter.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search people by name  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.title = QLabel("People")
        self.title.setObjectName("pageTitle")
        self.counts = QLabel()
        self.counts.setObjectName("dim")
        self.sort = QComboBox()
        self.sort.setObjectName("sortPeople")
        for text, key in (("Most photos", "photos"), ("Name", "name"), ("Recent photos", "recent")):
            self.sort.addItem(text, key)
        self.sort.setToolTip("Order of the people")
        self.sort.currentIndexChanged.connect(self._sort_changed)
        self.hidden_button = QToolButton()
        self.hidden_button.setText("Hidden people")
        self.hidden_button.setToolTip("The people you hid, to show them again")
        self.hidden_button.clicked.connect(self.hidden_requested)
        # The "More people" row is as wide as the view: a flowing list with per-item sizes.
        self.view = FlowingGrid(4, "peopleGrid")
        self.view.setModel(self.filter)
        self.view.setItemDelegate(PersonDelegate(self.model.size, self.view, self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.activated.connect(self._activated)
        self.view.clicked.connect(self._clicked)
        self.view.doubleClicked.connect(self._double_clicked)
        self._section_clicked = 0.0
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.hide_action = QAction("Hide from People  (H)", self.view)
        self.hide_action.triggered.connect(self._hide_selected)
        self.view.addAction(self.hide_action)
        self.photos_action = QAction("Photos with them together", self.view)
        self.photos_action.triggered.connect(
            lambda: self.photos_requested.emit(self.selected_people())
        )
        self.view.addAction(self.photos_action)
        self.split_action = QAction("Split…", self.view)
        self.split_action.setToolTip("Regroup a person who is really two or more people")
        self.split_action.triggered.connect(self._split_selected)
        self.split_action.setEnabled(False)  # one person at a time
        self.view.addAction(self.split_action)
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self.split_action.setEnabled(len(self.selected_people()) == 1)
        )
        QShortcut(
            QKeySequence("H"),
            self.view,
            self._hide_selected,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )

        self.empty = QWidget()
        e = QVBoxLayout(self.empty)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("emptyText")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.choose = QPushButton(icon("folder"), "Choose a photo folder…")
        self.choose.setObjectName("primary")
        self.choose.clicked.connect(self.choose_folder)
        e.addStretch(1)
        e.addWidget(self.empty_text)
        e.addWidget(self.choose, 0, Qt.AlignmentFlag.AlignHCenter)
        e.addStretch(2)

        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.counts)
        head.addStretch(1)
        head.addWidget(self.search, 1)
        head.addWidget(QLabel("Sort:"))
        head.addWidget(self.sort)
        head.addWidget(self.hidden_button)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(self.stack, 1)
        self.search.textChanged.connect(self.filter.set_text)
        self.search.returnPressed.connect(self._search_enter)
        self.set_empty("Loading…", show_button=False)
        self.setFocusProxy(self.view)

    def set_empty(self, text: str | None, show_button: bool = True) -> None:
        """Show ``text`` instead of the grid (None: show the grid)."""
        if text is None:
            self.stack.setCurrentWidget(self.view)
            return
        self.empty_text.setText(text)
        self.choose.setVisible(show_button)
        self.stack.setCurrentWidget(self.empty)

    def set_people(self, rows: list[PersonOverview], hidden: int = 0) -> None:
        """``rows``: the people to show (the core's overview); ``hidden``: how many are hidden."""
        self.model.set_people(rows)
        named = sum(1 for r in rows if r.name)
        self.counts.setText(f"{named} named · {len(rows) - named} unnamed")
        self.hidden_button.setText(f"Hidden people ({hidden})" if hidden else "Hidden people")
        self.hidden_button.setEnabled(hidden > 0)
        if self.view.model().rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.filter.index(0, 0))

    def set_sort(self, key: str) -> None:
        """Show the people in this order ('photos', 'name', 'recent')."""
        i = self.sort.findData(key)
        if i >= 0:
            self.sort.setCurrentIndex(i)

    def _sort_changed(self, *args) -> None:
        key = str(self.sort.currentData())
        self.model.set_sort(key)
        self.sort_changed.emit(key)

    def set_expanded(self, on: bool) -> None:
        """Open or fold "More people"."""
        self.filter.set_expanded(on)

    def _clicked(self, index) -> None:
        if index.data(SectionRole) is not None:  # one click opens or folds "More people"
            self._section_clicked = time.monotonic()
            self.set_expanded(not self.filter.expanded)

    def _activated(self, index) -> None:
        pid = index.data(PersonIdRole)
        if pid is not None:
            self.person_activated.emit(int(pid))
        elif index.data(SectionRole) is not None:
            # Enter on the heading; the second half of a double click was a click already.
            interval = QApplication.doubleClickInterval() / 1000
            if time.monotonic() - self._section_clicked > interval:
                self.set_expanded(not self.filter.expanded)

    def _double_clicked(self, index) -> None:
        pid = index.data(PersonIdRole)
        if pid is not None:
            self.person_activated.emit(int(pid))

    def _search_enter(self) -> None:
        if self.filter.rowCount():
            self.view.setFocus()
            self.view.setCurrentIndex(self.filter.index(0, 0))

    def selected_people(self) -> list[int]:
        return [
            int(pid)
            for i in self.view.selectionModel().selectedIndexes()
            if (pid := i.data(PersonIdRole)) is not None
        ]

    def _split_selected(self) -> None:
        people = self.selected_people()
        if len(people) == 1:
            self.split_requested.emit(people[0])

    def _hide_selected(self) -> None:
        people = self.selected_people()
        if not people and self.view.currentIndex().isValid():
            pid = self.view.currentIndex().data(PersonIdRole)
            people = [int(pid)] if pid is not None else []
        if people:
            self.hide_requested.emit(people)
