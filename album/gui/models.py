"""Qt item models over the people service, and the delegates that paint their items.

The models hold only ids, names and counts (one query each); thumbnails are asked of the
``ThumbnailCache`` when an item is painted, so thousands of items cost nothing up front.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap, QRegion
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from album.gui.thumbs import ThumbnailCache, placeholder
from album.people.ages import age_text
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
        self._reindex()
        self.endResetModel()

    def _reindex(self, keys: list[int] | None = None) -> None:
        if keys is None:
            keys = [self._key_of(r) for r in self._rows]
        self._row_of = dict(zip(keys, range(len(keys)), strict=True))

    def _update_rows(self, rows: list, changed: Callable[[Any, Any], bool] | None = None) -> None:
        """Turn the rows into ``rows`` (unique keys) in place: rows gone are removed, kept
        rows put in their new order (one layout change, only if it changed), new rows
        inserted where they go, and rows whose value changed (``changed(old, new)``,
        default ``!=``) repainted. Selection, the current item and the scroll position
        follow the kept rows (persistent indexes), and a proxy or view above handles just
        the rows that changed instead of everything, as a reset would make it. ``data``
        must not read ``_row_of`` meanwhile (it is rebuilt once per step)."""
        if not self._rows or not rows:
            self._set_rows(list(rows))
            return
        changed = changed or (lambda a, b: a != b)
        key = self._key_of
        new_keys = [key(r) for r in rows]
        wanted = set(new_keys)
        keys = [key(r) for r in self._rows]
        # Removals, bottom up, a run of neighbouring rows at a time.
        i = len(keys) - 1
        while i >= 0:
            if keys[i] in wanted:
                i -= 1
                continue
            j = i
            while j > 0 and keys[j - 1] not in wanted:
                j -= 1
            self.beginRemoveRows(QModelIndex(), j, i)
            del self._rows[j : i + 1], keys[j : i + 1]
            self.endRemoveRows()
            i = j - 1
        self._reindex(keys)
        # The kept rows in their new order, with their new values.
        new_of = dict(zip(new_keys, rows, strict=True))
        kept = set(keys)
        order = [k for k in new_keys if k in kept]
        old_rows = dict(zip(keys, self._rows, strict=True))
        if order != keys:
            self.layoutAboutToBeChanged.emit()
            moved = {k: i for i, k in enumerate(order)}
            before = self.persistentIndexList()
            after = [self.index(moved[keys[ix.row()]]) for ix in before]
            self._rows = [new_of[k] for k in order]
            self._reindex(order)
            self.changePersistentIndexList(before, after)
            self.layoutChanged.emit()
        else:
            self._rows = [new_of[k] for k in order]
        # Insertions, top down: rows before each run are in place already.
        i = 0
        while i < len(new_keys):
            if new_keys[i] in kept:
                i += 1
                continue
            j = i
            while j + 1 < len(new_keys) and new_keys[j + 1] not in kept:
                j += 1
            self.beginInsertRows(QModelIndex(), i, j)
            self._rows[i:i] = rows[i : j + 1]
            self.endInsertRows()
            i = j + 1
        self._reindex(new_keys)
        # Kept rows whose text, count or fold changed: repaint (and re-filter) just those.
        dirty = [i for i, k in enumerate(new_keys) if k in kept and changed(old_rows[k], rows[i])]
        for first, last in _runs(dirty):
            self.dataChanged.emit(self.index(first), self.index(last), [])

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

    updated = Signal()  # after each set_people: the rows are the new ones

    def __init__(self, thumbs: ThumbnailCache, size: int = 112, parent=None) -> None:
        super().__init__(thumbs, size, True, parent)
        self.sort = "photos"
        self._people: list[PersonOverview] = []
        self._folding = False  # a "More people" row is there: few-photo people fold under it

    def _key_of(self, row: PersonOverview | Section) -> int:
        return row.id if isinstance(row, PersonOverview) else -1

    def set_people(self, rows: list[PersonOverview], sort: str | None = None) -> None:
        """Show ``rows`` in the order ``sort`` (default: the current one). Applied as a
        difference from the rows shown (see ``_update_rows``): a regrouping during a scan
        changes a few people among hundreds, and the grid keeps its selection and scroll."""
        self._people = list(rows)
        self.sort = sort or self.sort
        shown, more = split_people(self._people, self.sort)
        was_folding, self._folding = self._folding, bool(more)

        def changed(old: PersonOverview | Section, new: PersonOverview | Section) -> bool:
            # Whether a few-photo person folds also follows the "More people" row.
            return old != new or (
                was_folding != self._folding and isinstance(new, PersonOverview) and folded(new)
            )

        self._update_rows([*shown, Section(len(more)), *more] if more else shown, changed)
        self.updated.emit()

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

    def cover(self, r: PersonOverview) -> QPixmap:
        """The person's round face (queued when not made yet: the placeholder meanwhile)."""
        return self.thumbs.get(("person", r.id, self.size)) or self._placeholder

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
            return self._folding and folded(r)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.cover(r)
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
        # Called for every row on each change: the row itself, not index.data() per role.
        source = self.sourceModel()
        r = source._rows[row] if isinstance(source, PeopleModel) else None
        if r is None:
            return True
        if isinstance(r, Section):
            return not self._text  # a search shows its matches, folded or not
        if not self._text:
            return self.expanded or not (source._folding and folded(r))
        return self._text in (r.name or "").lower()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if role in _TEXT_ROLES and index.isValid():  # the heading says whether it is open
            section = super().data(index, SectionRole)
            if section is not None:
                return section.text(self.expanded)
        return super().data(index, role)


