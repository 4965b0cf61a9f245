"""The app's grids of tiles: an icon-mode grid (faces) and a flowing one (people, photos)
whose heading rows span the view, and the painter of those headings."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyleOptionViewItem

_Index = QModelIndex | QPersistentModelIndex
_DECORATION = [Qt.ItemDataRole.DecorationRole.value]


def grid(view: QListView, spacing: int = 6) -> None:
    """Icon-mode grid settings for large models: uniform items, batched layout."""
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setBatchSize(500)
    view.setSpacing(spacing)
    view.setWrapping(True)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.verticalScrollBar().setSingleStep(24)


def flowing(view: QListView) -> None:
    """A grid whose heading rows span the view: list mode flowing left to right, wrapping,
    with per-item sizes (icon mode would give every item the heading's size)."""
    view.setViewMode(QListView.ViewMode.ListMode)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(True)
    view.setUniformItemSizes(False)


class FlowingGrid(QListView):
    """A :func:`grid` made :func:`flowing`, where a tile's new picture repaints that tile.

    In list mode any change of an item's data lays out every item again (their sizes may
    have changed) and repaints the whole view: each thumbnail that arrived cost a layout of
    the whole grid, through the delegate's Python ``sizeHint`` for every row. A picture never
    changes a tile's size here, so a change of the decoration alone only repaints its tile.
    """

    def __init__(self, spacing: int, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        grid(self, spacing)
        flowing(self)

    def dataChanged(
        self, top_left: _Index, bottom_right: _Index, roles: Sequence[int] = ()
    ) -> None:
        if top_left == bottom_right and [int(r) for r in roles] == _DECORATION:
            self.update(top_left)
            return
        super().dataChanged(top_left, bottom_right, roles)


def paint_heading(p: QPainter, option: QStyleOptionViewItem, text: str, scale: float = 1.25):
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
