"""Fit the side-view classifier (``models.pose``) on CFP's dev people, report it on the test ones.

A logistic regression on ``models.pose.side_view_features`` (where MTCNN's five points sit in
its box, mirrored so every nose points right), with CFP's frontal/profile folder as the label.
Faces are detected as they sit in a photo (``album.evaluation.cfp``: each crop edge-padded by
40% per side); images with no face are left out (they are counted). CFP's frontal photos are
hardly turned, so faces of LFW (turned up to about 45 degrees, almost never a real side view)
join the negatives: without them a face turned by 30 degrees was called a side view. People
are split by ``album.evaluation.splits``: fitted on ``dev``, every figure printed for ``test``
too. Prints the constants for ``models/fitted.py``.

    python benchmarks/fit_side_view.py --cfp ../shared/datasets/cfp-dev \
        --lfw ../shared/datasets/lfw --lfw-images 3000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from album.evaluation.cfp import detect_cfp, read_cfp
from album.evaluation.splits import person_split
from models.pose import PROFILE, five_point_yaw, side_view_features


def lfw_faces(root: Path, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Landmarks, boxes and people's halves of the central faces of ``count`` LFW images (a
    fixed sample)."""
    import random

    from PIL import Image

    from album.evaluation.lfw import central_face
    from models.detector import FaceDetector

    files = sorted(root.glob("*/*.jpg"))
    random.Random(0).shuffle(files)
    detector = FaceDetector(min_face_size=20, max_side=1000)
    marks, boxes, halves = [], [], []
    for f in files[:count]:
        arr = np.asarray(Image.open(f).convert("RGB"))
        face = central_face(detector.detect(arr), arr.shape[1], arr.shape[0])
        if face is not None:
            marks.append(face.landmarks)
            boxes.append(face.box)
            halves.append(person_split(f.parent.name))
    return np.array(marks), np.array(boxes), np.array(halves)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfp", type=Path, required=True, help="CFP folder (Data/, Protocol/)")
    ap.add_argument("--lfw", type=Path, help="LFW folder: its faces join the negatives")
    ap.add_argument("--lfw-images", type=int, default=3000, help="LFW images looked at")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularization strength")
    args = ap.parse_args()

    data = read_cfp(args.cfp)
    rows = list(range(len(data.images)))
    faces = detect_cfp(data, rows)
    profile = np.array([im.profile for im in data.images])
    split = np.array([person_split(im.person) for im in data.images])
    marks, boxes = faces.landmarks, faces.boxes
    found = faces.found
    if args.lfw:
        lfw_marks, lfw_boxes, lfw_split = lfw_faces(args.lfw, args.lfw_images)
        marks = np.concatenate([marks, lfw_marks])
        boxes = np.concatenate([boxes, lfw_boxes])
        found = np.concatenate([found, np.ones(len(lfw_split), bool)])
        profile = np.concatenate([profile, np.zeros(len(lfw_split), bool)])
        split = np.concatenate([split, lfw_split])
    from_lfw = np.arange(len(found)) >= len(faces.found)
    x = side_view_features(marks, boxes)
    dev = found & (split == "dev")
    mean, scale = x[dev].mean(0), x[dev].std(0)
    z = (x - mean) / np.where(scale > 0, scale, 1.0)
    model = LogisticRegression(C=args.c, max_iter=5000).fit(z[dev], profile[dev])
    p = model.predict_proba(z)[:, 1]
    landmark_yaw = np.abs(five_point_yaw(marks))

    cfp_profile = profile[: len(faces.found)]
    print(
        f"images without a face: {int((~faces.found & cfp_profile).sum())} profile, "
        f"{int((~faces.found & ~cfp_profile).sum())} frontal (left out)"
    )
    print(
        f"{'people':8} {'side views':>10} {'frontal':>8} {'profile recall':>15} "
        f"{'frontal as profile':>19} {'landmark-yaw recall':>20}"
    )
    for half in ("dev", "test"):
        m = found & (split == half) & ~from_lfw
        sv, fr = m & profile, m & ~profile
        print(
            f"{half:8} {int(sv.sum()):>10} {int(fr.sum()):>8} "
            f"{100 * (p[sv] >= 0.5).mean():>14.2f}% {100 * (p[fr] >= 0.5).mean():>18.2f}% "
            f"{100 * (landmark_yaw[sv] >= PROFILE).mean():>19.2f}%"
        )
        lfw = found & (split == half) & from_lfw
        if lfw.any():
            turned = lfw & (landmark_yaw >= 25)
            print(
                f"{'':8} LFW faces classed profile: {100 * (p[lfw] >= 0.5).mean():.2f}% of "
                f"{int(lfw.sum())}; of those turned 25-50 degrees: "
                f"{100 * (p[turned] >= 0.5).mean():.2f}% of {int(turned.sum())}"
            )

    def tup(v: np.ndarray) -> str:
        return "(" + ", ".join(f"{float(a):.5g}" for a in v) + ")"

    print("\n# models/fitted.py")
    print(f"SIDE_VIEW_MEAN = {tup(mean)}")
    print(f"SIDE_VIEW_SCALE = {tup(scale)}")
    print(f"SIDE_VIEW_COEF = {tup(model.coef_[0])}")
    print(f"SIDE_VIEW_INTERCEPT = {float(model.intercept_[0]):.5g}")


if __name__ == "__main__":
    main()
