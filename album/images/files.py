"""The file-system side of opening a photo: checks before anything is read.

A photo is only ever opened read-only, and only once it is known to be a non-empty regular
file (opening a FIFO would block forever); every failure becomes an :class:`ImageError`.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from album.images.errors import ImageError


def extension(path: str | os.PathLike[str] | bytes) -> str:
    """The lower-case extension of ``path``, with the dot ("" when there is none)."""
    return os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower()


def check_path(path: str | os.PathLike[str] | bytes) -> str | bytes:
    """Validate that ``path`` names a non-empty regular file; return it as str/bytes."""
    fspath = os.fspath(path)
    try:
        st = os.stat(fspath)
    except FileNotFoundError as e:
        if os.path.islink(fspath):
            raise ImageError("broken symbolic link", fspath) from e
        raise ImageError("file not found", fspath) from e
    except NotADirectoryError as e:
        raise ImageError("file not found", fspath) from e
    except PermissionError as e:
        raise ImageError("permission denied", fspath) from e
    except ValueError as e:  # e.g. embedded NUL character
        raise ImageError("invalid file name", fspath) from e
    except OSError as e:
        raise ImageError(f"cannot access file ({e.strerror or e})", fspath) from e
    if stat.S_ISDIR(st.st_mode):
        raise ImageError("is a directory, not an image file", fspath)
    if not stat.S_ISREG(st.st_mode):
        # FIFOs, sockets, devices: opening a FIFO would block forever.
        raise ImageError("not a regular file", fspath)
    if st.st_size == 0:
        raise ImageError("file is empty", fspath)
    return fspath


def open_file(fspath: str | bytes) -> BinaryIO:
    """Open read-only; the caller closes it (with-statement)."""
    try:
        return open(fspath, "rb")
    except PermissionError as e:
        raise ImageError("permission denied", fspath) from e
    except IsADirectoryError as e:
        raise ImageError("is a directory, not an image file", fspath) from e
    except FileNotFoundError as e:
        raise ImageError("file not found", fspath) from e
    except OSError as e:
        raise ImageError(f"cannot read file ({e.strerror or e})", fspath) from e
