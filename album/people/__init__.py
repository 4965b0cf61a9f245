"""People: clustering, recognition and the user's operations on people.

>>> from album.people import PeopleService
>>> people = PeopleService(catalog)

The public names load on first use (``album.people.service`` pulls in scipy and the
clustering libraries), so importing a submodule such as ``album.people.export`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from album.people.errors import ConstraintError, PeopleError
    from album.people.service import PeopleService, ReclusterSummary
    from album.people.settings import PeopleSettings

_PUBLIC = {
    "PeopleService": "album.people.service",
    "PeopleSettings": "album.people.settings",
    "ReclusterSummary": "album.people.service",
    "PeopleError": "album.people.errors",
    "ConstraintError": "album.people.errors",
}

__all__ = [
    "ConstraintError",
    "PeopleError",
    "PeopleService",
    "PeopleSettings",
    "ReclusterSummary",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'album.people' has no attribute {name!r}")
