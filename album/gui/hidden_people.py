"""The "Hidden people" dialog: the people the user hid from the People grid, to show them
again or open one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.roles import PersonIdRole
from album.gui.thumbs import ThumbnailCache, placeholder
from album.people.overview import PersonOverview, sort_people


class HiddenPeopleDialog(QDialog):
    """The people the user hid, in one place: select some and show them again (or open one
    with a double click)."""

    unhide = Signal(list)  # person ids
    open_person = Signal(int)

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hidden people")
        self.setObjectName("hiddenPeople")
        self.thumbs = thumbs
        self.icon_px = 64
        self.list = QListWidget()
        self.list.setObjectName("hiddenList")
        self.list.setIconSize(QSize(self.icon_px, self.icon_px))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemDoubleClicked.connect(
            lambda item: self.open_person.emit(int(item.data(PersonIdRole)))
        )
        self.text = QLabel()
        self.text.setObjectName("dim")
        self.text.setWordWrap(True)
        self.show_button = QPushButton("Show in People again")
        self.show_button.setObjectName("primary")
        self.show_button.clicked.connect(self._unhide)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        self.list.itemSelectionChanged.connect(self._update)
        thumbs.ready.connect(self._thumb_ready)
        self.resize(460, 520)

    def set_people(self, rows: list[PersonOverview]) -> None:
        self.list.clear()
        for r in sort_people(rows, "name"):
            n = f"{r.photos} photo{'s' if r.photos != 1 else ''}"
            item = QListWidgetItem(f"{r.label}\n{n}")
            item.setData(PersonIdRole, r.id)
            pm = self.thumbs.get(("person", r.id, self.icon_px))
            item.setIcon(QIcon(pm if pm is not None else placeholder(self.icon_px)))
            self.list.addItem(item)
        self.text.setText(
            "Hidden people stay hidden after scans and regrouping. Select people and show "
            "them again; double-click to open one."
            if rows
            else "Nobody is hidden."
        )
        self._update()

    def _update(self) -> None:
        n = len(self.list.selectedItems())
        self.show_button.setEnabled(n > 0)
        self.show_button.setText(f"Show {n} in People again" if n > 1 else "Show in People again")

    def _unhide(self) -> None:
        ids = [int(i.data(PersonIdRole)) for i in self.list.selectedItems()]
        if ids:
            self.unhide.emit(ids)

    def _thumb_ready(self, key: tuple) -> None:
        if key[0] != "person" or key[2] != self.icon_px:
            return
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(PersonIdRole) == key[1]:
                pm = self.thumbs.get(key)
                if pm is not None:
                    item.setIcon(QIcon(pm))
