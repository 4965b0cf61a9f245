"""Lazy thumbnails: requested by the views as items are painted, made in one loader thread
(its own ``Catalog``; the core's ``Thumbnails`` writes the JPEG cache), turned into
``QImage``s there (round for people), and kept as ``QPixmap``s in a bounded cache.

Requests are served newest first, so while the user scrolls the visible items load first;
a request already pending is not queued twice.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QThread, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPixmap

from album.catalog import Catalog
from album.gui.jobs import background_priority
from album.people.overview import best_faces

log = logging.getLogger(__name__)

# Keys: ("face", face_id, size, round), ("person", person_id, size), ("photo", photo_id, size),
# ("tile", photo_id, size): the photo cut to a centred square, for photo grids;
# ("full", photo_id, 0): the photo at its own size (the viewer's 100 %), never cached on disk
Key = tuple
FULL_KEPT = 2  # full-size photos held (tens of MB each)


class _Loader(QThread):
    loaded = Signal(object, QImage)
    failed = Signal(object, str)

    def __init__(self, catalog_path: Path, root: Path | None) -> None:
        super().__init__()
        self.catalog_path = catalog_path
        self.root = root
        self._todo: OrderedDict[Key, None] = OrderedDict()
        self._cv = threading.Condition()
        self._stop = False

    def request(self, key: Key) -> None:
        with self._cv:
            self._todo.pop(key, None)
            self._todo[key] = None  # newest last: served first
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()

    def run(self) -> None:
        # Below the GUI thread's CPU priority, like the jobs (a QThread priority does not
        # change a normal thread's on Linux): decoding covers while a scan keeps the cores
        # busy must not delay the window's repaint of them.
        with background_priority():
            self._serve()

    def _serve(self) -> None:
        from album.scan.thumbnails import ThumbnailError, Thumbnails

        cat = Catalog(self.catalog_path)
        thumbs = Thumbnails(cat, self.root)
        try:
            while True:
                with self._cv:
                    while not self._todo and not self._stop:
                        self._cv.wait()
                    if self._stop:
                        return
                    key, _ = self._todo.popitem(last=True)
                try:
                    image = self._make(cat, thumbs, key)
                except (ThumbnailError, OSError) as exc:
                    self.failed.emit(key, str(exc))
                    continue
                except Exception as exc:  # a bad row must not kill the loader
                    log.exception("thumbnail %s failed", key)
                    self.failed.emit(key, str(exc))
                    continue
                if image is None or image.isNull():
                    self.failed.emit(key, "no image")
                else:
                    self.loaded.emit(key, image)
        finally:
            cat.close()

    def _make(self, cat: Catalog, thumbs, key: Key) -> QImage | None:
        kind = key[0]
        if kind == "photo":
            return QImage(str(thumbs.photo(int(key[1]), int(key[2]))))
        if kind == "tile":
            return _square(
                QImage(str(thumbs.photo(int(key[1]), _photo_px(int(key[2]))))), int(key[2])
            )
        if kind == "full":
            return _full(cat, int(key[1]))
        if kind == "face":
            image = QImage(str(thumbs.face(int(key[1]), _face_px(int(key[2])))))
            return _round(image, int(key[2])) if key[3] else _scaled(image, int(key[2]))
        if kind == "person":
            face_id = _cover_face(cat, int(key[1]))
            if face_id is None:
                return None
            return _round(QImage(str(thumbs.face(face_id, _face_px(int(key[2]))))), int(key[2]))
        return None


def _full(cat: Catalog, photo_id: int) -> QImage | None:
    from album.images import ImageError, load_image
    from album.scan.thumbnails import ThumbnailError

    p = cat.photo(photo_id)
    if p is None or p.status != "done":
        return None
    try:
        rgb = np.ascontiguousarray(load_image(p.path).rgb)
    except ImageError as exc:
        raise ThumbnailError(f"{p.path}: {exc.reason}") from exc
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _face_px(size: int) -> int:
    """Cached JPEG size for a displayed size (few sizes, so the cache is shared)."""
    return 160 if size <= 160 else 320


def _photo_px(size: int) -> int:
    """Cached JPEG size (longer side) for a square tile: its shorter side must cover it."""
    return 256 if size <= 190 else 512


def _cover_face(cat: Catalog, person_id: int) -> int | None:
    """The person's cover: their best face (``album.people.overview.best_faces``)."""
    faces = best_faces(cat, person_id)
    return faces[0] if faces else None


