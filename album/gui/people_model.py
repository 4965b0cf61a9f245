"""The People grid's rows: people in the chosen order with the "More people" heading over
those seen in few photos, the filter that searches them by name and folds that heading, and
the delegate that paints each person's tile (drawn once, reused until it changes).

The model holds only ids, names and counts; covers are asked of the ``ThumbnailCache`` when a
tile is painted, so thousands of people cost nothing up front.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap, QRegion
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from album.gui.grids import paint_heading
from album.gui.roles import (
    CountRole,
    FoldedRole,
    Index,
    NameRole,
    PersonIdRole,
    SectionRole,
)
from album.gui.thumb_list import ThumbListModel
from album.gui.thumbs import ThumbnailCache
from album.people.overview import PersonOverview, folded, split_people

_TEXT_ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole))


@dataclass(frozen=True)
class Section:
    """The "More people" heading: ``count`` people seen in few photos, folded below it."""

    count: int

    def text(self, expanded: bool) -> str:
        return (
            f"{'▾' if expanded else '▸'}  More people · {self.count} seen in only one or two photos"
        )


class PeopleModel(ThumbListModel):
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

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
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

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
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

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if role in _TEXT_ROLES and index.isValid():  # the heading says whether it is open
            section = super().data(index, SectionRole)
            if section is not None:
                return section.text(self.expanded)
        return super().data(index, role)


def _person_row(index: Index) -> tuple[PeopleModel | None, PersonOverview | Section | None]:
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

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # Asked for every row, several times per layout: no Python work per row beyond this.
        if self.view is not None and index.row() == self._section_row(index.model()):
            return QSize(max(self.size, self.view.viewport().width() - 4 * self.view.spacing()), 44)
        return self._item

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        model, r = _person_row(index)
        if r is None:
            return
        if isinstance(r, Section):
            p.save()
            paint_heading(p, option, index.data(Qt.ItemDataRole.DisplayRole) or "", 1.1)
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
