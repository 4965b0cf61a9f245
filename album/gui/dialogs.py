"""Dialogs: "Same person?", the photo viewer and Settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QMouseEvent, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import QuestionCard

if TYPE_CHECKING:
    from album.gui.core import PairQuestion, Session


class PairDialog(QDialog):
    """Two faces side by side with their photos, distance and probability; Yes / No / Skip
    (Y / N / S). Each answer is a constraint for the core (``PeopleService.answer``)."""

    answered = Signal(int, int, bool)

    def __init__(
        self,
        session: Session,
        thumbs: ThumbnailCache,
        op: Callable[[Callable[[Any], Any], str], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Same person?")
        self.setObjectName("pairDialog")
        self.session, self.op = session, op
        self.questions: list[PairQuestion] = []
        self.pos = 0
        self.answers = 0
        self.card = QuestionCard(thumbs)
        self.card.question.setText("Same person?")
        self.card.answered.connect(self.answer)
        self.progress = QLabel()
        self.progress.setObjectName("dim")
        close = QPushButton("Done")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addStretch(1)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.card, 1)
        lay.addLayout(bottom)
        self.resize(760, 640)

    def set_questions(self, questions: list[PairQuestion]) -> None:
        self.questions, self.pos = list(questions), 0
        self._show()

    def current(self) -> PairQuestion | None:
        return self.questions[self.pos] if self.pos < len(self.questions) else None

    def _caption(self, face_id: int) -> str:
        lab = self.session.people.person_of(face_id)
        if lab is None:
            return "nobody yet"
        p = self.session.catalog.person(lab.person_id)
        return (p.name if p and p.name else "Unnamed") + (
            " · suggested" if lab.source == "suggested" else ""
        )

    def _show(self) -> None:
        q = self.current()
        self.card.set_enabled(q is not None)
        total = len(self.questions)
        self.progress.setText(
            f"Question {min(self.pos + 1, total)} of {total} · {self.answers} answered"
            if total
            else "No questions left"
        )
        if q is None:
            self.card.details.setText("No more questions. Close to update the people.")
            return
        for panel, f in ((self.card.left, q.a), (self.card.right, q.b)):
            photo = self.session.photo_of_face(f)
            panel.show_face(f, photo.id if photo else None, self._caption(f))
        text = f"distance {q.distance:.3f} · probability same {q.probability:.0%}"
        if q.reason:
            text += f"\n{q.reason}"
        self.card.details.setText(text)
        self.card.yes.setFocus()

    def answer(self, answer: str) -> None:
        q = self.current()
        if q is None:
            return
        if answer in ("yes", "no"):
            same = answer == "yes"
            done = self.op(
                lambda s: s.answer(q.a, q.b, same), "Same person" if same else "Different people"
            )
            if done is not False:
                self.answers += 1
                self.answered.emit(q.a, q.b, same)
        self.pos += 1
        self._show()


class PhotoCanvas(QWidget):
    """A photo scaled to fit, with face boxes and names. Click a box: ``face_clicked``.
    Drag on empty space to draw a box: ``box_drawn`` (in original photo pixels)."""

    face_clicked = Signal(int)
    box_drawn = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 360)
        self.setMouseTracking(True)
        self.pixmap = None
        self.size_px = (1, 1)  # original photo size
        self.faces: list[tuple[int, tuple[float, float, float, float], str]] = []
        self._hover: int | None = None
        self._drag: tuple[QPointF, QPointF] | None = None

    def set_photo(self, pixmap, size: tuple[int, int], faces) -> None:
        self.pixmap, self.size_px, self.faces = pixmap, size, list(faces)
        self.update()

    def _frame(self) -> tuple[float, float, float]:
        w, h = self.size_px
        k = min(self.width() / max(w, 1), self.height() / max(h, 1))
        return k, (self.width() - w * k) / 2, (self.height() - h * k) / 2

    def _rect(self, box) -> QRectF:
        k, x0, y0 = self._frame()
        return QRectF(
            x0 + box[0] * k, y0 + box[1] * k, (box[2] - box[0]) * k, (box[3] - box[1]) * k
        )

    def face_at(self, pos: QPointF) -> int | None:
        for fid, box, _ in self.faces:
            if self._rect(box).contains(pos):
                return fid
        return None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#111316"))
        k, x0, y0 = self._frame()
        w, h = self.size_px
        if self.pixmap is not None:
            p.drawPixmap(QRectF(x0, y0, w * k, h * k), self.pixmap, QRectF(self.pixmap.rect()))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        for fid, box, name in self.faces:
            r = self._rect(box)
            color = QColor("#4c9bff") if fid == self._hover else QColor("#f5f7fa")
            p.setPen(QPen(color, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r, 4, 4)
            tw = p.fontMetrics().horizontalAdvance(name) + 10
            tag = QRectF(r.left(), r.bottom() + 3, tw, p.fontMetrics().height() + 4)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 170))
            p.drawRoundedRect(tag, 4, 4)
            p.setPen(color)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, name)
        if self._drag is not None:
            p.setPen(QPen(QColor("#f0b429"), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(self._drag[0], self._drag[1]).normalized())
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            fid = self.face_at(e.position())
            if fid is not None:
                self.face_clicked.emit(fid)
            else:
                self._drag = (e.position(), e.position())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag = (self._drag[0], e.position())
            self.update()
            return
        hover = self.face_at(e.position())
        if hover != self._hover:
            self._hover = hover
            self.setCursor(
                Qt.CursorShape.PointingHandCursor
                if hover is not None
                else Qt.CursorShape.CrossCursor
            )
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._drag is None:
            return
        a, b = self._drag
        self._drag = None
        self.update()
        r = QRectF(a, b).normalized()
        if r.width() < 8 or r.height() < 8:
            return
        k, x0, y0 = self._frame()
        box = ((r.left() - x0) / k, (r.top() - y0) / k, (r.right() - x0) / k, (r.bottom() - y0) / k)
        self.box_drawn.emit(box)


class PhotoViewer(QDialog):
    """The photo with its face boxes and names; click a box to open that person."""

    person_requested = Signal(int)
    # A box drawn around a missed face and the name the user gave it: (photo_id, box, name).
    face_marked = Signal(int, tuple, str)

    def __init__(
        self, session: Session, thumbs: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self.session, self.thumbs = session, thumbs
        self.canvas = PhotoCanvas()
        self.title = QLabel()
        self.title.setObjectName("dim")
        self.note = QLabel("Click a face to open that person · drag to mark a missed face")
        self.note.setObjectName("dim")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.note)
        self.canvas.face_clicked.connect(self._face_clicked)
        self.canvas.box_drawn.connect(self._box_drawn)
        thumbs.ready.connect(self._ready)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self._key: tuple | None = None
        self.photo = None
        self.resize(1000, 760)

    def show_photo(self, photo_id: int) -> None:
        cat = self.session.catalog
        photo = cat.photo(photo_id)
        if photo is None:
            return
        self.photo = photo
        self.setWindowTitle(photo.path.rsplit("/", 1)[-1])
        self.title.setText(photo.path)
        svc = self.session.people
        faces = []
        for f in cat.faces_of_photo(photo):
            lab = svc.person_of(f.id)
            name = "?"
            if lab is not None:
                p = cat.person(lab.person_id)
                name = (p.name if p and p.name else "Unnamed") + (
                    "" if lab.source == "confirmed" else "?"
                )
            faces.append((f.id, f.box, name))
        self._key = ("photo", photo_id, 1600)
        self.canvas.set_photo(
            self.thumbs.get(self._key), (photo.width or 1, photo.height or 1), faces
        )

    def _ready(self, key: tuple) -> None:
        if key == self._key and self.photo is not None:
            self.canvas.pixmap = self.thumbs.get(key)
            self.canvas.update()

    def _face_clicked(self, face_id: int) -> None:
        lab = self.session.people.person_of(face_id)
        if lab is not None:
            self.person_requested.emit(self.session.people.active(lab.person_id).id)
            self.close()

    def _box_drawn(self, box: tuple) -> None:
        """Ask who the marked face is; the window measures and stores it (``face_marked``)."""
        if self.photo is None:
            return
        name = self.ask_name()
        if name:
            self.note.setText(f"Adding the face you marked as {name}…")
            self.face_marked.emit(self.photo.id, tuple(float(v) for v in box), name)

    def ask_name(self) -> str | None:
        """The name for a hand-marked face (None when cancelled)."""
        text, ok = QInputDialog.getText(self, "Mark a missed face", "Who is this?")
        return text.strip() if ok and text.strip() else None


class SettingsDialog(QDialog):
    """Folders, model (fetch / import FaceNet weights), device, threshold, auto-assign."""

    scan_requested = Signal()
    add_folder_requested = Signal()
    fetch_requested = Signal(str, str)  # model, file ('' to download)
    reembed_requested = Signal(str)
    train_requested = Signal(str)

    def __init__(
        self, session: Session, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.session, self.settings = session, settings
        cat = session.catalog
        self.folders = QListWidget()
        self.folders.addItems([f.path for f in cat.folders()])
        add = QPushButton("Add folder…")
        add.clicked.connect(self.add_folder_requested)
        scan = QPushButton("Scan now")
        scan.clicked.connect(self.scan_requested)
        fbuttons = QHBoxLayout()
        fbuttons.addWidget(add)
        fbuttons.addWidget(scan)
        fbuttons.addStretch(1)

        self.model = QComboBox()
        from models.registry import DEFAULT_MODEL, list_specs

        current = cat.model or DEFAULT_MODEL
        for spec in list_specs():
            self.model.addItem(f"{spec.name} — {spec.embedding_size}-d", spec.name)
            self.model.setItemData(
                self.model.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        self.model_status = QLabel()
        self.fetch = QPushButton("Download weights")
        self.import_ = QPushButton("Import weights…")
        self.reembed = QPushButton("Use this model (re-embed)")
        self.fetch.clicked.connect(lambda: self.fetch_requested.emit(self._model(), ""))
        self.import_.clicked.connect(self._import)
        self.reembed.clicked.connect(lambda: self.reembed_requested.emit(self._model()))
        self.train = QPushButton("Improve recognition from my labels")
        self.train.setToolTip(
            "Fine-tune the selected model on the faces you confirmed; the result is added "
            "to this list"
        )
        self.train.clicked.connect(lambda: self.train_requested.emit(self._model()))
        self.model.currentIndexChanged.connect(self._model_changed)
        mbuttons = QHBoxLayout()
        for b in (self.fetch, self.import_, self.reembed, self.train):
            mbuttons.addWidget(b)
        mbuttons.addStretch(1)

        self.device = QComboBox()
        for d in ("auto", "cpu", "cuda"):
            self.device.addItem(d)
        self.device.setCurrentText(str(settings.value("device", "auto")))
        # A share of the model's own threshold, so it keeps its meaning across a model switch.
        self.threshold = QSpinBox()
        self.threshold.setRange(50, 150)
        self.threshold.setSingleStep(5)
        self.threshold.setSuffix(" % of the model's")
        self.threshold.setToolTip(
            "Below 100 %: stricter (fewer wrong faces, more groups to merge); above: looser"
        )
        from album.gui.core import ASSIGN_KEY, THRESHOLD_KEY
        from album.people.keys import threshold_scale

        self._keys = (THRESHOLD_KEY, ASSIGN_KEY)
        self.threshold.setValue(round(100 * threshold_scale(cat)))
        self.auto_assign = QCheckBox("Assign recognised faces automatically")
        self.auto_assign.setChecked(cat.get_setting(ASSIGN_KEY) != "off")

        form = QFormLayout()
        form.addRow("Photo folders", self.folders)
        form.addRow("", fbuttons)
        form.addRow("Face model", self.model)
        form.addRow("", self.model_status)
        form.addRow("", mbuttons)
        form.addRow("Device", self.device)
        form.addRow("Same-person threshold", self.threshold)
        form.addRow("", self.auto_assign)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self._model_changed()
        self.resize(620, 520)

    def _model(self) -> str:
        return str(self.model.currentData())

    def _model_changed(self, *args) -> None:
        name = self._model()
        from models import facenet

        downloadable = name in facenet.SOURCES
        ready = facenet.is_available(name) if downloadable else True
        self.fetch.setVisible(downloadable)
        self.import_.setVisible(downloadable)
        in_use = name == (self.session.catalog.model or "")
        self.reembed.setEnabled(ready and not in_use)
        self.model_status.setText(
            ("in use · " if in_use else "") + ("ready" if ready else "weights not downloaded")
        )

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Weights file", "", "Weights (*.pt *.pth *.safetensors)"
        )
        if path:
            self.fetch_requested.emit(self._model(), path)

    def accept(self) -> None:
        cat = self.session.catalog
        threshold_key, assign_key = self._keys
        self.settings.setValue("device", self.device.currentText())
        cat.set_setting(threshold_key, f"{self.threshold.value() / 100:.2f}")
        if self.auto_assign.isChecked():
            if cat.get_setting(assign_key) == "off":
                cat.db.execute("DELETE FROM settings WHERE key = ?", (assign_key,))
        else:
            cat.set_setting(assign_key, "off")
        self.session.reload_settings()
        super().accept()