def _person_row(index: _Index) -> tuple[PeopleModel | None, PersonOverview | Section | None]:
    """The People model and its row behind ``index`` (of the model or of a proxy over it)."""
    model = index.model()
    if isinstance(model, QSortFilterProxyModel):
        index, model = model.mapToSource(index), model.sourceModel()
    if isinstance(model, PeopleModel) and 0 <= index.row() < len(model._rows):
        return model, model._rows[index.row()]
    return None, None


class PersonDelegate(QStyledItemDelegate):
    """A round face, the name, and the photo count under it; the "More people" row as wide
    as the view (``view`` given), so the folded people start a row of their own.

    Each person's tile is drawn once into a pixmap and reused until what it shows changes
    (cover, name, count, selection, size): a repaint of the grid is then one Qt call per
    person, not twenty, which matters while a scan's threads keep the CPUs busy."""

    TILES_KEPT = 120  # about three screens of people (100 KB each)
    # Time for new tiles per pass of the event loop; the rest are drawn on later passes, so
    # that a grid shown or scrolled at once never blocks the loop for long (about 20 tiles).
    RENDER_BUDGET = 0.005
    # The tiles left blank are repainted alone by a short timer, after the timers and input
    # that are due by then: not the whole grid again, straight after the first repaint.
    DEFERRED_DELAY_MS = 1

    def __init__(self, size: int = 112, parent=None, view=None) -> None:
        super().__init__(parent)
        self.size = size
        self.view = view
        self._tiles: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._item = QSize(size + 36, size + 58)
        self._watched = None  # the model whose "More people" row is remembered
        self._spent = 0.0  # seconds of new tiles in this pass of the event loop
        self._deferred: list[QPersistentModelIndex] = []  # tiles left blank in this pass
        self._section: int | None = -2  # its row there (None: none; -2: not known)

    def _forget_section(self, *args) -> None:
        self._section = -2

    def _section_row(self, model) -> int | None:
        """The row of "More people" in ``model`` (the view's), remembered until its rows
        change: a layout asks every row's size several times."""
        if model is not self._watched:
            self._watched = model
            for signal in (
                model.rowsInserted,
                model.rowsRemoved,
                model.rowsMoved,
                model.layoutChanged,
                model.modelReset,
            ):
                signal.connect(self._forget_section)
            self._section = -2
        if self._section == -2:
            source, proxy = model, None
            if isinstance(model, QSortFilterProxyModel):
                source, proxy = model.sourceModel(), model
            row = source.section_row() if isinstance(source, PeopleModel) else None
            if row is not None and proxy is not None:
                row = proxy.mapFromSource(source.index(row)).row()
                row = None if row < 0 else row
            self._section = row
        return self._section

    def _next_pass(self) -> None:
        self._spent = 0.0
        if self._deferred:
            QTimer.singleShot(self.DEFERRED_DELAY_MS, self._draw_deferred)

    def _draw_deferred(self) -> None:
        """Repaint just the tiles left blank (where they are now: the view may have
        scrolled), not the whole grid again."""
        deferred, self._deferred = self._deferred, []
        if self.view is None or not shiboken6.isValid(self.view):
            return
        region = QRegion()
        for ix in deferred:
            if ix.isValid():
                region = region.united(self.view.visualRect(QModelIndex(ix)))
        if not region.isEmpty():
            self.view.viewport().update(region)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        # Asked for every row, several times per layout: no Python work per row beyond this.
        if self.view is not None and index.row() == self._section_row(index.model()):
            return QSize(max(self.size, self.view.viewport().width() - 4 * self.view.spacing()), 44)
        return self._item

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        model, r = _person_row(index)
        if r is None:
            return
        if isinstance(r, Section):
            p.save()
            _paint_heading(p, option, index.data(Qt.ItemDataRole.DisplayRole) or "", 1.1)
            p.restore()
            return
        pm = model.cover(r) if model is not None else None
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        rect = option.rect
        ratio = p.device().devicePixelRatioF()
        key = (
            r.id,
            r.label,
            r.photos,
            r.name is None,
            pm.cacheKey() if pm is not None else 0,
            selected,
            focused,
            rect.width(),
            rect.height(),
            ratio,
            option.font.key(),
        )
        tile = self._tiles.get(key)
        if tile is None:
            if self._spent >= self.RENDER_BUDGET and self.view is not None:
                self._deferred.append(QPersistentModelIndex(index))  # blank until then
                return
            if self._spent == 0.0:
                QTimer.singleShot(0, self._next_pass)
            started = time.perf_counter()
            tile = QPixmap(QSize(rect.width(), rect.height()) * ratio)
            tile.setDevicePixelRatio(ratio)
            # Opaque on the view's background: copied to the screen, not blended (ten times faster).
            vp = self.view.viewport() if self.view is not None else None
            tile.fill(vp.palette().color(vp.backgroundRole()) if vp else Qt.GlobalColor.transparent)
            tp = QPainter(tile)
            area = QRect(0, 0, rect.width(), rect.height())
            self._draw(tp, area, option, r, pm, selected, focused)
            tp.end()
            self._tiles[key] = tile
            while len(self._tiles) > self.TILES_KEPT:
                self._tiles.popitem(last=False)
            # Never 0 after a tile: the next one must not schedule another pass.
            self._spent += max(time.perf_counter() - started, 1e-9)
        else:
            self._tiles.move_to_end(key)
        p.drawPixmap(rect.topLeft(), tile)

    def _draw(
        self,
        p: QPainter,
        rect: QRect,
        option: QStyleOptionViewItem,
        r: PersonOverview,
        pm: QPixmap | None,
        selected: bool,
        focused: bool,
    ) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or focused:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#2f4d75") if selected else QColor("#30343b"))
            p.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 10, 10)
        x = rect.x() + (rect.width() - self.size) // 2
        y = rect.y() + 8
        if pm is not None:
            p.drawPixmap(x, y, self.size, self.size, pm)
        name, count, unnamed = r.label, r.photos, not r.name
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
    age: str | None = None  # the person's age that month, when their birth date is known

    @property
    def text(self) -> str:
        if self.year <= 1:
            return "Undated"
        month = datetime(self.year, self.month, 1).strftime("%B %Y")
        return f"{month} · {self.age}" if self.age else month


class PhotosModel(_ThumbListModel):
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
        # Asked for every row at each layout (10,000 for a big person): the row, not data().
        model = index.model()
        if isinstance(model, PhotosModel):
            heading = isinstance(model.row_at(index.row()), Heading)
        else:
            heading = index.data(HeadingRole) is not None
        if heading:
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


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of neighbours."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _names(photo: PersonPhoto) -> str:
    return ", ".join(q.name or "Unnamed" for q in photo.people)
