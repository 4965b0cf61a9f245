"""The base of the grids' item models: a flat list of rows whose thumbnails the cache
delivers later, changed in place (rows removed, moved, inserted) so that selection and scroll
survive an update. The People, faces and photos models build on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from album.gui.roles import Index
from album.gui.thumbs import ThumbnailCache, placeholder


class ThumbListModel(QAbstractListModel):
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

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
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


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of neighbours."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out
