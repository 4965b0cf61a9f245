"""Choose the fused model's weights on LFW's dev people and report every model on the test ones.

A fused embedding joins two unit embeddings scaled by weights (1 for the first, ``w`` for the
second) and renormalizes, so its squared distance is exactly the weighted mean of the parts'
squared distances: ``d^2 = (d1^2 + w^2 d2^2) / (1 + w^2)``. Given each part's per-pair
distances from ``album eval lfw --pairs``, ``w``, the fused threshold and its calibration
are fitted here on the pairs whose people are all in the dev half of LFW; every figure is
then printed for the test half (and for all pairs, for comparison with published numbers).

    album eval lfw --data LFW --model dlib-resnet-v1 --pairs dlib-original.npz
    album eval lfw --data LFW --model sface --pairs sface-original.npz
    python benchmarks/fuse_weights.py --first dlib-original.npz --second sface-original.npz \\
        [--also tight dlib-tight.npz sface-tight.npz] [--also rotated ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from album.evaluation.metrics import best_threshold, kfold_report
from models.pose import FRONTAL
from models.registry import logistic_calibration

WEIGHTS = np.round(np.arange(0.2, 2.01, 0.05), 2)


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def fused(d1: np.ndarray, d2: np.ndarray, w: float) -> np.ndarray:
    return np.sqrt((d1**2 + w**2 * d2**2) / (1 + w**2))


def choose_weight(a: dict, b: dict) -> tuple[float, list[tuple[float, float, float]]]:
    """The weight with the best dev 10-fold accuracy plus VAL@FAR=1e-3 (ties: nearest 1)."""
    dev = a["half"] == "dev"
    scores = []
    for w in WEIGHTS:
        r = kfold_report(
            fused(a["distance"], b["distance"], w)[dev], a["same"][dev], a["fold"][dev]
        )
        scores.append((float(w), r.accuracy, r.val_at_far))
    best = max(scores, key=lambda s: (round(s[1] + s[2], 6), -abs(np.log(s[0]))))
    return best[0], scores


def figures(d: np.ndarray, run: dict, mask: np.ndarray, threshold: float | None) -> str:
    r = kfold_report(d[mask], run["same"][mask], run["fold"][mask])
    text = (
        f"{100 * r.accuracy:6.2f}% +- {100 * r.accuracy_std:4.2f}  VAL {r.val_at_far:.4f}  "
        f"AUC {r.auc:.5f}"
    )
    turned = mask & (run["yaw"] >= FRONTAL)
    if threshold is not None and turned.any():
        ok = (d < threshold) == run["same"].astype(bool)
        text += f"  turned {100 * ok[turned].mean():6.2f}% ({int(turned.sum())})"
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--first", type=Path, required=True, help="pairs .npz of the first model")
    ap.add_argument("--second", type=Path, required=True, help="pairs .npz of the second model")
    ap.add_argument(
        "--also",
        nargs=3,
        action="append",
        default=[],
        metavar=("VARIANT", "FIRST", "SECOND"),
        help="another variant's pairs files, reported with the weight chosen on the first",
    )
    args = ap.parse_args()
    a, b = load(args.first), load(args.second)
    if not (np.array_equal(a["same"], b["same"]) and np.array_equal(a["half"], b["half"])):
        raise SystemExit("the two files are not the same pairs")
    w, scores = choose_weight(a, b)
    dev = a["half"] == "dev"
    print("weight of the second model on dev pairs (accuracy, VAL@FAR=1e-3):")
    for sw, acc, val in scores[:: max(1, len(scores) // 12)]:
        print(f"  {sw:4.2f}  {100 * acc:6.2f}%  {val:.4f}")
    print(f"chosen: {w}")
    thresholds = {}
    for name, dist in (
        ("first", a["distance"]),
        ("second", b["distance"]),
        ("fused", fused(a["distance"], b["distance"], w)),
    ):
        t = best_threshold(dist[dev], a["same"][dev])
        slope, mid = logistic_calibration(dist[dev], a["same"][dev])
        thresholds[name] = t
        print(f"{name:7s} dev threshold {t:.4f}  calibration ({slope:.2f}, {mid:.4f})")
    for variant, first, second in [("original", args.first, args.second), *args.also]:
        x, y = (a, b) if variant == "original" else (load(Path(first)), load(Path(second)))
        for split in ("test", "all"):
            mask = np.ones(len(x["same"]), bool) if split == "all" else x["half"] == split
            print(f"\n{variant}, {split} people ({int(mask.sum())} pairs)")
            for name, dist in (
                (f"first  {Path(first).stem}", x["distance"]),
                (f"second {Path(second).stem}", y["distance"]),
                ("fused", fused(x["distance"], y["distance"], w)),
            ):
                t = thresholds[name.split()[0]]
                print(f"  {name:28s} {figures(dist, x, mask, t)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
