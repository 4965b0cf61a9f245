"""The app's data files (icons, style sheet, desktop entry), shipped inside the package.

Found with :mod:`importlib.resources`, so an editable checkout, a wheel, a zip or ``pipx``
all see the same files; nothing here is located relative to the source tree. Qt-free.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

APP_ID = "album"  # the desktop entry's id (album.desktop) and the themed icon's name

_extracted = contextlib.ExitStack()  # files copied out of a zip live until exit
atexit.register(_extracted.close)


def resource(*parts: str) -> Traversable:
    """The packaged file ``parts`` (e.g. ``"icons", "app.svg"``); it may not exist."""
    return files(__name__).joinpath(*parts)


def resource_path(*parts: str) -> Path | None:
    """A file-system path to the packaged file ``parts`` (Qt loads icons by path), or None
    when there is no such file. Files inside a zipped install are extracted once."""
    item = resource(*parts)
    if not item.is_file():
        return None
    if isinstance(item, Path):
        return item
    return _extracted.enter_context(as_file(item))


def stylesheet() -> str:
    """The app's Qt style sheet."""
    return resource("style.qss").read_text(encoding="utf-8")


def icon_names() -> list[str]:
    """The packaged icons' names (``app``, ``back``, ...)."""
    return sorted(p.name[:-4] for p in resource("icons").iterdir() if p.name.endswith(".svg"))
