"""Re-grouping planned as a pure function: a snapshot of the catalog in, the machine's new
assignments out (no SQLite here; ``PeopleService.recluster`` takes the snapshot and writes the
plan in one transaction).

1. Recognition: each unconfirmed face against the people's confirmed faces other than side
   views (active people only, never a person the face was rejected from or one whose birth
   date is after its photo);
   faces the user said are the same follow a recognised face.
2. Clustering of the faces left unknown, with the user's constraints: faces of one photo and
   "not the same" apart, "the same" together, a face rejected from a person without
   confirmed faces kept away from the faces that person had.
3. Clusters keep the id of the (still unconfirmed) person whose faces they hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from album.people.clustering import ClusterReport, ClusterSettings
from album.people.recognition import ASSIGN, Gallery, RecognitionSettings, decide
from models.pose import PROFILE


@dataclass
class Snapshot:
    """What re-grouping reads, all from one moment of the catalog."""

    ids: np.ndarray  # (n,) face ids with an embedding of the model
    x: np.ndarray  # (n, D) their unit vectors
    photo: dict[int, str]  # face -> its photo's content hash
    quality: dict[int, float]
    yaw: dict[int, float]  # degrees
    active: set[int]  # people not merged into another
    confirmed: dict[int, int]  # face -> person: the user's "this is"
    rejected: set[tuple[int, int]]  # (face, person): the user's "not this person"
    machine_before: dict[int, int]  # face -> person: the machine's assignments until now
    constraints: list[tuple[int, int, str]]  # (face a, face b, 'cannot-link' | 'must-link')
    born: dict[int, str] = field(default_factory=dict)  # person -> birth date, YYYY-MM-DD
    taken: dict[int, str] = field(default_factory=dict)  # face -> its photo's date, if known


class Blocked:
    """The (face, person) pairs no assignment may make: the user's "not this person", and a
    face in a photo taken before the person's birth date (looked up, not listed: a child born
    last year would otherwise list nearly every face of the catalog)."""

    def __init__(
        self, rejected: set[tuple[int, int]], born: dict[int, str], taken: dict[int, str]
    ) -> None:
        self.rejected, self.born, self.taken = rejected, born, taken

    def __contains__(self, pair: object) -> bool:
        if pair in self.rejected:
            return True
        face, person = pair  # type: ignore[misc]
        day, birth = self.taken.get(face), self.born.get(person)
        return day is not None and birth is not None and day < birth


@dataclass
class RegroupPlan:
    """The machine's new assignments: ``recognised`` face -> (person, 'automatic' or
    'suggested', distance); ``clustered`` face -> cluster label; ``mapping`` cluster label ->
    the person whose id it keeps; ``unknown`` faces that went to clustering; ``blocked``
    (face, person) pairs no write may make (the user's rejections, birth dates)."""

    recognised: dict[int, tuple[int, str, float]]
    clustered: dict[int, int]
    mapping: dict[int, int]
    unknown: int
    blocked: Blocked
    report: ClusterReport

    @property
    def clusters(self) -> int:
        return len(set(self.clustered.values()))


def plan_regroup(
    s: Snapshot,
    threshold: float,
    recognition: RecognitionSettings,
    cluster_settings: ClusterSettings,
    method: str,
    cluster: Callable[..., np.ndarray],
) -> RegroupPlan:
    """The plan for snapshot ``s`` at the model's ``threshold``; ``cluster`` is
    ``album.people.clustering.cluster`` (or the same run in the app's child process)."""
    ids, x = s.ids, s.x
    index = {int(f): i for i, f in enumerate(ids)}
    blocked = Blocked(s.rejected, s.born, s.taken)  # never proposed
    holdings = _Holdings(s)

    # 1. recognition of unconfirmed faces against confirmed ones (active people only)
    todo = [i for i, f in enumerate(ids.tolist()) if f not in s.confirmed]
    proposals = _proposals(s, index, todo, blocked, threshold, recognition)
    recognised: dict[int, tuple[int, str, float]] = {}
    for d, f, p, source in sorted(proposals):
        if f not in recognised and holdings.admits(f, p):
            recognised[f] = (p, source, max(d, 0.0))
            holdings.add(f, p)
    _follow_must_links(s, index, recognised, blocked, holdings)

    # 2. clustering of the unknown faces
    unknown = [i for i in todo if int(ids[i]) not in recognised]
    uid = [int(ids[i]) for i in unknown]
    cannot, must = _cluster_constraints(s, uid)
    report = ClusterReport()
    labels = (
        cluster(
            x[unknown],
            np.array([s.quality.get(f, 1.0) for f in uid]),
            cannot,
            must,
            method=method,
            threshold=threshold,
            settings=cluster_settings,
            report=report,
            yaw=np.array([s.yaw.get(f, 0.0) for f in uid]),
        )
        if unknown
        else np.zeros(0, np.int64)
    )
    clustered = {f: int(labels[j]) for j, f in enumerate(uid) if labels[j] >= 0}
    mapping = _kept_ids(s, clustered)
    return RegroupPlan(recognised, clustered, mapping, len(unknown), blocked, report)


class _Holdings:
    """Per person, the photos and faces it holds so far, so that no assignment puts two
    faces of one photo, or two faces the user said are different, in one person."""

    def __init__(self, s: Snapshot) -> None:
        self.photo = s.photo
        self.partners: dict[int, set[int]] = defaultdict(set)
        for a, b, kind in s.constraints:
            if kind == "cannot-link":
                self.partners[a].add(b)
                self.partners[b].add(a)
        self.photos: dict[int, set[str]] = defaultdict(set)
        self.faces: dict[int, set[int]] = defaultdict(set)
        for f, p in s.confirmed.items():
            self.add(f, p)

    def admits(self, face: int, person: int) -> bool:
        return self.photo.get(face) not in self.photos[person] and not (
            self.partners.get(face, set()) & self.faces[person]
        )

    def add(self, face: int, person: int) -> None:
        self.photos[person].add(self.photo.get(face, ""))
        self.faces[person].add(face)


def _proposals(
    s: Snapshot,
    index: dict[int, int],
    todo: list[int],
    blocked: Blocked,
    threshold: float,
    recognition: RecognitionSettings,
) -> list[tuple[float, int, int, str]]:
    """(distance, face, person, source) for every person within the threshold of each
    unconfirmed face (the nearest 'automatic' where recognition decides so, the others
    'suggested'), and each face the user said is the same as a confirmed one (distance -1)."""
    ids, x, confirmed = s.ids, s.x, s.confirmed
    # Side views the user confirmed are not matched against: side views of different people
    # sit closer to each other than to their own people's frontal faces, so one confirmed
    # side view would draw in strangers' side views.
    gal_rows = [
        (f, p)
        for f, p in confirmed.items()
        if p in s.active and f in index and abs(s.yaw.get(f, 0.0)) < PROFILE
    ]
    gallery = Gallery(
        x[[index[f] for f, _ in gal_rows]]
        if gal_rows
        else np.zeros((0, x.shape[1] if len(ids) else 0), np.float32),
        [p for _, p in gal_rows],
        [f for f, _ in gal_rows],
    )
    out: list[tuple[float, int, int, str]] = []
    if len(gallery) and todo:
        cands = gallery.candidates(x[todo], recognition.k, recognition.shortlist)
        for i, cs in zip(todo, cands, strict=True):
            f = int(ids[i])
            allowed = [c for c in cs if c.person in s.active and (f, c.person) not in blocked]
            m = decide(allowed, threshold, recognition)
            for rank, c in enumerate(allowed):
                if c.distance > threshold:
                    break
                source = "automatic" if rank == 0 and m.decision == ASSIGN else "suggested"
                out.append((c.distance, f, c.person, source))
    same_as: dict[int, int] = {}  # face -> the person of a confirmed face it is the same as
    for a, b, kind in s.constraints:
        if kind == "must-link" and (a in confirmed) != (b in confirmed):
            f, p = (b, confirmed[a]) if a in confirmed else (a, confirmed[b])
            same_as[f] = p
    for f, p in same_as.items():
        if f in index and p in s.active and (f, p) not in blocked:
            out.append((-1.0, f, p, "automatic"))
    return out


def _follow_must_links(
    s: Snapshot,
    index: dict[int, int],
    recognised: dict[int, tuple[int, str, float]],
    blocked: Blocked,
    holdings: _Holdings,
) -> None:
    """Faces the user said are the same person as a recognised face follow it."""
    for a, b, kind in s.constraints:
        if kind != "must-link":
            continue
        for f, g in ((a, b), (b, a)):
            if f in recognised and g in index and g not in s.confirmed and g not in recognised:
                p = recognised[f][0]
                if (g, p) in blocked or not holdings.admits(g, p):
                    continue
                recognised[g] = (p, recognised[f][1], recognised[f][2])
                holdings.add(g, p)


def _cluster_constraints(
    s: Snapshot, uid: list[int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(cannot-link, must-link) pairs of positions in ``uid``, the faces to cluster: faces of
    one photo and "not the same" apart, "the same" together, and a face rejected from a
    person without confirmed faces kept away from the faces that person had."""
    upos = {f: j for j, f in enumerate(uid)}
    cannot: list[tuple[int, int]] = []
    by_photo: dict[str, list[int]] = defaultdict(list)
    for j, f in enumerate(uid):
        by_photo[s.photo.get(f, "")].append(j)
    for js in by_photo.values():
        cannot.extend((js[p], js[q]) for p in range(len(js)) for q in range(p + 1, len(js)))
    must: list[tuple[int, int]] = []
    for a, b, kind in s.constraints:
        if a in upos and b in upos:
            (cannot if kind == "cannot-link" else must).append((upos[a], upos[b]))
    had: dict[int, list[int]] = defaultdict(list)
    for f, p in s.machine_before.items():
        if f in upos:
            had[p].append(upos[f])
    for f, p in s.rejected:
        if f in upos and p in had:
            cannot.extend((upos[f], j) for j in had[p][:200] if j != upos[f])
    return cannot, must


def _kept_ids(s: Snapshot, clustered: dict[int, int]) -> dict[int, int]:
    """Cluster label -> the person (without confirmed faces) whose faces it holds most of,
    each person kept by one cluster at most."""
    pool = {p for p in s.active if p not in set(s.confirmed.values())}
    overlap: dict[tuple[int, int], int] = defaultdict(int)
    for f, c in clustered.items():
        p = s.machine_before.get(f)
        if p in pool:
            overlap[(c, p)] += 1
    mapping: dict[int, int] = {}
    used: set[int] = set()
    for (c, p), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if c not in mapping and p not in used:
            mapping[c] = p
            used.add(p)
    return mapping
