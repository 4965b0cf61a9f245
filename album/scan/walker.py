"""Finding the photo files under the folders the user added.

Directory symlinks are followed, but each real directory (device, inode) is entered once, so
symlink loops and links to an ancestor end the walk instead of repeating it. Hidden files and
folders (name starting with '.') are skipped: they hold caches and sidecar junk such as macOS
'._IMG_0001.jpg' files, not photos. Any non-directory entry with a photo extension is listed,
including broken links, FIFOs and unreadable files, so the scan can record why it cannot read
them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from album.images import is_supported

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileEntry:
    """A file to look at. ``size`` and ``mtime_ns`` come from ``stat`` (``lstat`` when the
    target cannot be reached, e.g. a broken link), so an unchanged file compares equal."""

    path: str  # absolute
    root: str  # the scanned folder it was found under
    size: int
    mtime_ns: int


def is_under(path: str, root: str) -> bool:
    """True if ``path`` is ``root`` or inside it (plain path comparison, no file access)."""
    if path == root:
        return True
    prefix = root if root.endswith(os.sep) else root + os.sep
    return path.startswith(prefix)


def _entry(path: str, root: str) -> FileEntry:
    try:
        st = os.stat(path)
    except OSError:
        try:
            st = os.lstat(path)
        except OSError:
            return FileEntry(path, root, 0, 0)
    return FileEntry(path, root, st.st_size, st.st_mtime_ns)


def walk(roots: Iterable[str | os.PathLike[str]]) -> Iterator[FileEntry]:
    """Photo files under ``roots`` (folders or single files), in a stable order.

    Names are visited sorted; each path is yielded once even if roots overlap. Folders that
    cannot be listed are logged and skipped.
    """
    visited: set[tuple[int, int]] = set()
    yielded: set[str] = set()
    for root_like in roots:
        root = os.path.abspath(os.fspath(root_like))
        if not os.path.isdir(root):
            if os.path.lexists(root) and root not in yielded:
                yielded.add(root)
                yield _entry(root, root)
            continue
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
            except OSError as exc:
                log.warning("cannot enter %r: %s", folder, exc)
                continue
            key = (st.st_dev, st.st_ino)
            if key in visited:
                log.info("already visited (symlink loop or duplicate link): %r", folder)
                continue
            visited.add(key)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                log.warning("cannot list %r: %s", folder, exc)
                continue
            subfolders = []
            for e in entries:
                if e.name.startswith("."):
                    continue
                if _is_dir(e):
                    subfolders.append(e.path)
                elif is_supported(e.name) and e.path not in yielded:
                    yielded.add(e.path)
                    yield _entry(e.path, root)
            stack.extend(reversed(subfolders))  # pop() then visits them in name order


def _is_dir(entry: os.DirEntry) -> bool:
    """Directory, or a symlink to one; False for broken links and link loops."""
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False
