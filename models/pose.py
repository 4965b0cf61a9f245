"""Head pose from the five MTCNN landmarks: yaw (turn left/right) and roll (in-plane tilt).

Yaw is an estimate, good enough to tell frontal (|yaw| < 25 degrees), turned (25-50) and
profile (> 50) faces apart, not a measurement. It uses the one yaw cue the five points carry:
as a head turns, the nose tip moves sideways off the line through the middle of the eyes and
the middle of the mouth, by about ``NOSE_DEPTH`` x that line's length at 90 degrees, while
the line's length barely changes. Roll is the angle of the line between the eyes.
"""

from __future__ import annotations

import numpy as np

# Nose-tip protrusion over the eye-mouth distance, for a 90-degree turn (anthropometric
# averages: nose projection about 20 mm, mid-eye to mid-mouth about 45-50 mm).
NOSE_DEPTH = 0.45
FRONTAL = 25.0  # |yaw| below this: frontal
PROFILE = 50.0  # |yaw| above this: profile


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Estimated yaw of a face from its (5, 2) landmarks (MTCNN order), in degrees.

    Positive when the nose points to the image's right. 0 for a frontal face; about +-90
    for a full profile (the estimate is capped at 90).
    """
    p = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eyes = (p[0] + p[1]) / 2
    mouth = (p[3] + p[4]) / 2
    axis = mouth - eyes
    length = float(np.hypot(*axis))
    if length < 1e-6:
        return 0.0
    # Signed distance of the nose tip from the eye-mouth line (positive: to the image right
    # of a face looking at the camera, with the axis pointing down).
    offset = float(axis[1] * (p[2, 0] - eyes[0]) - axis[0] * (p[2, 1] - eyes[1])) / length
    ratio = np.clip(offset / (NOSE_DEPTH * length), -1.0, 1.0)
    return float(np.degrees(np.arcsin(ratio)))


def roll_degrees(landmarks: np.ndarray) -> float:
    """In-plane tilt of the line from the image-left eye to the other, in degrees."""
    p = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    dx, dy = p[1] - p[0]
    return float(np.degrees(np.arctan2(dy, dx)))


def pose_class(yaw: float) -> str:
    """``"frontal"``, ``"turned"`` or ``"profile"`` for a yaw in degrees."""
    a = abs(yaw)
    return "frontal" if a < FRONTAL else ("turned" if a < PROFILE else "profile")
