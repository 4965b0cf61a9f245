"""Where the catalog and the cache live.

``$ALBUM_HOME`` (set by tests and portable installs) holds both; otherwise the platform's user
data directory holds the catalog and its user cache directory the thumbnails.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "album"


def data_dir() -> Path:
    """Directory of the default catalog (not created here)."""
    home = os.environ.get("ALBUM_HOME")
    if home:
        return Path(home)
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_catalog_path() -> Path:
    """The catalog used when ``--library`` is not given."""
    return data_dir() / "catalog.db"


def cache_dir() -> Path:
    """Directory for recomputable files (thumbnails); safe to delete at any time."""
    home = os.environ.get("ALBUM_HOME")
    if home:
        return Path(home) / "cache"
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))
