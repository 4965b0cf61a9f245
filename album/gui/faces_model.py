"""One person's faces for fixing their grouping: the item model (confirmed first, then
automatic, then suggestions) and the delegate that marks suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from album.gui.roles import FaceIdRole, Index, SourceRole
from album.gui.thumb_list import ThumbListModel
from album.gui.thumbs import ThumbnailCache


@dataclass(frozen=True)
class FaceRow:
    face_id: int
    source: str  # confirmed, automatic, suggested
    confidence: float | None


class FacesModel(ThumbListModel):
    """One person's faces: confirmed first, then automatic, then suggestions."""

    ORDER: ClassVar[dict[str, int]] = {"confirmed": 0, "automatic": 1, "suggested": 2}
    kind = "face"

    def __init__(self, thumbs: ThumbnailCache, size: int = 120, parent=None) -> None:
        super().__init__(thumbs, size, False, parent)

    def _key_of(self, row: FaceRow) -> int:
        return row.face_id

    def set_faces(self, rows: list[FaceRow]) -> None:
        self._set_rows(sorted(rows, key=lambda r: (self.ORDER.get(r.source, 3), r.face_id)))

    def face_at(self, row: int) -> FaceRow:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if role == FaceIdRole:
            return r.face_id
        if role == SourceRole:
            return r.source
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get(("face", r.face_id, self.size, False)) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = {
                "confirmed": "Confirmed",
                "automatic": "Recognised automatically",
                "suggested": "Suggested: confirm or reject",
            }.get(r.source, r.source)
            return f"Face {r.face_id} · {tip}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"face {r.face_id}, {r.source}"
        return None


class FaceDelegate(QStyledItemDelegate):
    """A face tile; suggestions get a dashed amber frame and a '?' badge."""

    def __init__(self, size: int = 120, parent=None) -> None:
        super().__init__(parent)
        self.size = size

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.size + 12, self.size + 12)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(6, 6, -6, -6)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if pm is not None:
            p.drawPixmap(r, pm)
        source = index.data(SourceRole)
        if source == "suggested":
            pen = QPen(QColor("#f0b429"), 3, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r, 6, 6)
            badge = QRect(r.right() - 22, r.top() + 4, 18, 18)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#f0b429"))
            p.drawEllipse(badge)
            p.setPen(QColor("#1b1e23"))
            f = QFont(option.font)
            f.setBold(True)
            p.setFont(f)
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "?")
        if option.state & QStyle.StateFlag.State_Selected:
            p.setPen(QPen(QColor("#4c9bff"), 4))
            p.setBrush(QColor(76, 155, 255, 60))
            p.drawRoundedRect(r.adjusted(-2, -2, 2, 2), 8, 8)
        elif option.state & QStyle.StateFlag.State_HasFocus:
            p.setPen(QPen(QColor("#8fbfff"), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r.adjusted(-2, -2, 2, 2), 8, 8)
        p.restore()
