"""The photo viewer: one photo with its faces and their names, next / previous through the
list it was opened from, zoom (fit, 100 %, wheel), the file's date, size and path, and the
system's file manager or default application for the file. The photo is only ever read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import icon
from album.people.photos import PhotoDetails, photo_details

if TYPE_CHECKING:
    from album.gui.core import Session

SCREEN_PX = 1600  # the cached rendition shown until zooming needs the photo's own pixels
ZOOM_STEP = 1.25  # per wheel notch
MAX_ZOOM = 8.0


class PhotoCanvas(QWidget):
    """A photo, scaled to fit (``zoom`` None) or at ``zoom`` screen pixels per photo pixel,
    with face boxes and names. Click a box: ``face_clicked``. Drag on empty space to draw a
    box: ``box_drawn`` (in original photo pixels). The wheel asks for a zoom (``wheel_zoom``:
    notches, position); a middle- or right-button drag pans (``pan``)."""

    face_clicked = Signal(int)
    box_drawn = Signal(tuple)
    wheel_zoom = Signal(float, QPointF)
    pan = Signal(QPointF)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 360)
        self.setMouseTracking(True)
        self.pixmap = None
        self.size_px = (1, 1)  # original photo size
        self.zoom: float | None = None  # None: fit
        self.faces: list[tuple[int, tuple[float, float, float, float], str]] = []
        self._hover: int | None = None
        self._drag: tuple[QPointF, QPointF] | None = None
        self._pan_from: QPointF | None = None

    def set_photo(self, pixmap, size: tuple[int, int], faces) -> None:
        self.pixmap, self.size_px, self.faces = pixmap, size, list(faces)
        self.update()

    def scale(self) -> float:
        """Screen pixels per photo pixel as drawn now."""
        return self._frame()[0]

    def fit_scale(self, width: int, height: int) -> float:
        w, h = self.size_px
        return min(width / max(w, 1), height / max(h, 1))

    def _frame(self) -> tuple[float, float, float]:
        w, h = self.size_px
        k = self.zoom if self.zoom is not None else self.fit_scale(self.width(), self.height())
        return k, max(0.0, (self.width() - w * k) / 2), max(0.0, (self.height() - h * k) / 2)

    def _rect(self, box) -> QRectF:
        k, x0, y0 = self._frame()
        return QRectF(
            x0 + box[0] * k, y0 + box[1] * k, (box[2] - box[0]) * k, (box[3] - box[1]) * k
        )

    def to_photo(self, pos: QPointF) -> QPointF:
        k, x0, y0 = self._frame()
        return QPointF((pos.x() - x0) / k, (pos.y() - y0) / k)

    def to_widget(self, point: QPointF) -> QPointF:
        k, x0, y0 = self._frame()
        return QPointF(x0 + point.x() * k, y0 + point.y() * k)

    def face_at(self, pos: QPointF) -> int | None:
        for fid, box, _ in self.faces:
            if self._rect(box).contains(pos):
                return fid
        return None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
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

    def wheelEvent(self, e: QWheelEvent) -> None:
        notches = e.angleDelta().y() / 120
        if notches:
            self.wheel_zoom.emit(notches, e.position())
        e.accept()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            fid = self.face_at(e.position())
            if fid is not None:
                self.face_clicked.emit(fid)
            else:
                self._drag = (e.position(), e.position())
        elif e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_from = e.globalPosition()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._pan_from is not None:
            self.pan.emit(e.globalPosition() - self._pan_from)
            self._pan_from = e.globalPosition()
            return
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
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
            return
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


def face_label(name: str | None, source: str | None, person_id: int | None) -> str:
    """A face's tag: the name, 'Unnamed', '?' for nobody; a trailing '?' when the machine
    guessed (not confirmed)."""
    if person_id is None:
        return "?"
    return (name or "Unnamed") + ("" if source == "confirmed" else "?")


class PhotoViewer(QDialog):
    """The photo with its face boxes and names; click a box to open that person.

    Keys: Left / Right (Page Up / Down) previous and next, Home / End first and last,
    F fit, 1 100 %, + / - zoom, Escape closes."""

    person_requested = Signal(int)
    # A box drawn around a missed face and the name the user gave it: (photo_id, box, name).
    face_marked = Signal(int, tuple, str)

    def __init__(
        self, session: Session, thumbs: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self.session, self.thumbs = session, thumbs
        self.photo_ids: list[int] = []
        self.at = 0  # the index in photo_ids of the photo shown
        self.details: PhotoDetails | None = None
        self.canvas = PhotoCanvas()
        self.area = QScrollArea()
        self.area.setObjectName("photoScroll")
        self.area.setWidget(self.canvas)
        self.area.setWidgetResizable(True)
        self.area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.prev_button = QToolButton()
        self.prev_button.setText("◀")
        self.prev_button.setToolTip("Previous photo (Left)")
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.next_button.setToolTip("Next photo (Right)")
        self.position = QLabel()
        self.position.setObjectName("dim")
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Fit the photo to the window (F)")
        self.actual_button = QToolButton()
        self.actual_button.setText("100 %")
        self.actual_button.setToolTip("One photo pixel per screen pixel (1); the wheel zooms")
        self.zoom_text = QLabel()
        self.zoom_text.setObjectName("dim")
        self.folder_button = QPushButton(icon("folder"), "Show in folder")
        self.folder_button.setToolTip("Open the folder holding this photo")
        self.open_button = QPushButton("Open with default app")
        self.open_button.setToolTip("Open the photo in the system's application for it")
        for b in (
            self.prev_button,
            self.next_button,
            self.fit_button,
            self.actual_button,
            self.folder_button,
            self.open_button,
        ):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay with the viewer
        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.fit_button.clicked.connect(self.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.folder_button.clicked.connect(self.show_in_folder)
        self.open_button.clicked.connect(self.open_externally)

        self.title = QLabel()  # the path
        self.title.setObjectName("dim")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info = QLabel()  # date, pixels, bytes
        self.people = QLabel()  # who is in it
        self.people.setWordWrap(True)
        self.note = QLabel("Click a face to open that person · drag to mark a missed face")
        self.note.setObjectName("dim")
        self.note.setWordWrap(True)

        bar = QHBoxLayout()
        bar.addWidget(self.prev_button)
        bar.addWidget(self.position)
        bar.addWidget(self.next_button)
        bar.addSpacing(12)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        bar.addWidget(self.zoom_text)
        bar.addStretch(1)
        bar.addWidget(self.folder_button)
        bar.addWidget(self.open_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.area, 1)
        lay.addWidget(self.info)
        lay.addWidget(self.people)
        lay.addWidget(self.title)
        lay.addWidget(self.note)
        self.canvas.face_clicked.connect(self._face_clicked)
        self.canvas.box_drawn.connect(self._box_drawn)
        self.canvas.wheel_zoom.connect(self._wheel)
        self.canvas.pan.connect(self._pan)
        thumbs.ready.connect(self._ready)
        # Keys in keyPressEvent, not shortcuts: they reach the viewer whichever of its
        # widgets has the focus, and the buttons take none.
        self._keys = {
            Qt.Key.Key_Left: self.previous,
            Qt.Key.Key_PageUp: self.previous,
            Qt.Key.Key_Right: self.next,
            Qt.Key.Key_PageDown: self.next,
            Qt.Key.Key_Home: lambda: self.go(0),
            Qt.Key.Key_End: lambda: self.go(len(self.photo_ids) - 1),
            Qt.Key.Key_F: self.fit,
            Qt.Key.Key_1: self.actual_size,
            Qt.Key.Key_Plus: lambda: self.zoom_by(1),
            Qt.Key.Key_Equal: lambda: self.zoom_by(1),
            Qt.Key.Key_Minus: lambda: self.zoom_by(-1),
        }
        self._key: tuple | None = None
        self._full_key: tuple | None = None
        self.photo = None
        self.resize(1000, 800)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        action = self._keys.get(Qt.Key(e.key()))
        plain = e.modifiers() & ~(
            Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier
        )
        if action is not None and not plain:
            action()
            e.accept()
        else:
            super().keyPressEvent(e)  # Escape closes

    # --- which photo -------------------------------------------------------------------------

    def show_photos(self, photo_ids: list[int], index: int = 0) -> None:
        """Show ``photo_ids[index]``; next / previous move through ``photo_ids``."""
        self.photo_ids = list(photo_ids)
        self.go(index)

    def show_photo(self, photo_id: int) -> None:
        """Show this photo: within the current list if it is in it, else on its own."""
        if photo_id in self.photo_ids:
            self.go(self.photo_ids.index(photo_id))
        else:
            self.show_photos([photo_id])

    def go(self, index: int) -> None:
        if not self.photo_ids:
            return
        self.at = max(0, min(index, len(self.photo_ids) - 1))
        self._load(self.photo_ids[self.at])

    def next(self) -> None:
        if self.at + 1 < len(self.photo_ids):
            self.go(self.at + 1)

    def previous(self) -> None:
        if self.at > 0:
            self.go(self.at - 1)

    def _load(self, photo_id: int) -> None:
        cat = self.session.catalog
        photo = cat.photo(photo_id)
        d = photo_details(cat, photo_id)
        if photo is None or d is None:
            self.note.setText("This photo is no longer in the catalog.")
            return
        self.photo, self.details = photo, d
        self.setWindowTitle(Path(d.path).name)
        self.title.setText(d.path)
        self.info.setText(d.summary())
        named = [f.name + (f", {f.age}" if f.age else "") for f in d.faces if f.name]
        unnamed = sum(1 for f in d.faces if f.person_id is not None and not f.name)
        unknown = sum(1 for f in d.faces if f.person_id is None)
        parts = list(dict.fromkeys(named))
        if unnamed:
            parts.append(f"{unnamed} unnamed")
        if unknown:
            parts.append(f"{unknown} face{'s' if unknown > 1 else ''} not grouped yet")
        self.people.setText("In this photo: " + ", ".join(parts) if parts else "No faces found")
        n = len(self.photo_ids)
        self.position.setText(f"{self.at + 1} of {n}" if n > 1 else "")
        self.prev_button.setEnabled(self.at > 0)
        self.next_button.setEnabled(self.at + 1 < n)
        faces = [(f.face_id, f.box, face_label(f.name, f.source, f.person_id)) for f in d.faces]
        self._key = ("photo", photo_id, SCREEN_PX)
        self._full_key = None
        self.canvas.set_photo(self.thumbs.get(self._key), (d.width or 1, d.height or 1), faces)
        self.fit()

    # --- zoom --------------------------------------------------------------------------------

    def fit(self) -> None:
        self.canvas.zoom = None
        self.area.setWidgetResizable(True)
        self.canvas.setMinimumSize(480, 360)
        self._zoom_changed()

    def actual_size(self) -> None:
        """100 %: one photo pixel per screen pixel (a small photo then shows small)."""
        self.set_zoom(1.0, snap=False)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None, snap: bool = True) -> None:
        """``zoom`` screen pixels per photo pixel (1: 100 %), keeping the photo point under
        ``anchor`` (canvas coordinates; default: the middle of the view) in place. With
        ``snap``, a zoom at or below the window's fit becomes fitting."""
        vp = self.area.viewport()
        fit = self.canvas.fit_scale(vp.width(), vp.height())
        zoom = min(MAX_ZOOM, zoom)
        if snap and zoom <= fit:
            self.fit()
            return
        if anchor is None:
            anchor = self.canvas.mapFrom(vp, QPointF(vp.width() / 2, vp.height() / 2))
        on_screen = self.canvas.mapTo(vp, anchor)
        point = self.canvas.to_photo(anchor)
        w, h = self.canvas.size_px
        self.canvas.zoom = zoom
        self.area.setWidgetResizable(False)
        self.canvas.setMinimumSize(0, 0)
        self.canvas.resize(max(vp.width(), round(w * zoom)), max(vp.height(), round(h * zoom)))
        target = self.canvas.to_widget(point)
        self.area.horizontalScrollBar().setValue(round(target.x() - on_screen.x()))
        self.area.verticalScrollBar().setValue(round(target.y() - on_screen.y()))
        self._zoom_changed()

    def zoom_by(self, notches: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.canvas.scale() * ZOOM_STEP**notches, anchor)

    def _wheel(self, notches: float, pos: QPointF) -> None:
        self.zoom_by(notches, pos)

    def _pan(self, delta: QPointF) -> None:
        h, v = self.area.horizontalScrollBar(), self.area.verticalScrollBar()
        h.setValue(h.value() - round(delta.x()))
        v.setValue(v.value() - round(delta.y()))

    def _zoom_changed(self) -> None:
        self.canvas.update()
        fitting = self.canvas.zoom is None
        self.zoom_text.setText("" if fitting else f"{self.canvas.zoom:.0%}")
        self.fit_button.setEnabled(not fitting)
        # Past the cached rendition's pixels: the photo itself, decoded at its own size.
        w, h = self.canvas.size_px
        sharper = not fitting and self.canvas.scale() * max(w, h) > SCREEN_PX
        if sharper and self.photo is not None and self._full_key is None:
            self._full_key = ("full", self.photo.id, 0)
            pm = self.thumbs.get(self._full_key)
            if pm is not None:
                self.canvas.pixmap = pm

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.canvas.zoom is not None:  # keep the zoom; the canvas fills the window
            self.set_zoom(self.canvas.zoom, snap=False)

    def _ready(self, key: tuple) -> None:
        if self.photo is None or key not in (self._key, self._full_key):
            return
        pm = self.thumbs.get(key)
        if pm is None:
            if key == self._key and self.thumbs.failed(key):
                self.note.setText("This photo cannot be shown: the file is missing or unreadable.")
            return
        if key == self._full_key or self.canvas.pixmap is None:
            self.canvas.pixmap = pm
            self.canvas.update()

    # --- the file, outside the app -----------------------------------------------------------

    def show_in_folder(self) -> bool:
        """Open the folder holding the photo in the file manager."""
        if self.details is None:
            return False
        folder = Path(self.details.path).parent
        if not folder.is_dir():
            self.note.setText(f"The folder {folder} is not there any more (moved or unplugged?).")
            return False
        return self._open_url(QUrl.fromLocalFile(str(folder)), "a file manager")

    def open_externally(self) -> bool:
        """Open the photo in the system's default application for its type (read by it; this
        app never writes to the photo)."""
        if self.details is None:
            return False
        path = Path(self.details.path)
        if not path.is_file():
            self.note.setText(f"The file {path} is not there any more (moved or deleted?).")
            return False
        return self._open_url(QUrl.fromLocalFile(str(path)), f"an application for {path.suffix}")

    def _open_url(self, url: QUrl, what: str) -> bool:
        if QDesktopServices.openUrl(url):
            return True
        self.note.setText(f"Could not open {url.toLocalFile()}: no {what} is set up.")
        return False

    # --- faces -------------------------------------------------------------------------------

    def _face_clicked(self, face_id: int) -> None:
        if self.details is None:
            return
        face = next((f for f in self.details.faces if f.face_id == face_id), None)
        if face is not None and face.person_id is not None:
            self.person_requested.emit(face.person_id)
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
