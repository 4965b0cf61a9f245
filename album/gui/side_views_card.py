""" "Which of these side views are Ada?": a batch of side views asked about one person
(``album.people.review.SideViewBatch``), beside that person's best faces. The user ticks the
ones that are the person; the others are not. One answer, one undo step."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.thumbs import ThumbnailCache, placeholder

FACE = 132  # a side view's tile
EXAMPLE = 88  # the person's best faces


class SideViewsCard(QWidget):
    """One batch at a time (``show_batch``); ``answered(person_id, yes, no)`` on Done,
    ``skipped()`` on Skip."""

    answered = Signal(int, list, list)
    skipped = Signal()

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sideViewsCard")
        self.thumbs = thumbs
        self.person_id: int | None = None
        self.question = QLabel()
        self.question.setObjectName("question")
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel()
        self.hint.setObjectName("dim")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.examples = [self._label(EXAMPLE) for _ in range(3)]
        strip = QHBoxLayout()
        strip.addStretch(1)
        for label in self.examples:
            strip.addWidget(label)
        strip.addStretch(1)
        self.tiles: list[QToolButton] = []
        grid = QGridLayout()
        grid.setSpacing(10)
        for i in range(6):
            tile = QToolButton()
            tile.setObjectName("sideViewTile")
            tile.setCheckable(True)
            tile.setIconSize(QSize(FACE, FACE))
            tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tile.toggled.connect(self._count)
            grid.addWidget(tile, i // 3, i % 3)
            self.tiles.append(tile)
        self.done = QPushButton()
        self.done.setObjectName("yesButton")
        self.done.clicked.connect(self._answer)
        skip = QPushButton("Skip  (S)")
        skip.setShortcut("S")
        skip.clicked.connect(self.skipped)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.done)
        buttons.addWidget(skip)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.question)
        lay.addLayout(strip)
        lay.addWidget(self.hint)
        lay.addLayout(grid)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self._faces: list[int] = []
        self._probabilities: list[float] = []
        self.name = ""
        self._keys: dict[tuple, QWidget] = {}
        thumbs.ready.connect(self._ready)

    @staticmethod
    def _label(size: int) -> QLabel:
        label = QLabel()
        label.setFixedSize(size, size)
        return label

    def show_batch(self, batch, name: str) -> None:
        """Show ``batch`` (a ``SideViewBatch``) for the person called ``name``."""
        self.person_id, self.name = batch.person_id, name
        self._faces, self._probabilities = list(batch.faces), list(batch.probabilities)
        self._keys = {}
        self.question.setText(f"Which of these side views are {name}?")
        self.hint.setText(
            f"Above: the clearest faces of {name}. Tick every side view that is {name}; the "
            f"others are not. The percentages are how likely the app thinks each one is."
        )
        for label, face in zip(self.examples, (*batch.examples, None, None, None), strict=False):
            label.setVisible(face is not None)
            if face is not None:
                self._keys[("face", face, EXAMPLE, False)] = label
        for i, tile in enumerate(self.tiles):
            tile.blockSignals(True)
            tile.setChecked(False)
            tile.blockSignals(False)
            tile.setVisible(i < len(self._faces))
            if i < len(self._faces):
                tile.setToolTip(f"face {self._faces[i]}: {batch.probabilities[i]:.0%} likely")
                self._keys[("face", self._faces[i], FACE, False)] = tile
        self._count()
        self._ready(None)

    def chosen(self) -> tuple[list[int], list[int]]:
        """(ticked faces, the others) of the batch shown."""
        yes = [f for f, t in zip(self._faces, self.tiles, strict=False) if t.isChecked()]
        return yes, [f for f in self._faces if f not in yes]

    def _count(self, *args) -> None:
        yes, _ = self.chosen()
        for i, tile in enumerate(self.tiles[: len(self._faces)]):
            guess = f"{self._probabilities[i]:.0%} likely"
            tile.setText(f"✓ {self.name} · {guess}" if tile.isChecked() else guess)
        self.done.setText(
            f"None of them is {self.name}"
            if not yes
            else f"{len(yes)} of {len(self._faces)} are {self.name}"
        )

    def _answer(self) -> None:
        if self.person_id is not None:
            yes, no = self.chosen()
            self.answered.emit(self.person_id, yes, no)

    def _ready(self, key: tuple | None) -> None:
        for k, widget in self._keys.items():
            if key not in (None, k):
                continue
            size = k[2]
            pm = self.thumbs.get(k)
            pm = pm.scaled(size, size) if pm is not None else placeholder(size, round_=False)
            if isinstance(widget, QToolButton):
                widget.setIcon(QIcon(pm))
            else:
                widget.setPixmap(pm)
