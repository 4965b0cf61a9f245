"""Photo and face thumbnails, made on first request into the cache directory.

Files are named after the photo content (and the face box), so a moved photo finds its
thumbnails and a changed one gets new ones; the cache can be deleted at any time. The photo is
opened read-only through ``load_image`` and never modified.

    cache/thumbnails/photos/ab/<content hash>-<size>.jpg
    cache/thumbnails/faces/ab/<content hash>-<left_top_right_bottom>-<size>.jpg
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from PIL import Image

from album.catalog.paths import cache_dir
from album.catalog.records import Face, Photo
from album.catalog.store import Catalog
from album.images import ImageError, load_image


class ThumbnailError(Exception):
    """No thumbnail can be made (photo missing or unreadable); the message says why."""


# Margin around the face box in a face thumbnail, as a fraction of the box's larger side.
FACE_MARGIN = 0.25


class Thumbnails:
    def __init__(self, catalog: Catalog, root: str | os.PathLike[str] | None = None) -> None:
        self.catalog = catalog
        self.root = Path(root) if root is not None else cache_dir() / "thumbnails"

    def photo(self, photo: Photo | int, size: int = 256) -> Path:
        """JPEG of the photo, upright, longer side ``size`` px."""
        p = self._photo(photo)
        out = self.root / "photos" / p.content_hash[:2] / f"{p.content_hash}-{size}.jpg"
        if not out.exists():
            image = self._load(p, size)
            _save(Image.fromarray(image.rgb), out)
        return out

    def face(self, face: Face | int, size: int = 160) -> Path:
        """Square JPEG (``size`` px) of the face with some margin."""
        f = self.catalog.face(face) if isinstance(face, int) else face
        if f is None:
            raise ThumbnailError(f"no face {face}")
        key = "_".join(str(round(v)) for v in f.box)
        out = self.root / "faces" / f.content_hash[:2] / f"{f.content_hash}-{key}-{size}.jpg"
        if out.exists():
            return out
        photos = [p for p in self.catalog.photos_with_content(f.content_hash) if p.status == "done"]
        if not photos:
            raise ThumbnailError("the photo of this face is missing")
        p = photos[0]
        side = max(f.width, f.height) * (1 + 2 * FACE_MARGIN)
        longest = max(p.width or 1, p.height or 1)
        # Decode just big enough for the face to fill ``size`` pixels.
        image = self._load(p, min(longest, math.ceil(longest * size / max(side, 1))))
        s = image.scale
        cx, cy = (f.box[0] + f.box[2]) / 2 * s, (f.box[1] + f.box[3]) / 2 * s
        half = side * s / 2
        crop = Image.fromarray(image.rgb).crop(
            (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
        )
        _save(crop.resize((size, size), Image.Resampling.LANCZOS), out)
        return out

    def _photo(self, photo: Photo | int) -> Photo:
        p = self.catalog.photo(photo) if isinstance(photo, int) else photo
        if p is None or p.content_hash is None or p.status != "done":
            raise ThumbnailError(f"photo {photo} is not readable in the catalog")
        return p

    def _load(self, p: Photo, max_side: int):
        try:
            return load_image(p.path, max_side=max_side)
        except ImageError as exc:
            raise ThumbnailError(f"{p.path}: {exc.reason}") from exc


def _save(im: Image.Image, out: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fp:
            im.convert("RGB").save(fp, "JPEG", quality=85)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
