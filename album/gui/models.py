"""Qt item models over the people service, and the delegates that paint their items.

The models hold only ids, names and counts (one query each); thumbnails are asked of the
``ThumbnailCache`` when an item is painted, so thousands of items cost nothing up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from album.gui.thumbs import ThumbnailCache, placeholder
from album.people.overview import PersonOverview, folded, split_people
from album.people.photos import PersonPhoto

PersonIdRole = Qt.ItemDataRole.UserRole + 1
CountRole = Qt.ItemDataRole.UserRole + 2
NameRole = Qt.ItemDataRole.UserRole + 3
FaceIdRole = Qt.ItemDataRole.UserRole + 4
SourceRole = Qt.ItemDataRole.UserRole + 5
PhotoIdRole = Qt.ItemDataRole.UserRole + 6
HeadingRole = Qt.ItemDataRole.UserRole + 7
SectionRole = Qt.ItemDataRole.UserRole + 8  # the "More people" row: its Section
FoldedRole = Qt.ItemDataRole.UserRole + 9  # a person under "More people"

_Index = QModelIndex | QPersistentModelIndex
_TEXT_ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole))


class _ThumbListModel(QAbstractListModel):
    """A flat list of rows, each shown with a thumbnail that the cache delivers later.

    Subclasses set ``kind`` (the thumbnail key's first item) and give each row's id through
    ``_key_of``; a delivered thumbnail repaints just its row. Rows of type ``heading`` are
    shown but cannot be selected.
    """

    kind = ""
    heading: type | None = None

    def __init__(self, thumbs: ThumbnailCache, size: int, round_: bool, parent=None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.size = size
        self._rows: list = []
        self._row_of: dict[int, int] = {}
        self._placeholder = placeholder(size, round_=round_)
        thumbs.ready.connect(self._thumb_ready)

    def _key_of(self, row) -> int:
        raise NotImplementedError

    def _set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self._rows = rows
        self._row_of = {self._key_of(r): i for i, r in enumerate(rows)}
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if (
            index.isValid()
            and self.heading is not None
            and isinstance(self._rows[index.row()], self.heading)
        ):
            return Qt.ItemFlag.ItemIsEnabled
        return super().flags(index)

    def _thumb_ready(self, key: tuple) -> None:
        if key[0] == self.kind and key[2] == self.size:
            row = self._row_of.get(key[1])
            if row is not None:
                ix = self.index(row)
                self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole])


@dataclass(frozen=True)
class Section:
    """The "More people" heading: ``count`` people seen in few photos, folded below it."""

    count: int

    def text(self, expanded: bool) -> str:
        return (
            f"{'▾' if expanded else '▸'}  More people · {self.count} seen in only one or two photos"
        )


class PeopleModel(_ThumbListModel):
    """People in the chosen order; those seen in few photos after a "More people" row (the
    filter folds them). Hidden people are left out by the core's query."""

    kind = "person"
    heading = Section

    def __init__(self, thumbs: ThumbnailCache, size: int = 112, parent=None) -> None:
        super().__init__(thumbs, size, True, parent)
        self.sort = "photos"
        self._people: list[PersonOverview] = []

    def _key_of(self, row: PersonOverview | Section) -> int:
        return row.id if isinstance(row, PersonOverview) else -1

    def set_people(self, rows: list[PersonOverview], sort: str | None = None) -> None:
        self._people = list(rows)
        self.sort = sort or self.sort
        shown, more = split_people(self._people, self.sort)
        self._set_rows([*shown, Section(len(more)), *more] if more else shown)

    def set_sort(self, sort: str) -> None:
        self.set_people(self._people, sort)

    def people(self) -> list[PersonOverview]:
        """Every person in the model, folded ones included, in order."""
        return [r for r in self._rows if isinstance(r, PersonOverview)]

    def person_at(self, row: int) -> PersonOverview:
        r = self._rows[row]
        if not isinstance(r, PersonOverview):
            raise IndexError(f"row {row} is the 'More people' heading")
        return r

    def row_of(self, person_id: int) -> int | None:
        return self._row_of.get(person_id)

    def section_row(self) -> int | None:
        return self._row_of.get(-1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if isinstance(r, Section):
            if role == SectionRole:
                return r
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return r.text(False)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return r.label
        if role == NameRole:
            return r.name or ""
        if role == CountRole:
            return r.photos
        if role == PersonIdRole:
            return r.id
        if role == FoldedRole:
            return folded(r) and self.section_row() is not None
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get(("person", r.id, self.size)) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{r.label}: {r.photos} photo{'s' if r.photos != 1 else ''}"
            if r.latest is not None and r.latest.year > 1970:
                tip += f", the latest from {r.latest:%B %Y}"
            return tip
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.label}, {r.photos} photos"
        return None


class PeopleFilter(QSortFilterProxyModel):
    """Search by name (case-insensitive substring; unnamed people match an empty search), and
    the "More people" fold: folded people show only when it is open."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self.expanded = False

    def _change(self, apply) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            apply()
            self.endFilterChange()
        else:
            apply()
            self.invalidateFilter()

    def set_text(self, text: str) -> None:
        self._change(lambda: setattr(self, "_text", text.strip().lower()))

    def set_expanded(self, on: bool) -> None:
        self._change(lambda: setattr(self, "expanded", on))

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        index = self.sourceModel().index(row, 0, parent)
        if index.data(SectionRole) is not None:
            return not self._text  # a search shows its matches, folded or not
        if not self._text:
            return self.expanded or not index.data(FoldedRole)
        name = index.data(NameRole) or ""
        return self._text in name.lower()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if role in _TEXT_ROLES and index.isValid():  # the heading says whether it is open
            section = super().data(index, SectionRole)
            if section is not None:
                return section.text(self.expanded)
        return super().data(index, role)


class PersonDelegate(QStyledItemDelegate):
    """A round face, the name, and the photo count under it; the "More people" row as wide
    as the view (``view`` given), so the folded people start a row of their own."""

    def __init__(self, size: int = 112, parent=None, view=None) -> None:
        super().__init__(parent)
        self.size = size
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        if self.view is not None and index.data(SectionRole) is not None:
            return QSize(max(self.size, self.view.viewport().width() - 4 * self.view.spacing()), 44)
        return QSize(self.size + 36, self.size + 58)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        p.save()
        if index.data(SectionRole) is not None:
            _paint_heading(p, option, index.data(Qt.ItemDataRole.DisplayRole) or "", 1.1)
            p.restore()
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        if selected or focused:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#2f4d75") if selected else QColor("#30343b"))
            p.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 10, 10)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        x = rect.x() + (rect.width() - self.size) // 2
        y = rect.y() + 8
        if pm is not None:
            p.drawPixmap(x, y, self.size, self.size, pm)
        name = index.data(Qt.ItemDataRole.DisplayRole) or ""
        count = int(index.data(CountRole) or 0)
        unnamed = not index.data(NameRole)
        font = QFont(option.font)
        font.setBold(not unnamed)
        font.setItalic(unnamed)
        p.setFont(font)
        p.setPen(QColor("#9aa3ad") if unnamed else QColor("#eef1f4"))
        text_rect = QRect(rect.x() + 4, y + self.size + 6, rect.width() - 8, 20)
        elided = p.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, text_rect.width())
        p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, elided)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        p.setFont(small)
        p.setPen(QColor("#8b949e"))
        p.drawText(
            QRect(rect.x(), y + self.size + 26, rect.width(), 18),
            Qt.AlignmentFlag.AlignHCenter,
            f"{count} photo{'s' if count != 1 else ''}",
        )
        p.restore()


@dataclass(frozen=True)
class FaceRow:
    face_id: int
    source: str  # confirmed, automatic, suggested
    confidence: float | None


class FacesModel(_ThumbListModel):
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

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
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

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(self.size + 12, self.size + 12)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
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


# A photo in a grid: the core's record as it is (photo_id, path, taken, exif_date, people).
PhotoRow = PersonPhoto


@dataclass(frozen=True)
class Heading:
    year: int
    month: int

    @property
    def text(self) -> str:
        return datetime(self.year, self.month, 1).strftime("%B %Y") if self.year > 1 else "Undated"


class PhotosModel(_ThumbListModel):
    """Whole photos (square tiles), newest first, each month under a heading row of its own."""

    kind = "tile"
    heading = Heading

    def __init__(self, thumbs: ThumbnailCache, size: int = 160, parent=None) -> None:
        super().__init__(thumbs, size, False, parent)

    def _key_of(self, row: PhotoRow | Heading) -> int:
        # Headings get negative keys so they never meet a photo id in ``_row_of``.
        return row.photo_id if isinstance(row, PhotoRow) else -(row.year * 100 + row.month)

    def set_photos(self, photos: list[PhotoRow]) -> None:
        """``photos`` newest first (as the core's query gives them)."""
        rows: list[PhotoRow | Heading] = []
        month: tuple[int, int] | None = None
        for p in photos:
            if (p.taken.year, p.taken.month) != month:
                month = (p.taken.year, p.taken.month)
                rows.append(Heading(*month))
            rows.append(p)
        self._set_rows(rows)

    def photo_ids(self) -> list[int]:
        return [r.photo_id for r in self._rows if isinstance(r, PhotoRow)]

    def headings(self) -> list[str]:
        return [r.text for r in self._rows if isinstance(r, Heading)]

    def row_at(self, row: int) -> PhotoRow | Heading:
        return self._rows[row]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
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

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        if index.data(HeadingRole) is not None:
            return QSize(max(self.size, self.view.viewport().width() - 4 * self.view.spacing()), 40)
        return QSize(self.size + 6, self.size + 6)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        p.save()
        heading = index.data(HeadingRole)
        if heading is not None:
            _paint_heading(p, option, heading)
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


def _paint_heading(p: QPainter, option: QStyleOptionViewItem, text: str, scale: float = 1.25):
    """A bold heading at the bottom left of its (full-width) item."""
    f = QFont(option.font)
    f.setBold(True)
    f.setPointSizeF(f.pointSizeF() * scale)
    p.setFont(f)
    p.setPen(option.palette.color(option.palette.ColorRole.WindowText))
    p.drawText(
        option.rect.adjusted(4, 0, 0, -6),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
        text,
    )


def _names(photo: PersonPhoto) -> str:
    return ", ".join(q.name or "Unnamed" for q in photo.people)
