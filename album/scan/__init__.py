"""Scanning photo folders into the catalog (no Qt): walker, read/detect/embed pipeline,
re-embedding after a model switch, and lazily generated thumbnails.

The names below are imported on first use, so ``album.scan.work`` or ``album.scan.thumbnails``
can be used without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ModelMismatchError": "album.scan.pipeline",
    "Scanner": "album.scan.pipeline",
    "ScanSettings": "album.scan.pipeline",
    "ScanSummary": "album.scan.pipeline",
    "ScanControl": "album.scan.work",
    "ScanProgress": "album.scan.work",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'album.scan' has no attribute {name!r}")
