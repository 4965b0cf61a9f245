"""Small reusable widgets: the inline prompt bar, a face panel and the yes/no/skip card."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from album.gui.thumbs import ThumbnailCache, placeholder
from album.resources import resource_path


def icon(name: str) -> QIcon:
    """The packaged icon ``album/resources/icons/<name>.svg`` (empty if absent)."""
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path is not None else QIcon()


class PromptBar(QFrame):
    """An inline question with a text field: no modal dialog to block the keyboard flow.
    ``accepted(text)`` on Enter or OK; Escape or Cancel hides it."""

    accepted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptBar")
        self.label = QLabel()
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.completer = QCompleter([], self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(self.completer)
        self.ok = QPushButton("OK")
        self.ok.setDefault(True)
        cancel = QPushButton("Cancel")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.ok)
        lay.addWidget(cancel)
        self.edit.returnPressed.connect(self._accept)
        self.ok.clicked.connect(self._accept)
        cancel.clicked.connect(self._cancel)
        QShortcut(
            QKeySequence(Qt.Key.Key_Escape),
            self,
            self._cancel,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self.hide()

    def ask(self, question: str, names: list[str], text: str = "") -> None:
        self.label.setText(question)
        self.completer.setModel(QStringListModel(names, self.completer))
        self.edit.setText(text)
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()

    def _accept(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.hide()
            self.accepted.emit(text)

    def _cancel(self) -> None:
        self.hide()
        self.cancelled.emit()


class OfferBar(QFrame):
    """An inline offer ("Merge into Ada?") with a yes and a no button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offerBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.yes = QPushButton()
        self.no = QPushButton("Cancel")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.yes)
        lay.addWidget(self.no)
        self.no.clicked.connect(self.hide)
        self._action = None
        self.yes.clicked.connect(self._go)
        self.hide()

    def offer(self, text: str, button: str, action) -> None:
        self.label.setText(text)
        self.yes.setText(button)
        self._action = action
        self.show()
        self.yes.setFocus()

    def _go(self) -> None:
        self.hide()
        if self._action is not None:
            action, self._action = self._action, None
            action()


