"""Fit where MTCNN's five landmarks fall in dlib's 150x150 face chip (development tool).

dlib's ResNet v1 was trained on chips aligned with dlib's own 5-point model (eye corners and
nose base). We detect with MTCNN (eye centres, nose tip, mouth corners), so we need a template
for MTCNN points that reproduces dlib's chips. For each LFW image where both detectors find the
central face, dlib's chip geometry (``get_face_chip_details``) maps MTCNN's landmarks into chip
coordinates; the template is their per-point median. Writes the constants to stdout as JSON.

Needs the test extra (dlib-bin). Usage:
    python scripts/fit_mtcnn_template.py ../shared/datasets/lfw --images 3000 > template.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from models.align import invert_affine, similarity_transform
from models.detector import FaceDetector
from models.dlib_resnet import default_weights_path

CHIP = 150


def dlib_chip_to_image(details) -> np.ndarray:
    """2x3 map from dlib chip pixels to image pixels, as dlib's extract_image_chip builds it."""
    r = details.rect
    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
    w, h = r.right() - r.left(), r.bottom() - r.top()  # (width - 1), (height - 1)
    c, s = np.cos(details.angle), np.sin(details.angle)
    rot = np.array([[c, -s], [s, c]])
    chip = np.array([[0, 0], [CHIP - 1, 0], [0, CHIP - 1]], dtype=float)
    img = (np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [-w / 2, h / 2]]) @ rot.T) + (cx, cy)
    return similarity_transform(chip, img)


def main() -> None:
    import dlib

    ap = argparse.ArgumentParser()
    ap.add_argument("lfw", type=Path)
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    files = sorted(args.lfw.glob("*/*.jpg"))
    random.Random(args.seed).shuffle(files)
    hog = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(
        str(default_weights_path().parent / "shape_predictor_5_face_landmarks.dat")
    )
    mtcnn = FaceDetector(min_face_size=20)
    points = []
    for path in files[: args.images]:
        img = np.asarray(Image.open(path).convert("RGB"))
        centre = np.array(img.shape[1::-1]) / 2
        dets = hog(img, 1)
        faces = mtcnn.detect(img)
        if not dets or not faces:
            continue
        det = min(dets, key=lambda d: np.hypot(d.center().x - centre[0], d.center().y - centre[1]))
        face = min(faces, key=lambda f: np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre))
        # Both detectors must agree on which face this is.
        if np.linalg.norm(face.landmarks[2] - (det.center().x, det.center().y)) > det.width() / 3:
            continue
        details = dlib.get_face_chip_details(sp(img, det), CHIP, 0.25)
        to_chip = invert_affine(dlib_chip_to_image(details))
        points.append(face.landmarks @ to_chip[:, :2].T + to_chip[:, 2])
    pts = np.stack(points)
    template = np.median(pts, axis=0)
    spread = np.linalg.norm(pts - template, axis=2).mean(axis=0)
    print(
        f"{len(pts)} faces; mean deviation per point (chip px): {np.round(spread, 2)}",
        file=sys.stderr,
    )
    json.dump(
        {"chip_size": CHIP, "faces": len(pts), "template": np.round(template, 3).tolist()},
        sys.stdout,
        indent=1,
    )
    print()


if __name__ == "__main__":
    main()
