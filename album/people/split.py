"""Split a person who is really two or more people (siblings, look-alikes) into sub-groups.

The grouping put these faces together because they are close: cutting them at the model's
threshold again would give the same person back. Instead the person's own faces are
regrouped top down: an average-linkage tree of their embeddings is cut into the fewest
groups that hold at least two sizeable ones (a few odd faces, blurred or turned, are not a
person of their own: they join the nearest sizeable group), the groups are refined by a few
rounds of nearest-centre assignment, and the user's decisions are applied last: faces in one
photo or marked "not the same" are never in one sub-group, faces marked "the same" are.

:func:`plan_split` is the pure planning step (arrays in, labels out); the people service
gathers a person's faces for it and applies what the user chose in one undoable step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from album.people.clustering import enforce_constraints
from models.pose import PROFILE

MAX_GROUPS = 6  # the most sub-groups a split offers (more is not a choice a user can make)
MIN_SHARE = 0.03  # a sub-group holds at least this share of the faces (and 2), else it joins
TREE_SAMPLE = 3000  # faces the tree is built on; the rest join their nearest sub-group
REFINE_ROUNDS = 5
# Two sub-groups are offered only where the tree parts them at this share of the model's
# threshold or more (average distance between their faces): a person's own faces part lower.
# LFW's dev people (benchmarks/split_person.py): at 0.8, 5 of 77 people alone were cut in two;
# at 1.0, 6 of the 40 hardest merged pairs were not taken apart; at 0.9, 1 and 1.
SPLIT_HEIGHT = 0.9


@dataclass(frozen=True)
class SubGroup:
    """One proposed sub-group: its faces best first (confirmed, frontal, sharpest)."""

    faces: tuple[int, ...]
    confirmed: int  # how many of them the user confirmed as this person
    photos: int  # how many photos they are in


@dataclass(frozen=True)
class SplitProposal:
    """Sub-groups of a person's faces, largest first; ``keep`` is the one proposed to stay
    (the one holding most of the user's confirmed faces, else the largest)."""

    person_id: int
    groups: tuple[SubGroup, ...]
    keep: int


@dataclass(frozen=True)
class SplitPart:
    """What the user chose for one sub-group. ``to``: None, the faces stay with the person;
    "" a new unnamed person; else the person of that name (made if nobody has it)."""

    faces: tuple[int, ...]
    to: str | None = None


def plan_split(
    x: np.ndarray,
    cannot_link: np.ndarray | Sequence[tuple[int, int]] = (),
    must_link: np.ndarray | Sequence[tuple[int, int]] = (),
    threshold: float = 1.0,
    max_groups: int = MAX_GROUPS,
    groups: int | None = None,
    height: float = SPLIT_HEIGHT,
    seed: int = 0,
    yaw: np.ndarray | None = None,
) -> np.ndarray:
    """Sub-group labels 0.. (n,) for one person's unit embeddings ``x`` (n, D); label 0 is the
    largest sub-group. ``cannot_link`` / ``must_link``: row pairs; ``threshold``: the model's
    same-person distance. The tree is cut into the fewest (>= 2, at most ``max_groups``)
    groups that hold two sizeable ones, as long as the groups it parts are on average
    ``height`` x ``threshold`` apart; where no such cut exists, the faces are one person's and
    the ones far from the rest are offered apart. ``groups``: exactly this many sizeable
    sub-groups, however close (the constraints can still add pieces). ``yaw`` (n,) degrees:
    side views (|yaw| >= PROFILE) do not shape the cut, since a person's side views lie far
    from their own frontal faces (on CFP, a cut of everyone's faces parted one person's side
    views from the rest for 59 of 124 people); they join the nearest sub-group. Deterministic
    for a given ``seed``."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    shaping = np.ones(n, dtype=bool)
    if yaw is not None:
        shaping = np.abs(np.asarray(yaw, dtype=np.float64)) < PROFILE
        if shaping.sum() < 2:  # only side views: they are all there is
            shaping[:] = True
    rows = np.flatnonzero(shaping)
    if len(rows) > TREE_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(rows, TREE_SAMPLE, replace=False))
    tree = linkage(pdist(x[rows].astype(np.float64)), method="average")
    least = max(2, math.ceil(MIN_SHARE * len(rows)))
    lowest = 0.0 if groups else height * threshold
    cut, sizeable = None, np.zeros(0, dtype=np.int64)
    wanted = groups or 2
    # Odd faces are cut off before the groups they stand apart from: look further down for
    # a count the user asked for; for the default, no further than max_groups.
    last = groups + 20 if groups else max(2, max_groups)
    for k in range(wanted, last + 1):
        if k > len(rows) or tree[-(k - 1), 2] < lowest:
            break  # below this height the faces are one person's: no lower cut parts two people
        cut = fcluster(tree, k, criterion="maxclust") - 1
        sizeable = np.flatnonzero(np.bincount(cut) >= least)
        if len(sizeable) >= wanted:
            break
    one_person = cut is None or len(sizeable) < 2
    if one_person:  # the faces far from the rest are offered apart, as they are
        cut = fcluster(tree, max(lowest, 1e-9), criterion="distance") - 1
        cut = (cut != np.argmax(np.bincount(cut))).astype(np.int64)
        sizeable = np.flatnonzero(np.bincount(cut))
    centres = np.stack([x[rows[cut == c]].mean(0) for c in sizeable])
    labels = _nearest(x, centres)
    if one_person:
        labels[rows] = cut
    for _ in range(0 if one_person else REFINE_ROUNDS):
        centres = np.stack(  # from the faces that shape the cut only
            [
                x[(labels == c) & shaping].mean(0)
                if ((labels == c) & shaping).any()
                else centres[c]
                for c in range(len(centres))
            ]
        )
        new = _nearest(x, centres)
        if np.array_equal(new, labels):
            break
        labels = new
    cl = np.asarray(cannot_link, dtype=np.int64).reshape(-1, 2)
    ml = np.asarray(must_link, dtype=np.int64).reshape(-1, 2)
    if len(cl) or len(ml):
        labels, _, _ = enforce_constraints(x, labels, cl, ml)
    return _by_size(labels)


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return np.argmin(d, axis=1).astype(np.int64)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. by decreasing size (ties: first face); every face keeps one."""
    ids, first, inverse, counts = np.unique(
        labels, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank[inverse.ravel()]
