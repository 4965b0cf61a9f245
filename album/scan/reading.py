"""Reading one photo file for the scan: its content hash, and its pixels when faces are needed.

Runs in the decode threads (hashing and Pillow's decoders release the GIL). Never raises for a
bad file: the problem is returned as a short reason. Files are only ever opened for reading.

Photo identity is the blake2b-256 hash of the whole file. Hashing a 5 MB JPEG takes about
5 ms here, a tenth of its reduced decode and a small fraction of face detection, so a
partial hash (first/last MB) would save nothing that matters and would miss edits in the
middle of a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Container
from dataclasses import dataclass

import numpy as np
from PIL import Image

from album.images import ImageError, LoadedImage, load_image
from album.scan.walker import FileEntry

log = logging.getLogger(__name__)

CHANGED_DURING_SCAN = "file changed while it was being read; it will be read again next scan"
DISAPPEARED = "file disappeared during the scan"


@dataclass
class Prepared:
    """A file after the decode stage.

    ``image`` is None when the content is already catalogued (a moved, copied or touched
    file) or when the file could not be read (``error`` says why). ``detect_rgb`` is
    ``image.rgb`` reduced to the detection size.
    """

    entry: FileEntry
    size: int
    mtime_ns: int
    content_hash: str | None = None
    image: LoadedImage | None = None
    detect_rgb: np.ndarray | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def path(self) -> str:
        return self.entry.path


def content_hash(fp) -> str:
    return hashlib.file_digest(fp, lambda: hashlib.blake2b(digest_size=32)).hexdigest()


def _explain(path: str) -> str:
    """Why ``path`` cannot be read. ``load_image`` is the one place that words file problems
    (broken link, permission, FIFO, empty...), so ask it; it only reads."""
    try:
        load_image(path, max_side=16)
    except ImageError as exc:
        return DISAPPEARED if exc.reason == "file not found" else exc.reason
    except Exception as exc:  # a bug in a decoder must not stop the scan
        return f"unexpected error ({type(exc).__name__}: {exc})"
    return "cannot read file"


def reduce_to(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """``rgb`` with its longer side at most ``max_side``: averaged over whole blocks of pixels
    as far as that goes, then resized bilinearly the rest of the way. (A 2000 px photo to
    1000 px is then one 2x2 average: 1.5 ms, where an antialiased bilinear resize took 17.)"""
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    image = Image.fromarray(rgb)
    block = int(max(h, w) // max_side)
    if block >= 2:
        image = image.reduce(block)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image)


def read_photo(
    entry: FileEntry,
    known_content: Container[str],
    decode_side: int,
    detect_side: int,
    expect: tuple[int, int] | None = None,
) -> Prepared:
    """Hash ``entry``'s file and, unless its hash is in ``known_content``, decode it.

    ``expect`` (size, mtime_ns): refuse the file if it no longer matches (re-embedding reads
    photos whose faces were found earlier; a changed file needs a rescan first).
    """
    start = time.perf_counter()
    path = entry.path
    out = Prepared(entry, entry.size, entry.mtime_ns)
    try:
        try:
            st = os.stat(path)
        except OSError:
            out.error = _explain(path)
            return out
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            out.error = _explain(path)  # never open a FIFO: it would block
            return out
        try:
            with open(path, "rb") as fp:
                before = os.fstat(fp.fileno())
                out.size, out.mtime_ns = before.st_size, before.st_mtime_ns
                out.content_hash = content_hash(fp)
        except OSError:
            out.error = _explain(path)
            return out
        if expect is not None and expect != (out.size, out.mtime_ns):
            out.error = "file changed since it was scanned; rescan first"
            return out
        if out.content_hash in known_content:
            return out
        try:
            image = load_image(path, max_side=decode_side)
        except ImageError as exc:
            out.error = DISAPPEARED if exc.reason == "file not found" else exc.reason
            return out
        try:
            after = os.stat(path)
        except OSError:
            out.error = DISAPPEARED
            return out
        if (after.st_size, after.st_mtime_ns, after.st_ino) != (
            before.st_size,
            before.st_mtime_ns,
            before.st_ino,
        ):
            # The pixels may not be the bytes that were hashed.
            out.error = CHANGED_DURING_SCAN
            return out
        out.image = image
        out.detect_rgb = reduce_to(image.rgb, detect_side)
        return out
    except Exception as exc:  # one odd file must not stop a scan of thousands
        log.exception("unexpected error reading %r", path)
        out.error = f"unexpected error ({type(exc).__name__}: {exc})"
        out.image = out.detect_rgb = None
        return out
    finally:
        out.seconds = time.perf_counter() - start
