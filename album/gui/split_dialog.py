""" "Split…": a person who is really two or more people, regrouped into sub-groups shown side by
side; per sub-group the user picks whether it stays, becomes a new person or goes to someone
named. The regrouping (``PeopleService.split_proposal``) runs in a worker thread; applying is
one undoable people operation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from album.gui.queries import NewestQuery
from album.gui.thumbs import ThumbnailCache, placeholder
from album.people.split import SplitPart, SplitProposal

if TYPE_CHECKING:
    from album.gui.core import Session

NEW_PERSON = "New person"


def read_proposal(catalog_path: Path, person_id: int, groups: int | None) -> SplitProposal:
    """The proposal, on the worker thread's own connection to the catalog."""
    from album.catalog import Catalog
    from album.gui.core import open_service

    with Catalog(catalog_path) as cat:
        return open_service(cat).split_proposal(person_id, groups)


class SplitDialog(QDialog):
    """The sub-groups of one person, side by side, each with its best faces and a choice."""

    FACES = 8  # best faces shown per sub-group
    FACE_SIZE = 72

    def __init__(
        self,
        session: Session,
        thumbs: ThumbnailCache,
        op: Callable[[Callable[[Any], Any], str], Any],
        person_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("splitDialog")
        self.session, self.thumbs, self.op = session, thumbs, op
        self.person = session.people.active(person_id)
        self.label = self.person.name or "this person"
        self.setWindowTitle(f"Split {self.label}")
        self.proposal: SplitProposal | None = None
        self.choices: list[QComboBox] = []
        self._faces: dict[tuple, QLabel] = {}

        self.intro = QLabel(
            f"If {self.label} is really two or more people, their faces fall into the groups "
            "below. Choose who each group is; the groups you leave as they are stay. Faces in "
            "one photo, and faces you said are not the same person, are never in one group."
        )
        self.intro.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("dim")
        self.count = QSpinBox()
        self.count.setRange(1, 12)
        self.count.setSpecialValueText("as they fall")
        self.count.setValue(1)  # 1: the special value, as many as the faces fall into
        self.count.setPrefix("")
        self.count.setToolTip("How many groups to cut the faces into")
        self.count.valueChanged.connect(self._recount)
        self.columns = QWidget()
        self.columns_layout = QHBoxLayout(self.columns)
        self.columns_layout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.columns)
        self.buttons = QDialogButtonBox()
        self.apply_button = self.buttons.addButton("Split", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(QLabel("Groups:"))
        top.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addLayout(top)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.buttons)
        self.resize(760, 480)

        self.query = NewestQuery(self)
        self.query.ready.connect(self.show_proposal)
        self.query.failed.connect(self._failed)
        thumbs.ready.connect(self._thumb_ready)
        self.load()

    def load(self, groups: int | None = None) -> None:
        self.status.setText(f"Regrouping the faces of {self.label}…")
        self.apply_button.setEnabled(False)
        self.query.submit(read_proposal, self.session.path, self.person.id, groups)

    def _recount(self, value: int) -> None:
        self.load(value if value >= 2 else None)

    def _failed(self, text: str) -> None:
        self.status.setText(text)
        self._clear()

    def _clear(self) -> None:
        while self.columns_layout.count():
            item = self.columns_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.choices, self._faces = [], {}

    def show_proposal(self, proposal: SplitProposal) -> None:
        """One column per sub-group: its size, best faces and who it is."""
        self.proposal = proposal
        self._clear()
        names = [
            s.name
            for s in self.session.people.people(named_only=True)
            if s.id != self.person.id and s.name
        ]
        stays = f"Stays {self.label}"
        for i, group in enumerate(proposal.groups):
            box = QFrame()
            box.setObjectName("splitGroup")
            box.setFrameShape(QFrame.Shape.StyledPanel)
            col = QVBoxLayout(box)
            n = len(group.faces)
            head = QLabel(
                f"<b>Group {i + 1}</b><br>{n} face{'s' if n != 1 else ''} in "
                f"{group.photos} photo{'s' if group.photos != 1 else ''}"
                + (f", {group.confirmed} confirmed" if group.confirmed else "")
            )
            col.addWidget(head)
            grid = QGridLayout()
            for k, face in enumerate(group.faces[: self.FACES]):
                tile = QLabel()
                tile.setFixedSize(self.FACE_SIZE, self.FACE_SIZE)
                key = ("face", face, self.FACE_SIZE, False)
                self._faces[key] = tile
                tile.setPixmap(self.thumbs.get(key) or placeholder(self.FACE_SIZE, False))
                grid.addWidget(tile, k // 2, k % 2)
            col.addLayout(grid)
            col.addStretch(1)
            choice = QComboBox()
            choice.setObjectName(f"splitChoice{i + 1}")
            choice.setEditable(True)
            choice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            choice.addItems([stays, NEW_PERSON, *names])
            choice.setCurrentText(stays if i == proposal.keep else NEW_PERSON)
            choice.setToolTip("Who this group is: type a name for a new or existing person")
            choice.lineEdit().setPlaceholderText("Name")
            col.addWidget(choice)
            self.choices.append(choice)
            self.columns_layout.addWidget(box)
        total = sum(len(g.faces) for g in proposal.groups)
        if len(proposal.groups) == 1:
            self.status.setText(
                f"The {total} faces look like one person. Choose 2 or more groups to cut "
                "them anyway."
            )
        else:
            self.status.setText(f"{total} faces in {len(proposal.groups)} groups")
        self.apply_button.setEnabled(len(proposal.groups) > 1)
        others = [c for i, c in enumerate(self.choices) if i != proposal.keep]
        if others:  # the first group that leaves: type who it is
            others[0].setFocus()

    def parts(self) -> list[SplitPart]:
        """The user's choice per sub-group (``SplitPart.to``: None stays, "" a new person)."""
        assert self.proposal is not None
        out = []
        for group, choice in zip(self.proposal.groups, self.choices, strict=True):
            text = choice.currentText().strip()
            if not text or text == f"Stays {self.label}":
                to = None
            elif text == NEW_PERSON:
                to = ""
            else:
                to = text
            out.append(SplitPart(group.faces, to))
        return out

    def apply(self) -> None:
        if self.proposal is None:
            return
        pid, parts = self.person.id, self.parts()
        result = self.op(lambda s: s.split_apart(pid, parts), f"Split {self.label}")
        if result is not False:
            self.accept()
            return
        # Refused: the window's status bar says why; say it here too, where the user looks.
        bar = getattr(self.parent(), "statusBar", None)
        why = bar().currentMessage().lstrip("⚠ ") if bar else ""
        self.status.setText(f"Not split: {why}" if why else "Not split")

    def _thumb_ready(self, key: tuple) -> None:
        tile = self._faces.get(key)
        if tile is not None and shiboken6.isValid(tile):
            pm = self.thumbs.get(key)
            if pm is not None:
                tile.setPixmap(pm)
