"""The library in a few verbs, in the spirit of face_recognition's api.py.

>>> from album import api
>>> a, b = api.load_image("a.jpg"), api.load_image("b.jpg")
>>> fa, fb = api.detect(a), api.detect(b)
>>> ea, eb = api.embed(a, fa), api.embed(b, fb)
>>> api.distance(ea[0], eb[0]), api.same_person(ea[0], eb[0])

Images are (H, W, 3) uint8 RGB arrays. Boxes are (left, top, right, bottom) in pixels.
Embeddings are unit-length float32 vectors; distance is Euclidean (0 = identical, 2 = opposite)
and "same person" means a distance below the model's threshold. Models load on first use and
stay loaded; pass ``model=`` to use another registered embedder.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from models.detector import DetectedFace, FaceDetector
from models.embedder import Embedder
from models.embedder import distance as _distance
from models.registry import DEFAULT_MODEL, get_spec

__all__ = ["DetectedFace", "detect", "distance", "embed", "load_image", "same_person"]


def load_image(path: str | os.PathLike, max_side: int | None = None) -> np.ndarray:
    """Read a photo as an RGB array, EXIF orientation applied. Raises ``ImageError``."""
    from album.images import load_image as _load

    return _load(path, max_side=max_side).rgb


@lru_cache(maxsize=4)
def _detector(min_face_size: int) -> FaceDetector:
    return FaceDetector(min_face_size=min_face_size)


@lru_cache(maxsize=4)
def _embedder(model: str) -> Embedder:
    return Embedder(model)


def detect(image: np.ndarray, min_face_size: int = 40) -> list[DetectedFace]:
    """Faces in ``image``, most confident first. ``min_face_size`` is in pixels."""
    return _detector(min_face_size).detect(image)


def embed(image: np.ndarray, faces: list[DetectedFace], model: str = DEFAULT_MODEL) -> np.ndarray:
    """One embedding per face, shape (len(faces), D)."""
    return _embedder(model).embed(image, faces)


def distance(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Euclidean distance between embeddings (broadcasts: one against many works)."""
    return _distance(a, b)


def same_person(a: np.ndarray, b: np.ndarray, model: str = DEFAULT_MODEL) -> bool | np.ndarray:
    """True where the distance is below the model's threshold."""
    d = _distance(a, b)
    result = np.asarray(d) < get_spec(model).threshold
    return bool(result) if result.ndim == 0 else result
