"""Whole photos in a grid, each month under a heading row (with a person's age that month
when their birth date is known): the item model and the delegate of a person's Photos view
and of the library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from album.gui.grids import paint_heading
from album.gui.roles import HeadingRole, Index, PhotoIdRole
from album.gui.thumb_list import ThumbListModel
from album.gui.thumbs import ThumbnailCache
from album.people.ages import age_text
from album.people.photos import PersonPhoto

# A photo in a grid: the core's record as it is (photo_id, path, taken, exif_date, people).
PhotoRow = PersonPhoto


@dataclass(frozen=True)
class Heading:
    year: int
    month: int
    age: str | None = None  # the person's age that month, when their birth date is known

    @property
    def text(self) -> str:
        if self.year <= 1:
            return "Undated"
        month = datetime(self.year, self.month, 1).strftime("%B %Y")
        return f"{month} · {self.age}" if self.age else month


class PhotosModel(ThumbListModel):
    """Whole photos (square tiles), newest first, each month under a heading row of its own."""

    kind = "tile"
    heading = Heading

    def __init__(self, thumbs: ThumbnailCache, size: int = 160, parent=None) -> None:
        super().__init__(thumbs, size, False, parent)

    def _key_of(self, row: PhotoRow | Heading) -> int:
        # Headings get negative keys so they never meet a photo id in ``_row_of``.
        return row.photo_id if isinstance(row, PhotoRow) else -(row.year * 100 + row.month)

    def set_photos(
        self, photos: list[PhotoRow], born: str | None = None, oldest_first: bool = False
    ) -> None:
        """``photos`` newest first (as the core's query gives them); shown oldest first when
        asked. ``born``: the person's birth date, for their age in each month's heading (from
        its first photo with a camera date)."""
        rows: list[PhotoRow | Heading] = []
        month: tuple[int, int] | None = None
        for p in reversed(photos) if oldest_first else photos:
            if (p.taken.year, p.taken.month) != month:
                month = (p.taken.year, p.taken.month)
                rows.append(Heading(*month, age_text(born, p.taken) if p.exif_date else None))
            rows.append(p)
        self._set_rows(rows)

    def photo_ids(self) -> list[int]:
        return [r.photo_id for r in self._rows if isinstance(r, PhotoRow)]

    def headings(self) -> list[str]:
        return [r.text for r in self._rows if isinstance(r, Heading)]

    def row_at(self, row: int) -> PhotoRow | Heading:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if isinstance(r, Heading):
            if role in (
                HeadingRole,
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.AccessibleTextRole,
            ):
                return r.text
            return None
        if role == PhotoIdRole:
            return r.photo_id
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get((self.kind, r.photo_id, self.size)) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            when = r.taken.strftime("%d %B %Y, %H:%M") + ("" if r.exif_date else " (file date)")
            return "\n".join([when, _names(r) or "No one named", r.path])
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"photo taken {r.taken:%d %B %Y}: {_names(r)}"
        return None


class PhotoDelegate(QStyledItemDelegate):
    """A photo tile, or a month heading as wide as the view (so the next photo starts a row)."""

    def __init__(self, size: int, view, parent=None) -> None:
        super().__init__(parent or view)
        self.size = size
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # Asked for every row at each layout (10,000 for a big person): the row, not data().
        model = index.model()
        if isinstance(model, PhotosModel):
            heading = isinstance(model.row_at(index.row()), Heading)
        else:
            heading = index.data(HeadingRole) is not None
        if heading:
            return QSize(max(self.size, self.view.viewport().width() - 4 * self.view.spacing()), 40)
        return QSize(self.size + 6, self.size + 6)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        p.save()
        heading = index.data(HeadingRole)
        if heading is not None:
            paint_heading(p, option, heading)
            p.restore()
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect.adjusted(3, 3, -3, -3)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if pm is not None:
            p.drawPixmap(r, pm)
        if option.state & QStyle.StateFlag.State_Selected:
            p.setPen(QPen(QColor("#4c9bff"), 4))
            p.setBrush(QColor(76, 155, 255, 60))
            p.drawRect(r)
        elif option.state & QStyle.StateFlag.State_HasFocus:
            p.setPen(QPen(QColor("#8fbfff"), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r)
        p.restore()


def _names(photo: PersonPhoto) -> str:
    return ", ".join(q.name or "Unnamed" for q in photo.people)
