"""Group face embeddings into people: numpy in, labels out, every constraint obeyed.

>>> labels = cluster(vectors, quality, cannot_link=[(0, 3)], must_link=[(1, 2)])

``labels[i]`` is face ``i``'s cluster (0, 1, ...) or -1 for a face left alone. Steps:

1. **Seeds.** Faces of quality >= ``min_quality`` (see ``album.scan.quality``) that face the
   camera (|yaw| < ``seed_yaw``, see ``models.pose``) are clustered; poorer ones (tiny,
   blurred, doubtful detections) and turned or profile faces never start or bridge a cluster:
   the network places a profile further from its own frontal faces than frontal faces of two
   people are from each other, so one profile can chain two people together.
2. **Clustering** of the seeds, ``method``:

   * ``"hdbscan"`` (default): HDBSCAN (Campello et al. 2013) with leaf selection finds tight,
     dense groups (the ``hdbscan`` package on the vectors up to ``graph_above`` faces, the
     same algorithm on a k-nearest-neighbour graph above, see "Scale"); then groups merge by
     average linkage while the root-mean-square distance between their faces stays under
     ``merge`` x threshold. HDBSCAN alone either chains look-alikes together (its tree is a
     single-linkage tree) or leaves a person in pieces; the average-linkage merge joins
     pieces only when their faces agree on the whole, not when one pair happens to be close.
   * ``"agglomerative"``: average linkage over all faces, cut at ``merge`` x threshold.
   Before merging, a face none of whose near neighbours is in its own group is taken out
   (HDBSCAN's labelling can hand a face of a tiny group to a distant one).
3. **Attach.** A left-out seed joins the cluster of its nearest clustered face when that face
   is within ``attach`` x threshold. A face that was no seed (poor, turned, profile) needs
   stronger evidence: every other cluster ``gap`` x threshold further than its nearest
   clustered face, and ``votes`` of its nearest clustered faces in that cluster or the nearest
   within ``strict`` x threshold; otherwise it stays alone, and the "Same person?" queue asks
   about it. Attached faces never
   recruit others.
   Two left-out faces that are each other's nearest neighbour within the merge cut become a
   group of two (a person seen twice); faces still left out may then attach to it (HDBSCAN
   finds no group in a handful of evenly spread faces of one person).
4. **Constraints.** Merging and attaching never join cannot-linked faces. A cluster that
   still holds a cannot-linked pair is split in two around that pair (2-means with the pair
   pinned apart), again until no such pair is left; pieces of one cluster that no
   cannot-link parts are then joined back (a face the user took out of a person leaves alone
   and the person stays whole). Then must-linked faces are brought together (their
   clusters merged, or a lone face added) whenever that joins no cannot-linked pair.
   Cannot-link wins over must-link.

Scale: above ``graph_above`` faces, exact HDBSCAN in 128 dimensions is too slow (about 40 min
for 100,000 faces). The graph path builds a ``knn`` neighbour graph (approximate, with faiss,
for large inputs), takes mutual-reachability weights on its edges only, its minimum spanning
forest (trees chained by heavy edges), and hands that tree to HDBSCAN's own condensing and
cluster selection; the merge step uses the same graph. Faces of one person are each other's
near neighbours, so both paths give the same quality (``album eval cluster --path graph``).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from album.people.knn import knn
from models.fitted import DLIB_THRESHOLD

log = logging.getLogger(__name__)

Pairs = Iterable[tuple[int, int]] | np.ndarray | None

# Callers pass their model's threshold; the default is dlib-resnet-v1's (one fitted value).
DEFAULT_THRESHOLD = DLIB_THRESHOLD


@dataclass(frozen=True)
class ClusterSettings:
    """Clustering parameters. Distances are Euclidean between unit vectors; ``epsilon``,
    ``merge`` and ``attach`` are fractions of the model's threshold.

    min_cluster_size: fewest seed faces HDBSCAN keeps as a group (2: a person seen twice).
    min_samples: HDBSCAN's density estimate: distance to this many-th neighbour (self
        included).
    selection: HDBSCAN's cluster selection, "leaf" (fine groups, which the merge step joins)
        or "eom" (HDBSCAN's default; on faces it lumps many people together).
    epsilon: HDBSCAN ``cluster_selection_epsilon``: groups that split below this stay whole.
    merge: groups merge while the root-mean-square distance between their faces is below
        this (average linkage); the agglomerative method cuts here too. 0: no merging.
    min_quality: faces below this quality (0..1) are not seeds; they may only attach.
    seed_yaw: faces turned further than this (degrees, absolute) are not seeds.
    attach: a left-out face joins its nearest clustered face's cluster within this; 0: never.
    gap: a face that was no seed attaches only when every other cluster is this much further
        than its nearest clustered face...
    votes: ...and this many of its nearest clustered faces (within ``attach``) are in that
        cluster...
    strict: ...or the nearest is within this.
    graph_above: more seeds than this switch HDBSCAN to the kNN-graph path. On the 4,324 LFW
        faces both paths score alike (BCubed F 0.989 and 0.988) but the package's exact
        HDBSCAN takes 5-6 s against 2 s, and grows much faster (77 s at 20,000 faces).
    knn: neighbours per face in the graph (graph path, merging, attaching).

    Tuned on LFW people with >= 10 images (158 people, 4,324 faces, dlib-resnet-v1, threshold
    0.42; ``album eval cluster``): BCubed F stays within 0.982-0.987 for min_samples 2-4,
    epsilon 0-0.65 and merge 0.81-0.9, and falls to 0.97 at merge 0.95 and 0.95 at 1.0. The
    threshold maximises accuracy on balanced pairs; clustering compares each face with many
    others, so it needs a stricter cut.
    """

    min_cluster_size: int = 2
    min_samples: int = 2
    selection: str = "leaf"
    epsilon: float = 0.5
    merge: float = 0.85
    min_quality: float = 0.35
    seed_yaw: float = 50.0
    attach: float = 1.0
    votes: int = 2
    strict: float = 0.8
    gap: float = 0.05
    graph_above: int = 5_000
    knn: int = 12


@dataclass
class ClusterReport:
    """What a ``cluster`` call did: which path, and how long each step took (seconds)."""

    method: str = ""
    path: str = ""  # "hdbscan", "graph" or "agglomerative"
    seeds: int = 0
    groups: int = 0  # groups found before merging
    ejected: int = 0  # faces taken out of a group none of whose faces is near them
    paired: int = 0  # left-out seeds grouped with each other (their own small groups)
    merges: int = 0  # average-linkage merges
    attached: int = 0
    split: int = 0  # clusters split for cannot-links
    must_merges: int = 0  # must-link merges made
    times: dict[str, float] = field(default_factory=dict)


def cluster(
    embeddings: np.ndarray,
    quality: np.ndarray | None = None,
    cannot_link: Pairs = None,
    must_link: Pairs = None,
    method: str = "hdbscan",
    threshold: float = DEFAULT_THRESHOLD,
    settings: ClusterSettings | None = None,
    report: ClusterReport | None = None,
    path: str | None = None,
    yaw: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster labels (n,) for unit ``embeddings`` (n, D): 0, 1, ... or -1 (left alone).

    ``quality`` (n,) in 0..1 and ``yaw`` (n,) in degrees (None: every face counts as good,
    or as frontal); ``cannot_link`` / ``must_link``:
    pairs of row indices. ``threshold`` is the model's same-person distance. ``report``, if
    given, is filled in with what was done. ``path`` forces HDBSCAN's "hdbscan" or "graph"
    path (default: by size, see ``ClusterSettings.graph_above``).
    """
    s = settings or ClusterSettings()
    if method not in ("hdbscan", "agglomerative"):
        raise ValueError(f"unknown clustering method {method!r}: use 'hdbscan' or 'agglomerative'")
    rep = report if report is not None else ClusterReport()
    rep.method = method
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n = len(x)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    cl, ml = _pairs(cannot_link), _pairs(must_link)
    good = np.ones(n, dtype=bool)
    if quality is not None:
        good &= np.asarray(quality) >= s.min_quality
    if yaw is not None:
        good &= np.abs(np.asarray(yaw, dtype=np.float64)) < s.seed_yaw
    seeds = np.flatnonzero(good)
    rep.seeds = len(seeds)

    t = time.perf_counter()
    graph = knn(x[seeds], max(s.knn, s.min_samples)) if len(seeds) >= 2 else None
    rep.times["knn"] = time.perf_counter() - t

    t = time.perf_counter()
    if graph is not None:
        xs = x[seeds]
        if method == "agglomerative":
            rep.path = "agglomerative"
            base = agglomerative(xs, s.merge * threshold, graph)
        elif path == "graph" or (path is None and len(seeds) > s.graph_above):
            rep.path = "graph"
            base = graph_hdbscan(xs, s, threshold, graph)
        else:
            rep.path = "hdbscan"
            base = _hdbscan(xs, s, threshold)
        if method == "hdbscan":
            rep.ejected = eject_strays(base, graph, s.attach * threshold)
        rep.groups = len(np.unique(base[base >= 0]))
        if method == "hdbscan" and s.merge > 0:
            seed_links = _Links(_restrict(cl, seeds, n)) if len(cl) else None
            base, rep.merges = merge_groups(xs, base, s.merge * threshold, graph[0], seed_links)
        labels[seeds] = relabel(base)  # groups of one are left out (they may attach)
    rep.times["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    if graph is not None:
        links = _Links(cl) if len(cl) else None
        evidence = Evidence(s.votes, s.strict * threshold, s.gap * threshold)

        def attach_left_out() -> int:
            if s.attach <= 0:
                return 0
            return attach(
                x, labels, s.attach * threshold, links, seeds=seeds, graph=graph, evidence=evidence
            )

        rep.attached = attach_left_out()
        seed_labels = labels[seeds]
        rep.paired = pair_leftovers(seed_labels, graph, max(s.merge, 0.5) * threshold)
        labels[seeds] = seed_labels
        if rep.paired:
            # A person in a few evenly spread photos: once two are paired, the rest join.
            rep.attached += attach_left_out()
    rep.times["attach"] = time.perf_counter() - t

    t = time.perf_counter()
    if len(cl) or len(ml):
        labels, rep.split, rep.must_merges = enforce_constraints(x, labels, cl, ml)
    rep.times["constraints"] = time.perf_counter() - t
    return relabel(labels)


def _restrict(pairs: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """``pairs`` of indices into all faces, as indices into ``rows`` (pairs with a face
    outside ``rows`` dropped)."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    p = pos[pairs] if len(pairs) else np.zeros((0, 2), dtype=np.int64)
    return p[(p >= 0).all(axis=1)] if len(p) else p


def _pairs(pairs: Pairs) -> np.ndarray:
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.asarray(
        list(pairs) if not isinstance(pairs, np.ndarray) else pairs, dtype=np.int64
    ).reshape(-1, 2)
    return arr[arr[:, 0] != arr[:, 1]]


def relabel(labels: np.ndarray) -> np.ndarray:
    """Clusters numbered 0.. by decreasing size (ties: first face); clusters of one -> -1."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), -1, dtype=np.int64)
    valid = labels >= 0
    if not valid.any():
        return out
    ids, first, inverse, counts = np.unique(
        labels[valid], return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    new = rank[inverse]
    new[counts[inverse] < 2] = -1
    # Renumber again so the kept ids are contiguous.
    kept = np.unique(new[new >= 0])
    remap = np.full(len(ids), -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    out[valid] = np.where(new >= 0, remap[np.maximum(new, 0)], -1)
    return out


# --- the base clusterings ------------------------------------------------------------------


def _hdbscan(x: np.ndarray, s: ClusterSettings, threshold: float) -> np.ndarray:
    import hdbscan

    if len(x) <= max(s.min_cluster_size, s.min_samples):
        return np.full(len(x), -1, dtype=np.int64)
    model = hdbscan.HDBSCAN(
        min_cluster_size=s.min_cluster_size,
        min_samples=s.min_samples,
        cluster_selection_epsilon=float(s.epsilon * threshold),
        cluster_selection_method=s.selection,
        metric="euclidean",
        core_dist_n_jobs=1,
    )
    return model.fit_predict(x.astype(np.float64)).astype(np.int64)


def graph_hdbscan(
    x: np.ndarray,
    s: ClusterSettings,
    threshold: float,
    neighbours: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """HDBSCAN on the k-nearest-neighbour graph of ``x`` (see the module docstring)."""
    from hdbscan._hdbscan_linkage import label
    from hdbscan.hdbscan_ import _tree_to_labels

    n = len(x)
    if n <= max(s.min_cluster_size, s.min_samples):
        return np.full(n, -1, dtype=np.int64)
    k = max(s.knn, s.min_samples)
    idx, dist = neighbours if neighbours is not None else knn(x, k)
    # Core distance: to the min_samples-th nearest face, the face itself counting as first.
    core = dist[:, s.min_samples - 2] if s.min_samples >= 2 else np.zeros(n, np.float32)
    core = np.where(np.isfinite(core), core, np.float32(4.0))
    rows = np.repeat(np.arange(n), idx.shape[1])
    cols = idx.ravel()
    ok = cols >= 0
    rows, cols = rows[ok], cols[ok]
    w = np.maximum(dist.ravel()[ok], np.maximum(core[rows], core[cols])).astype(np.float64)
    w += 1e-9  # scipy drops explicit zeros (identical photos)
    g = sparse.coo_matrix((w, (rows, cols)), shape=(n, n)).tocsr()
    g = g.maximum(g.T)  # symmetric (weights are; an edge found one way only is kept)
    mst = csgraph.minimum_spanning_tree(g).tocoo()
    edges = np.column_stack([mst.row, mst.col, mst.data]).astype(np.float64)
    # A forest: chain its trees with edges heavier than any real one, so HDBSCAN sees one tree.
    ncomp, comp = csgraph.connected_components(mst, directed=False)
    if ncomp > 1:
        firsts = np.unique(comp, return_index=True)[1]
        links = np.column_stack([firsts[:-1], firsts[1:], np.full(ncomp - 1, 10.0)])
        edges = np.vstack([edges, links])
    edges = edges[np.argsort(edges[:, 2], kind="stable")]
    tree = label(edges)
    labels = _tree_to_labels(
        None,
        tree,
        min_cluster_size=s.min_cluster_size,
        cluster_selection_method=s.selection,
        cluster_selection_epsilon=float(s.epsilon * threshold),
    )[0]
    return np.asarray(labels, dtype=np.int64)


def agglomerative(
    x: np.ndarray, cut: float, graph: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Average-linkage clusters cut at distance ``cut``. Exact (scipy) up to 15,000 faces;
    above, merges are restricted to the kNN ``graph`` (scikit-learn's connectivity)."""
    n = len(x)
    if n < 2:
        return np.full(n, -1, dtype=np.int64)
    if n <= 15_000:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        z = linkage(pdist(x.astype(np.float64)), method="average")
        return fcluster(z, t=cut, criterion="distance").astype(np.int64) - 1
    from sklearn.cluster import AgglomerativeClustering

    idx = graph[0] if graph is not None else knn(x, 12)[0]
    rows = np.repeat(np.arange(n), idx.shape[1])
    ok = idx.ravel() >= 0
    conn = sparse.coo_matrix((np.ones(ok.sum()), (rows[ok], idx.ravel()[ok])), shape=(n, n))
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=cut, linkage="average", connectivity=conn.tocsr()
    )
    return model.fit_predict(x).astype(np.int64)


# --- merging groups, attaching left-out faces ------------------------------------------------


def eject_strays(labels: np.ndarray, graph: tuple[np.ndarray, np.ndarray], radius: float) -> int:
    """Leave out (label -1, in place) every face none of whose ``graph`` neighbours within
    ``radius`` is in its own group: HDBSCAN's labelling can hand a face of a tiny group to a
    distant one. The face may attach later like any left-out face. Returns how many."""
    idx, dist = graph
    valid = labels >= 0
    near = (idx >= 0) & (dist <= radius)
    mates = near & (labels[np.maximum(idx, 0)] == labels[:, None])
    strays = valid & ~mates.any(axis=1)
    labels[strays] = -1
    return int(strays.sum())


def pair_leftovers(labels: np.ndarray, graph: tuple[np.ndarray, np.ndarray], radius: float) -> int:
    """Two left-out faces that are each other's nearest neighbour, within ``radius``, become
    a group of two (in place): a person seen in just two photos, where HDBSCAN's labelling
    left them out and no cluster is near. Returns how many faces were paired."""
    idx, dist = graph
    first = idx[:, 0]
    n = len(labels)
    i = np.flatnonzero((labels < 0) & (first >= 0) & (dist[:, 0] <= radius))
    j = first[i]
    mutual = (labels[j] < 0) & (first[j] == i) & (i < j)
    i, j = i[mutual], j[mutual]
    start = int(labels.max(initial=-1)) + 1
    labels[i] = start + np.arange(len(i))
    labels[j] = start + np.arange(len(i))
    return 2 * len(i) if n else 0


def merge_groups(
    x: np.ndarray,
    labels: np.ndarray,
    cut: float,
    neighbours: np.ndarray,
    links: _Links | None = None,
) -> tuple[np.ndarray, int]:
    """Average-linkage merging of the groups in ``labels`` (-1: none), closest pair first,
    while the root-mean-square distance between their faces is below ``cut``.

    For unit vectors the mean squared distance between groups A and B is
    ``2 - 2 (sum A . sum B) / (|A| |B|)``, so comparing two groups costs one dot product.
    Only groups joined by an edge of the ``neighbours`` graph (n, k) are compared, and two
    groups holding a cannot-linked pair (``links``) never merge. Returns (labels, merges).
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    valid = labels >= 0
    if not valid.any():
        return labels, 0
    _, inv = np.unique(labels[valid], return_inverse=True)
    g = int(inv.max()) + 1
    sums = np.zeros((g, x.shape[1]), dtype=np.float64)
    np.add.at(sums, inv, x[valid])
    counts = np.bincount(inv, minlength=g).astype(np.float64)
    group = np.full(len(labels), -1, dtype=np.int64)
    group[valid] = inv
    rows = np.repeat(np.arange(len(labels)), neighbours.shape[1])
    cols = neighbours.ravel()
    ok = cols >= 0
    ga, gb = group[rows[ok]], group[cols[ok]]
    keep = (ga >= 0) & (gb >= 0) & (ga != gb)
    pairs = np.unique(
        np.column_stack([np.minimum(ga[keep], gb[keep]), np.maximum(ga[keep], gb[keep])]), axis=0
    )
    adjacent: list[set[int]] = [set() for _ in range(g)]
    for a, b in pairs.tolist():
        adjacent[a].add(b)
        adjacent[b].add(a)
    members: list[set[int]] | None = None
    if links is not None and links.partners:
        members = [set() for _ in range(g)]
        for i in np.flatnonzero(valid).tolist():
            members[group[i]].add(i)

    def cost(a: int, b: int) -> float:
        return 2.0 - 2.0 * float(sums[a] @ sums[b]) / (counts[a] * counts[b])

    limit = cut * cut
    version = np.zeros(g, dtype=np.int64)  # a heap entry is stale once a side has merged
    heap = [(c, a, b, 0, 0) for a, b in pairs.tolist() if (c := cost(a, b)) < limit]
    heapq.heapify(heap)
    alive = np.ones(g, dtype=bool)
    parent = np.arange(g)
    merges = 0
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if not (alive[a] and alive[b]) or version[a] != va or version[b] != vb:
            continue
        if members is not None and (
            links.conflict(members[a], members[b])
            if len(members[a]) <= len(members[b])
            else links.conflict(members[b], members[a])
        ):
            continue
        parent[b] = a  # b joins a
        alive[b] = False
        sums[a] += sums[b]
        counts[a] += counts[b]
        if members is not None:
            members[a] |= members[b]
            members[b] = set()
        version[a] += 1
        merges += 1
        adjacent[a] = (adjacent[a] | adjacent[b]) - {a, b}
        for o in adjacent[b]:
            adjacent[o].discard(b)
        adjacent[b] = set()
        for o in adjacent[a]:
            adjacent[o].add(a)
            c = cost(a, o)
            if c < limit:
                heapq.heappush(heap, (c, a, o, version[a], version[o]))
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    out = np.full(len(labels), -1, dtype=np.int64)
    out[valid] = root[inv]
    return out, merges


def attach(
    x: np.ndarray,
    labels: np.ndarray,
    radius: float,
    links: _Links | None = None,
    seeds: np.ndarray | None = None,
    graph: tuple[np.ndarray, np.ndarray] | None = None,
    k: int = 10,
    evidence: Evidence | None = None,
) -> int:
    """Give each face with label -1 the label of its nearest clustered face within
    ``radius`` (in place), skipping clusters it is cannot-linked with (``links``). Attached
    faces do not recruit others. ``graph``: the kNN graph of the ``seeds`` rows, reused for
    left-out seeds (others are searched). Faces outside ``seeds`` must also pass
    ``evidence`` when it is given. Returns how many were attached."""
    loose = np.flatnonzero(labels < 0)
    clustered = np.flatnonzero(labels >= 0)
    if len(loose) == 0 or len(clustered) == 0:
        return 0
    cand: dict[int, list[int]] = {}
    rest = loose
    if graph is not None and seeds is not None:
        is_loose = np.zeros(len(labels), dtype=bool)
        is_loose[loose] = True
        for r in np.flatnonzero(is_loose[seeds]).tolist():
            cand[int(seeds[r])] = [
                int(seeds[j])
                for j, d in zip(graph[0][r], graph[1][r], strict=True)
                if j >= 0 and d <= radius and labels[seeds[j]] >= 0
            ]
        is_seed = np.zeros(len(labels), dtype=bool)
        is_seed[seeds] = True
        rest = loose[~is_seed[loose]]
    if len(rest):
        idx, dist = knn(x[clustered], k, queries=x[rest])
        for f, row_i, row_d in zip(rest.tolist(), idx, dist, strict=True):
            near = [
                (int(clustered[j]), float(d))
                for j, d in zip(row_i, row_d, strict=True)
                if j >= 0 and d <= radius
            ]
            if evidence is not None and not evidence.enough(near, labels):
                continue
            cand[f] = [j for j, _ in near]
    members: dict[int, set[int]] = {}
    attached = 0
    for f, row in cand.items():
        for j in row:
            c = int(labels[j])
            if links is not None and links.partners.get(f):
                if c not in members:
                    members[c] = set(np.flatnonzero(labels == c).tolist())
                if links.partners[f] & members[c]:
                    continue
            labels[f] = c
            if c in members:
                members[c].add(f)
            attached += 1
            break
    return attached


@dataclass(frozen=True)
class Evidence:
    """When a face that was no seed (turned, profile, poor) may join a cluster: the nearest
    face of every other cluster is at least ``gap`` further than its nearest clustered face,
    and either ``votes`` of its nearest clustered faces are in that cluster or the nearest is
    within ``strict`` (distances)."""

    votes: int
    strict: float
    gap: float

    def enough(self, near: list[tuple[int, float]], labels: np.ndarray) -> bool:
        """``near``: (row, distance) of the face's nearest clustered faces, closest first,
        already cut at the attach radius."""
        if not near:
            return False
        first = int(labels[near[0][0]])
        other = [d for j, d in near if labels[j] != first]
        if other and other[0] - near[0][1] < self.gap:
            return False
        same = sum(1 for j, _ in near if labels[j] == first)
        return same >= self.votes or near[0][1] <= self.strict


# --- constraints -----------------------------------------------------------------------------


class _Links:
    """Cannot-link partners of each face."""

    def __init__(self, pairs: np.ndarray) -> None:
        self.partners: dict[int, set[int]] = {}
        for a, b in pairs.tolist():
            self.partners.setdefault(a, set()).add(b)
            self.partners.setdefault(b, set()).add(a)

    def conflict(self, a: Sequence[int] | set[int], b: set[int]) -> bool:
        """Whether some face of ``a`` is cannot-linked with some face of ``b``."""
        return any(self.partners.get(f, _EMPTY) & b for f in a)


_EMPTY: set[int] = set()


def violations(labels: np.ndarray, cannot_link: Pairs) -> np.ndarray:
    """The cannot-linked pairs (rows of ``cannot_link``) that share a cluster."""
    cl = _pairs(cannot_link)
    if not len(cl):
        return cl
    la, lb = labels[cl[:, 0]], labels[cl[:, 1]]
    return cl[(la >= 0) & (la == lb)]


def enforce_constraints(
    x: np.ndarray, labels: np.ndarray, cannot_link: np.ndarray, must_link: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """Split clusters holding a cannot-linked pair; then merge must-linked faces' clusters
    where legal. Returns (labels, clusters split, must-link merges)."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    links = _Links(cannot_link)
    split = 0
    next_id = int(labels.max(initial=-1)) + 1
    todo = list(np.unique(labels[violations(labels, cannot_link)[:, 0]]))
    origin = {c: c for c in todo}  # the cluster each piece was split off
    while todo:
        c = todo.pop()
        members = np.flatnonzero(labels == c)
        inside = set(members.tolist())
        pair = next(
            ((a, b) for a in members.tolist() for b in links.partners.get(a, _EMPTY) & inside), None
        )
        if pair is None:
            continue
        side = split_two(
            x[members], members.tolist().index(pair[0]), members.tolist().index(pair[1])
        )
        labels[members[side]] = next_id
        split += 1
        todo.extend([c, next_id])
        origin[next_id] = origin[c]
        next_id += 1
    _rejoin(labels, origin, links)

    merged = 0
    if len(must_link):
        groups: dict[int, set[int]] = {}
        for c in np.unique(labels[labels >= 0]).tolist():
            groups[c] = set(np.flatnonzero(labels == c).tolist())
        for a, b in must_link.tolist():
            la, lb = int(labels[a]), int(labels[b])
            if la >= 0 and la == lb:
                continue
            ga = groups.get(la, {a}) if la >= 0 else {a}
            gb = groups.get(lb, {b}) if lb >= 0 else {b}
            if links.conflict(ga, gb) if len(ga) <= len(gb) else links.conflict(gb, ga):
                continue
            target = la if la >= 0 else (lb if lb >= 0 else next_id)
            if target == next_id:
                next_id += 1
            union = ga | gb
            for c in (la, lb):
                if c >= 0 and c != target:
                    groups.pop(c, None)
            groups[target] = union
            labels[list(union)] = target
            merged += 1
    return labels, split, merged


def _rejoin(labels: np.ndarray, origin: dict[int, int], links: _Links) -> None:
    """Join back the pieces split off one cluster wherever no cannot-link parts them. A face
    the user took out of a person is cannot-linked with all of that person's faces, so the
    splitting above cuts the person again and again around it; only that face should leave."""
    pieces: dict[int, list[int]] = {}
    for piece, c in origin.items():
        pieces.setdefault(c, []).append(piece)
    for ps in pieces.values():
        groups: list[tuple[int, set[int]]] = []
        for p in sorted(ps, key=lambda p: -int((labels == p).sum())):
            faces = set(np.flatnonzero(labels == p).tolist())
            for target, members in groups:
                small, big = (faces, members) if len(faces) <= len(members) else (members, faces)
                if not links.conflict(small, big):
                    labels[list(faces)] = target
                    members |= faces
                    break
            else:
                groups.append((p, faces))


def split_two(x: np.ndarray, a: int, b: int, iterations: int = 10) -> np.ndarray:
    """Boolean mask of the faces that go with ``b`` (not ``a``): 2-means seeded at the pair,
    the pair itself pinned apart."""
    ca, cb = x[a].astype(np.float64), x[b].astype(np.float64)
    side = np.zeros(len(x), dtype=bool)
    for _ in range(iterations):
        new = ((x - cb) ** 2).sum(1) < ((x - ca) ** 2).sum(1)
        new[a], new[b] = False, True
        if np.array_equal(new, side):
            break
        side = new
        ca, cb = x[~side].mean(0), x[side].mean(0)
    return side
