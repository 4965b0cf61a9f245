"""Clustering quality against true identities: pairwise and BCubed precision, recall and F.

``labels`` are cluster ids with -1 for faces left unclustered; each such face counts as a
cluster of its own (a face left alone is neither a wrong merge nor a found pair).

* pairwise: over all pairs of faces, precision = pairs put together that are one person /
  pairs put together; recall = pairs put together that are one person / pairs of one person.
  Dominated by the largest identities (pairs grow with the square of a cluster's size).
* BCubed (Bagga and Baldwin 1998; Amigó et al. 2009): per face, precision = share of its
  cluster that is its person, recall = share of its person that is in its cluster; averaged
  over faces. Every face weighs the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class ClusterScores:
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f: float
    clusters: int  # clusters of two or more faces
    singletons: int  # faces left alone (noise, or clusters of one)
    identities: int
    faces: int
    # Groups of two or more faces where faces of people other than the group's main one are
    # more than MIXED of its faces, and the largest such share over all groups.
    mixed: int = 0
    worst_mix: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def singletons_to_ids(labels: np.ndarray) -> np.ndarray:
    """Labels where every -1 becomes a fresh cluster id of its own."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    noise = labels < 0
    start = labels.max(initial=-1) + 1
    labels[noise] = start + np.arange(noise.sum())
    return labels


def contingency(truth: np.ndarray, labels: np.ndarray) -> sparse.csr_matrix:
    """Sparse (clusters x identities) counts; noise faces become their own clusters."""
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    _, c = np.unique(singletons_to_ids(labels), return_inverse=True)
    m = sparse.coo_matrix(
        (np.ones(len(t), dtype=np.int64), (c, t)), shape=(c.max() + 1, t.max() + 1)
    )
    return m.tocsr()


MIXED = 0.05  # a group whose faces come from a second person for more than this share is mixed


def score_clustering(truth: np.ndarray, labels: np.ndarray) -> ClusterScores:
    """Pairwise and BCubed scores of ``labels`` against ``truth`` (one entry per face)."""
    truth = np.asarray(truth)
    labels = np.asarray(labels)
    if truth.shape != labels.shape or truth.ndim != 1:
        raise ValueError("truth and labels must be 1-d arrays of the same length")
    n = len(truth)
    if n == 0:
        return ClusterScores(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0, 0, 0, 0)
    m = contingency(truth, labels)
    cluster_sizes = np.asarray(m.sum(axis=1)).ravel()
    class_sizes = np.asarray(m.sum(axis=0)).ravel()
    nij = m.data.astype(np.float64)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    cols = m.indices

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    tp = pairs(nij)
    together, same = pairs(cluster_sizes.astype(np.float64)), pairs(class_sizes.astype(np.float64))
    pp = tp / together if together else 1.0
    pr = tp / same if same else 1.0
    # BCubed: a face in cell (i, j) has precision nij/|cluster i| and recall nij/|class j|.
    bp = float((nij * nij / cluster_sizes[rows]).sum() / n)
    br = float((nij * nij / class_sizes[cols]).sum() / n)
    groups = cluster_sizes >= 2
    main = np.asarray(m.max(axis=1).todense()).ravel()
    share = (cluster_sizes - main) / np.maximum(cluster_sizes, 1)
    return ClusterScores(
        pairwise_precision=pp,
        pairwise_recall=pr,
        pairwise_f=_f(pp, pr),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f=_f(bp, br),
        clusters=int((cluster_sizes >= 2).sum()),
        singletons=int((cluster_sizes == 1).sum()),
        identities=len(class_sizes),
        faces=n,
        mixed=int((share[groups] > MIXED).sum()),
        worst_mix=float(share[groups].max(initial=0.0)),
    )


def best_split_f(labels: np.ndarray, truth: np.ndarray) -> float:
    """BCubed F of the best use of the sub-groups: each sub-group given to the true person
    most of its faces belong to (what a user does who names each sub-group), against
    ``truth``. 1.0 when every sub-group is one person's."""
    labels = np.asarray(labels)
    truth = np.unique(np.asarray(truth), return_inverse=True)[1].ravel()  # names -> codes
    merged = labels.copy()
    for c in np.unique(labels):
        members = labels == c
        values, counts = np.unique(truth[members], return_counts=True)
        merged[members] = values[np.argmax(counts)]
    return score_clustering(truth, merged).bcubed_f
