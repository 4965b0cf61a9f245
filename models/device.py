"""Choosing the torch device: CUDA when present, else CPU, unless the caller says otherwise."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else ``$ALBUM_DEVICE``, else CUDA when available, else CPU."""
    choice = device if device is not None else os.environ.get("ALBUM_DEVICE") or None
    if choice is None or choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(choice)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but no CUDA device is available; use --device cpu")
    return dev
