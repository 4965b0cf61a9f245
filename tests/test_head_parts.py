"""A detection that is part of a larger face (an ear beside a side view, a collar) is not a
face; real faces side by side, and clear small faces, are kept."""

from __future__ import annotations

import numpy as np

from album.scan.head_parts import without_head_parts
from models.detector import DetectedFace


def face(x1: float, y1: float, x2: float, y2: float, score: float = 1.0) -> DetectedFace:
    return DetectedFace(np.array([x1, y1, x2, y2]), score, np.zeros((5, 2)))


def test_an_ear_beside_a_side_view_is_dropped() -> None:
    # The boxes of an album photo: a side view and the ear MTCNN found behind it.
    side_view = face(2356, 2011, 2820, 2642, 0.996)
    ear = face(2238, 1988, 2374, 2160, 0.954)
    other = face(984, 1670, 1463, 2229)
    assert without_head_parts([side_view, ear, other]) == [side_view, other]


def test_real_faces_are_kept() -> None:
    big = face(0, 0, 400, 400)
    beside = face(410, 100, 600, 300, 0.95)  # smaller, unsure, but not overlapping
    touching_same_size = face(390, 0, 700, 300, 0.95)  # overlaps a face not twice its size
    clear_small = face(350, 350, 450, 450, 0.995)  # overlaps, but sure
    faces = [big, beside, touching_same_size, clear_small]
    assert without_head_parts(faces) == faces
    assert without_head_parts([]) == []
