"""Re-grouping as a pure plan (album.people.regroup): a snapshot in, assignments out; no
SQLite, no catalog."""

from __future__ import annotations

import numpy as np

from album.people.clustering import ClusterSettings, cluster
from album.people.recognition import RecognitionSettings
from album.people.regroup import Snapshot, plan_regroup
from album.people.synthetic import synthetic_people

DLIB = 0.416


def snapshot(**changes) -> Snapshot:
    """Three people of 6 faces (face ids 100..117), one photo each. Person 1 has confirmed
    faces 100-101; person 2 (a cluster) held faces 106-111 before."""
    x, _ = synthetic_people(3, 6, spread=0.2, seed=3)
    ids = np.arange(100, 118)
    base = {
        "ids": ids,
        "x": x.astype(np.float32),
        "photo": {int(f): f"{f:064x}" for f in ids},
        "quality": {int(f): 0.9 for f in ids},
        "yaw": {int(f): 0.0 for f in ids},
        "active": {1, 2},
        "confirmed": {100: 1, 101: 1},
        "rejected": set(),
        "machine_before": {int(f): 2 for f in ids[6:12]},
        "constraints": [],
    }
    base.update(changes)
    return Snapshot(**base)


def plan(s: Snapshot):
    return plan_regroup(
        s, DLIB, RecognitionSettings(), ClusterSettings(), "hdbscan", cluster
    )  # fmt: skip


def test_recognition_clustering_and_cluster_ids() -> None:
    p = plan(snapshot())
    assert {f: v[0] for f, v in p.recognised.items()} == {f: 1 for f in range(102, 106)}
    groups = {}
    for f, c in p.clustered.items():
        groups.setdefault(c, set()).add(f)
    assert sorted(map(sorted, groups.values())) == [list(range(106, 112)), list(range(112, 118))]
    kept = p.clustered[106]
    assert p.mapping == {kept: 2}  # the cluster holding person 2's faces keeps its id
    assert p.unknown == 12 and p.clusters == 2


def test_the_users_decisions_and_birth_dates_bind_the_plan() -> None:
    p = plan(
        snapshot(
            rejected={(102, 1)},  # "not this person"
            born={1: "2010-01-01"},
            taken={103: "2009-12-31", 104: "2010-01-01"},  # 103's photo is before the birth
            constraints=[(104, 106, "must-link"), (112, 113, "cannot-link")],
        )
    )
    assert 102 not in p.recognised and 103 not in p.recognised
    assert p.recognised[104][0] == 1 and p.recognised[106][0] == 1  # 106 follows 104
    assert p.clustered.get(112) != p.clustered.get(113) or 112 not in p.clustered
    assert (102, 1) in p.blocked and (103, 1) in p.blocked
    assert (104, 1) not in p.blocked and (105, 1) not in p.blocked  # same day; no date
