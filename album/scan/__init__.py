"""Scanning photo folders into the catalog (no Qt): walker, read/detect/embed pipeline,
re-embedding after a model switch, and lazily generated thumbnails."""

from album.scan.pipeline import ModelMismatchError, Scanner, ScanSettings, ScanSummary
from album.scan.work import ScanControl, ScanProgress

__all__ = [
    "ModelMismatchError",
    "ScanControl",
    "ScanProgress",
    "ScanSettings",
    "ScanSummary",
    "Scanner",
]
