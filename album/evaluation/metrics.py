"""Verification metrics on labelled pairs, following the LFW protocol and the FaceNet paper.

All functions take ``distances`` (smaller = more alike) and boolean ``same`` labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


@dataclass(frozen=True)
class VerificationReport:
    accuracy: float
    accuracy_std: float
    val_at_far: float  # VAL at FAR = far_target, mean over test folds
    val_std: float
    far: float  # the FAR actually reached on the test folds (mean)
    auc: float
    threshold: float  # mean of the per-fold best-accuracy thresholds
    fold_thresholds: list[float]
    far_target: float = 1e-3


def _candidate_thresholds(distances: np.ndarray) -> np.ndarray:
    d = np.unique(distances)
    mids = (d[:-1] + d[1:]) / 2 if len(d) > 1 else d
    return np.concatenate([[d[0] - 1e-6], mids, [d[-1] + 1e-6]])


def best_threshold(distances: np.ndarray, same: np.ndarray) -> float:
    """The threshold (same if distance < t) that maximizes accuracy on these pairs."""
    order = np.argsort(distances)
    d, s = distances[order], same[order].astype(bool)
    # Accepting the first k pairs: true accepts = cumsum(s), true rejects = negatives left.
    tp = np.concatenate([[0], np.cumsum(s)])
    tn = (~s).sum() - np.concatenate([[0], np.cumsum(~s)])
    correct = tp + tn
    # Only cut between distinct distances.
    valid = np.concatenate([[True], d[1:] != d[:-1], [True]])
    k = int(np.argmax(np.where(valid, correct, -1)))
    if k == 0:
        return float(d[0] - 1e-6)
    if k == len(d):
        return float(d[-1] + 1e-6)
    return float((d[k - 1] + d[k]) / 2)


def accuracy_at(distances: np.ndarray, same: np.ndarray, threshold: float) -> float:
    return float(np.mean((distances < threshold) == same.astype(bool)))


def val_far(distances: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float]:
    """VAL (true accept rate) and FAR (false accept rate) at ``threshold``."""
    same = same.astype(bool)
    accept = distances < threshold
    val = accept[same].mean() if same.any() else 0.0
    far = accept[~same].mean() if (~same).any() else 0.0
    return float(val), float(far)


def threshold_for_far(distances: np.ndarray, same: np.ndarray, far_target: float) -> float:
    """Largest threshold whose FAR on these pairs does not exceed ``far_target``."""
    neg = np.sort(distances[~same.astype(bool)])
    allowed = int(np.floor(far_target * len(neg) + 1e-9))  # false accepts we may make
    if allowed >= len(neg):
        return float(neg[-1] + 1e-6)
    # Accept everything strictly below the (allowed+1)-th smallest negative distance.
    return float(neg[allowed])


def kfold_report(
    distances: np.ndarray, same: np.ndarray, folds: np.ndarray, far_target: float = 1e-3
) -> VerificationReport:
    """LFW-style k-fold evaluation: thresholds chosen on the other folds, tested on each one.

    ``folds`` gives each pair's fold index. With a single fold the threshold is chosen and
    tested on the same pairs (optimistic; used only for quick checks).
    """
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    folds = np.asarray(folds)
    accs, vals, fars, thresholds = [], [], [], []
    for f in np.unique(folds):
        test = folds == f
        train = ~test if (~test).any() else test
        t = best_threshold(distances[train], same[train])
        thresholds.append(t)
        accs.append(accuracy_at(distances[test], same[test], t))
        tf = threshold_for_far(distances[train], same[train], far_target)
        v, fa = val_far(distances[test], same[test], tf)
        vals.append(v)
        fars.append(fa)
    return VerificationReport(
        accuracy=float(np.mean(accs)),
        accuracy_std=float(np.std(accs)),
        val_at_far=float(np.mean(vals)),
        val_std=float(np.std(vals)),
        far=float(np.mean(fars)),
        auc=float(roc_auc_score(same, -distances)),
        threshold=float(np.mean(thresholds)),
        fold_thresholds=[float(t) for t in thresholds],
        far_target=far_target,
    )


def save_roc_plot(distances: np.ndarray, same: np.ndarray, path: str, title: str) -> None:
    """ROC curve (log FAR axis) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fpr, tpr, _ = roc_curve(np.asarray(same, dtype=bool), -np.asarray(distances))
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot(np.maximum(fpr, 1e-5), tpr)
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0.8, 1.001)
    ax.axvline(1e-3, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate (VAL)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
