"""Detections that are part of a larger face's head or body, not faces.

Beside a side view MTCNN may call the ear a face, or a patch of collar under a frontal face,
at a probability of 0.92-0.95 (an album of 30 held-out CFP people: 3 of 396 detections, all
three overlapping a face at least twice their size). A real face whose box overlaps a face
twice its size is rare (faces seldom overlap), and a clear one scores 0.99 or more (95-98% of
the true faces of those albums), so a detection is dropped only when both hold: it overlaps a
face at least ``SIZE`` times its size and scores under ``SURE``.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.detector import DetectedFace

SIZE = 2.0  # the larger face's side over the detection's, at least
SURE = 0.99  # detections scoring this or more are kept whatever they overlap


def _side(face: DetectedFace) -> float:
    return max(face.width, face.height)


def _overlap(a: DetectedFace, b: DetectedFace) -> bool:
    return bool(
        min(a.box[2], b.box[2]) > max(a.box[0], b.box[0])
        and min(a.box[3], b.box[3]) > max(a.box[1], b.box[1])
    )


def without_head_parts(faces: Sequence[DetectedFace]) -> list[DetectedFace]:
    """``faces`` (one photo's detections) without those that are part of a larger face."""
    return [
        f
        for f in faces
        if f.score >= SURE
        or not any(_side(g) >= SIZE * _side(f) and _overlap(f, g) for g in faces if g is not f)
    ]