class FacePanel(QFrame):
    """A face (large) over its photo (small), with a caption; the face is boxed in the photo,
    so it is clear which face of a group photo is meant. Under the caption, a few more faces
    of the face's person (``show_more``): one side view is hard to judge against one face."""

    MORE = 4  # faces in the strip
    MORE_SIZE = 56

    def __init__(
        self,
        thumbs: ThumbnailCache,
        face_size: int = 200,
        photo_size: int = 256,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("facePanel")
        self.thumbs = thumbs
        self.face_size, self.photo_size = face_size, photo_size
        self.face = QLabel()
        self.face.setFixedSize(face_size, face_size)
        self.face.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo = QLabel()
        self.photo.setFixedSize(photo_size, int(photo_size * 0.75))
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setObjectName("caption")
        self.more: list[QLabel] = []
        holder = QWidget()  # a fixed height, so panels side by side stay aligned
        holder.setFixedHeight(self.MORE_SIZE)
        holder.setStyleSheet("background: transparent")
        strip = QHBoxLayout(holder)
        strip.setContentsMargins(0, 0, 0, 0)
        strip.setSpacing(4)
        strip.addStretch(1)
        for _ in range(self.MORE):
            label = QLabel()
            label.setFixedSize(self.MORE_SIZE, self.MORE_SIZE)
            label.setVisible(False)
            strip.addWidget(label)
            self.more.append(label)
        strip.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.face, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.caption)
        lay.addWidget(holder)
        lay.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignHCenter)
        self._more_keys: list[tuple] = []
        self._face_key: tuple | None = None
        self._photo_key: tuple | None = None
        self._box: tuple[float, float, float, float] | None = None
        thumbs.ready.connect(self._ready)

    def show_face(
        self,
        face_id: int,
        photo_id: int | None,
        caption: str,
        box: tuple[float, float, float, float] | None = None,
    ) -> None:
        """Show face ``face_id`` and photo ``photo_id``; ``box``: the face in the photo as
        fractions of its upright width and height (left, top, right, bottom), drawn on it."""
        self._face_key = ("face", face_id, self.face_size, False)
        self._photo_key = ("photo", photo_id, 512) if photo_id is not None else None
        self._box = box
        self.caption.setText(caption)
        self._set_more([])
        self._ready(None)

    def show_more(self, face_ids: list[int]) -> None:
        """Show up to ``MORE`` further faces (ids) under the caption; [] hides the strip."""
        self._set_more(face_ids)
        self._ready(None)

    def _set_more(self, face_ids: list[int]) -> None:
        self._more_keys = [("face", f, self.MORE_SIZE, False) for f in face_ids[: self.MORE]]
        for i, label in enumerate(self.more):
            label.setVisible(i < len(self._more_keys))
            label.clear()

    def _ready(self, key: tuple | None) -> None:
        for label, more in zip(self.more, self._more_keys, strict=False):
            if key in (None, more):
                pm = self.thumbs.get(more)
                label.setPixmap(
                    pm.scaled(self.MORE_SIZE, self.MORE_SIZE)
                    if pm is not None
                    else placeholder(self.MORE_SIZE, round_=False)
                )
        if self._face_key is not None and key in (None, self._face_key):
            pm = self.thumbs.get(self._face_key)
            self.face.setPixmap(
                pm.scaled(self.face_size, self.face_size)
                if pm is not None
                else placeholder(self.face_size, round_=False)
            )
        if key is None or key == self._photo_key:
            pm = self.thumbs.get(self._photo_key) if self._photo_key else None
            if pm is not None:
                scaled = pm.scaled(
                    self.photo.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                self.photo.setPixmap(self._boxed(scaled) if self._box else scaled)
            else:
                self.photo.clear()

    def _boxed(self, pm: QPixmap) -> QPixmap:
        """``pm`` with the face's box drawn on it (a little larger, so it frames the face)."""
        assert self._box is not None
        out = QPixmap(pm)
        w, h = out.width(), out.height()
        left, top, right, bottom = self._box
        pad = 0.15 * (right - left)
        painter = QPainter(out)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for colour, width in (("#000000", 4), ("#ffd23f", 2)):  # dark edge: seen on any photo
            painter.setPen(QPen(QColor(colour), width))
            painter.drawRect(
                round((left - pad) * w),
                round((top - pad) * h),
                max(4, round((right - left + 2 * pad) * w)),
                max(4, round((bottom - top + 2 * pad) * h)),
            )
        painter.end()
        return out


class QuestionCard(QWidget):
    """Two faces side by side, a question, details, and Yes / No / Skip (keys Y, N, S)."""

    answered = Signal(str)  # "yes", "no" or "skip"

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = FacePanel(thumbs)
        self.right = FacePanel(thumbs)
        self.question = QLabel()
        self.question.setObjectName("question")
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details = QLabel()
        self.details.setObjectName("details")
        self.details.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details.setWordWrap(True)
        self.yes = QPushButton(icon("yes"), "Yes  (Y)")
        self.no = QPushButton(icon("no"), "No  (N)")
        self.skip = QPushButton("Skip  (S)")
        for b, name in ((self.yes, "yesButton"), (self.no, "noButton"), (self.skip, "skip")):
            b.setObjectName(name)
            b.setMinimumWidth(120)
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        faces = QHBoxLayout()
        faces.addStretch(1)
        faces.addWidget(self.left)
        faces.addSpacing(24)
        faces.addWidget(self.right)
        faces.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.yes, self.no, self.skip):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.question)
        lay.addLayout(faces)
        lay.addWidget(self.details)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self.yes.clicked.connect(lambda: self.answered.emit("yes"))
        self.no.clicked.connect(lambda: self.answered.emit("no"))
        self.skip.clicked.connect(lambda: self.answered.emit("skip"))
        for key, answer in (("Y", "yes"), ("N", "no"), ("S", "skip")):
            QShortcut(
                QKeySequence(key),
                self,
                lambda a=answer: self._key(a),
                context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
            )

    def _key(self, answer: str) -> None:
        if self.yes.isEnabled():
            self.answered.emit(answer)

    def set_enabled(self, on: bool) -> None:
        for b in (self.yes, self.no, self.skip):
            b.setEnabled(on)
