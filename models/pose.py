"""Head pose from the five MTCNN landmarks: yaw (turn left/right) and roll (in-plane tilt).

Yaw is an estimate, good enough to tell frontal (|yaw| < 25 degrees), turned (25-50) and
profile (>= 50) faces apart, not a measurement. ``yaw_degrees`` uses the one yaw cue the five
points carry: as a head turns, the nose tip moves sideways off the line through the middle of
the eyes and the middle of the mouth, by about ``NOSE_DEPTH`` x that line's length at 90
degrees, while the line's length barely changes. On real side views (60-90 degrees) that cue
saturates: MTCNN puts the points of the hidden half on the visible one, and over half of CFP's
profiles read under 50. ``side_view_probability`` looks at the whole layout of the points in
the face's box (a classifier fitted on CFP, see ``models.fitted``) and ``estimate_yaw``, the
yaw the app stores, raises a face it calls a side view to at least 50 degrees. Roll is the
angle of the line between the eyes.
"""

from __future__ import annotations

import numpy as np

from models import fitted

# Nose-tip protrusion over the eye-mouth distance, for a 90-degree turn (anthropometric
# averages: nose projection about 20 mm, mid-eye to mid-mouth about 45-50 mm).
NOSE_DEPTH = 0.45
FRONTAL = 25.0  # |yaw| below this: frontal
PROFILE = 50.0  # |yaw| above this: profile


def _nose_offset(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (n,) of the nose tip from the eye-mouth line (positive: to the image's
    right, with the line pointing down), and that line's length (n,), for (n, 5, 2) points."""
    eyes = (p[:, 0] + p[:, 1]) / 2
    axis = (p[:, 3] + p[:, 4]) / 2 - eyes
    length = np.hypot(axis[:, 0], axis[:, 1])
    cross = axis[:, 1] * (p[:, 2, 0] - eyes[:, 0]) - axis[:, 0] * (p[:, 2, 1] - eyes[:, 1])
    return cross / np.maximum(length, 1e-6), length


def five_point_yaw(landmarks: np.ndarray) -> np.ndarray:
    """``yaw_degrees`` of every face of (n, 5, 2) landmarks (a (5, 2) array is one face)."""
    p = np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2)
    offset, length = _nose_offset(p)
    ratio = np.clip(offset / (NOSE_DEPTH * np.maximum(length, 1e-6)), -1.0, 1.0)
    return np.where(length < 1e-6, 0.0, np.degrees(np.arcsin(ratio)))


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Estimated yaw of a face from its (5, 2) landmarks (MTCNN order), in degrees.

    Positive when the nose points to the image's right. 0 for a frontal face; about +-90
    for a full profile (the estimate is capped at 90).
    """
    return float(five_point_yaw(landmarks)[0])


def roll_degrees(landmarks: np.ndarray) -> float:
    """In-plane tilt of the line from the image-left eye to the other, in degrees."""
    p = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    dx, dy = p[1] - p[0]
    return float(np.degrees(np.arctan2(dy, dx)))


def pose_class(yaw: float) -> str:
    """``"frontal"``, ``"turned"`` or ``"profile"`` for a yaw in degrees."""
    a = abs(yaw)
    return "frontal" if a < FRONTAL else ("turned" if a < PROFILE else "profile")


def _as_batch(landmarks: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return p, b


def nose_side(landmarks: np.ndarray) -> np.ndarray:
    """+1 where the nose tip lies to the image's right of the eye-mouth line, else -1 (n,)."""
    offset, _ = _nose_offset(np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2))
    return np.where(offset >= 0, 1.0, -1.0)


def side_view_features(landmarks: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Pose features (n, 15) of faces from their (n, 5, 2) landmarks and (n, 4) boxes.

    Mirrored so that every nose points to the image's right (the two sides of a head look
    alike), with the points renumbered to match: where the five points sit in the box (10),
    the landmark yaw, the eye distance and mouth width over the eye-mouth distance (both
    shrink as a head turns), the nose's place between the eyes, and the box's aspect.
    """
    p, b = _as_batch(landmarks, boxes)
    side = nose_side(p)
    w = np.maximum(b[:, 2] - b[:, 0], 1.0)
    h = np.maximum(b[:, 3] - b[:, 1], 1.0)
    centre = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    q = (p - centre[:, None, :]) / np.stack([w, h], axis=1)[:, None, :]
    q[:, :, 0] *= side[:, None]
    flip = side < 0  # mirrored: the image-left eye (mouth corner) is now on the right
    q[flip] = q[flip][:, [1, 0, 2, 4, 3]]
    eyes = (q[:, 0] + q[:, 1]) / 2
    mouth = (q[:, 3] + q[:, 4]) / 2
    length = np.maximum(np.hypot(*(mouth - eyes).T), 1e-6)
    eye_gap = np.hypot(*(q[:, 1] - q[:, 0]).T)
    mouth_gap = np.hypot(*(q[:, 4] - q[:, 3]).T)
    between = (q[:, 2, 0] - q[:, 0, 0]) / np.maximum(q[:, 1, 0] - q[:, 0, 0], 1e-3)
    yaw = np.abs(five_point_yaw(p)) / 90.0
    return np.column_stack(
        [
            q.reshape(len(q), 10),
            yaw,
            eye_gap / length,
            mouth_gap / length,
            np.clip(between, -2.0, 3.0),
            h / w,
        ]
    )


def side_view_probability(landmarks: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """P(real side view, yaw about 60-90 degrees) per face (n,), from the (n, 5, 2) landmarks
    and (n, 4) boxes. A logistic model; 0.5 is its cut."""
    x = side_view_features(landmarks, boxes)
    z = (x - np.asarray(fitted.SIDE_VIEW_MEAN)) / np.asarray(fitted.SIDE_VIEW_SCALE)
    logit = z @ np.asarray(fitted.SIDE_VIEW_COEF) + fitted.SIDE_VIEW_INTERCEPT
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))


def estimate_yaw(landmarks: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The stored yaw (degrees) per face (n,): the five-point yaw, raised for a face the side
    view classifier calls a side view to between ``PROFILE`` (at P = 0.5) and 90 (P = 1), its
    sign the nose's side."""
    p, b = _as_batch(landmarks, boxes)
    if not len(p):
        return np.zeros(0)
    yaw = five_point_yaw(p)
    prob = side_view_probability(p, b)
    floor = PROFILE + (90.0 - PROFILE) * (2.0 * prob - 1.0)
    side = np.where(yaw != 0, np.sign(yaw), nose_side(p))
    return np.where(prob >= 0.5, side * np.maximum(np.abs(yaw), floor), yaw)


def pose_version() -> str:
    """Changes whenever the stored yaw would: this module's code or the side-view
    classifier's fitted constants (a key for caches of estimated poses)."""
    import hashlib
    from pathlib import Path

    h = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=10)
    h.update(
        repr(
            (
                fitted.SIDE_VIEW_MEAN,
                fitted.SIDE_VIEW_SCALE,
                fitted.SIDE_VIEW_COEF,
                fitted.SIDE_VIEW_INTERCEPT,
            )
        ).encode()
    )
    return h.hexdigest()