def _scaled(image: QImage, size: int) -> QImage:
    return image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )


def _square(image: QImage, size: int) -> QImage:
    src = _scaled(image, size)
    return src.copy((src.width() - size) // 2, (src.height() - size) // 2, size, size)


def _round(image: QImage, size: int) -> QImage:
    """The image cut to a circle, ``size`` px, transparent outside."""
    src = _scaled(image, size)
    out = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    path = QPainterPath()
    path.addEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    p.setClipPath(path)
    p.drawImage((size - src.width()) // 2, (size - src.height()) // 2, src)
    p.end()
    return out


class ThumbnailCache(QObject):
    """Pixmaps by key, made on demand. ``get`` returns the pixmap or None (and queues it);
    ``ready(key)`` tells the views to repaint that item."""

    ready = Signal(object)

    def __init__(
        self,
        catalog_path: Path,
        root: Path | None = None,
        capacity: int = 2500,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pixmaps: OrderedDict[Key, QPixmap] = OrderedDict()
        # Invalidated with keep_stale: shown until their fresh version arrives.
        self._stale: dict[Key, QPixmap] = {}
        self._pending: set[Key] = set()
        self._failed: set[Key] = set()
        self.capacity = capacity
        self._loader = _Loader(catalog_path, root)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)

    def start(self) -> None:
        """Start making thumbnails (requests made before are kept). Needs no engine:
        ``album.scan.thumbnails`` reads photos with PIL, so this runs before torch loads."""
        if not self._loader.isRunning():
            self._loader.start(QThread.Priority.LowPriority)

    def get(self, key: Key) -> QPixmap | None:
        pm = self._pixmaps.get(key)
        if pm is not None:
            self._pixmaps.move_to_end(key)
            return pm
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._loader.request(key)
        return self._stale.get(key)

    def failed(self, key: Key) -> bool:
        return key in self._failed

    def invalidate(
        self, kind: str | None = None, keep_stale: bool = False, ids: set[int] | None = None
    ) -> None:
        """Forget pixmaps (of one kind: 'person' after covers change; only those of ``ids``
        when given) and failures.

        ``keep_stale``: views keep showing the old pixmaps until the new ones arrive, so a
        refresh that changes few of them (a regrouping during a scan) neither flashes
        placeholders nor makes the views lay out and repaint everything twice."""

        def hit(k: Key) -> bool:
            return (kind is None or k[0] == kind) and (ids is None or k[1] in ids)

        for k in [k for k in self._pixmaps if hit(k)]:
            pm = self._pixmaps.pop(k)
            if keep_stale:
                self._stale[k] = pm
        if not keep_stale:
            self._stale = {k: v for k, v in self._stale.items() if not hit(k)}
        self._failed = {k for k in self._failed if not hit(k)}

    def _on_loaded(self, key: Key, image: QImage) -> None:
        self._pending.discard(key)
        self._stale.pop(key, None)
        self._pixmaps[key] = QPixmap.fromImage(image)
        full = [k for k in self._pixmaps if k[0] == "full"]
        for k in full[: max(0, len(full) - FULL_KEPT)]:
            del self._pixmaps[k]
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)

    def _on_failed(self, key: Key, why: str) -> None:
        self._pending.discard(key)
        self._stale.pop(key, None)
        self._failed.add(key)
        self.ready.emit(key)

    def close(self) -> None:
        self._loader.stop()
        if self._loader.isRunning():
            self._loader.wait(5000)


def placeholder(size: int, round_: bool = True, color: str = "#3a3f47") -> QPixmap:
    """A neutral disc (or square) shown until the thumbnail arrives."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(Qt.PenStyle.NoPen)
    if round_:
        p.drawEllipse(0, 0, size - 1, size - 1)
    else:
        p.drawRoundedRect(0, 0, size - 1, size - 1, 6, 6)
    # a simple head-and-shoulders silhouette
    p.setBrush(QColor("#59606b"))
    r = size * 0.17
    p.drawEllipse(QRectF(size / 2 - r, size * 0.26, 2 * r, 2 * r))
    p.drawEllipse(QRectF(size * 0.22, size * 0.62, size * 0.56, size * 0.5))
    p.end()
    return pm
