"""Shared fixtures. Tests that need real faces read LFW from ../shared/datasets/lfw (or
$ALBUM_LFW), and real side views from CFP's ../shared/datasets/cfp-dev (or $ALBUM_CFP), and
skip with a reason when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LFW = Path(os.environ.get("ALBUM_LFW", ROOT.parent / "shared" / "datasets" / "lfw"))
CFP = Path(os.environ.get("ALBUM_CFP", ROOT.parent / "shared" / "datasets" / "cfp-dev"))


@pytest.fixture(scope="session")
def _engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of converted networks for the session: converting them is the same work in
    every test (tests of the cache itself use their own)."""
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _engine_cache: Path
):
    """Keep every test away from the real user's data and model directories."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ALBUM_MODELS_DIR", str(home / "models"))
    monkeypatch.setenv("ALBUM_HOME", str(home))
    monkeypatch.setenv("ALBUM_ENGINE_CACHE", str(_engine_cache))


@pytest.fixture(scope="session")
def lfw() -> Path:
    if not (LFW / "pairs.txt").is_file():
        pytest.skip(f"LFW dataset not found at {LFW} (set ALBUM_LFW to its folder)")
    return LFW


@pytest.fixture(scope="session")
def cfp() -> Path:
    if not (CFP / "Protocol" / "Pair_list_F.txt").is_file():
        pytest.skip(f"CFP dataset not found at {CFP} (set ALBUM_CFP to its folder)")
    return CFP


def lfw_image(lfw: Path, name: str, number: int = 1) -> np.ndarray:
    return np.asarray(Image.open(lfw / name / f"{name}_{number:04d}.jpg").convert("RGB"))


@pytest.fixture(scope="session")
def detector():
    from models.detector import FaceDetector

    return FaceDetector(min_face_size=20)


@pytest.fixture(scope="session")
def embedder():
    from models.embedder import Embedder

    return Embedder()
