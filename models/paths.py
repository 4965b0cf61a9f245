"""Where model weights live: ``$ALBUM_MODELS_DIR``, else the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def models_dir() -> Path:
    """Directory for downloaded, imported and trained weights (created on demand by writers)."""
    env = os.environ.get("ALBUM_MODELS_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("album", appauthor=False)) / "models"
