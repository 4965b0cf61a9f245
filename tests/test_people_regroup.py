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


def test_a_confirmed_side_view_draws_in_no_strangers_side_views() -> None:
    """Side views of different people sit close to each other: a confirmed side view is not
    matched against, so a stranger's side view near it is not given to its person."""
    s = snapshot()
    x = s.x.copy()
    # Person 1's confirmed side view (row 1, face 101) sits far from its frontal faces, as
    # side views do; person 3's last face (row 17, face 117) is a side view right next to it.
    rng = np.random.default_rng(0)
    away = rng.standard_normal(x.shape[1])
    away -= away @ x[0] * x[0]
    x[1] = x[0] * np.cos(0.7) + away / np.linalg.norm(away) * np.sin(0.7)  # 0.69 from face 100
    x[17] = x[1] + 0.01 * rng.standard_normal(x.shape[1])
    x[17] /= np.linalg.norm(x[17])
    yaw = dict(s.yaw) | {101: 80.0, 117: 80.0}
    p = plan(snapshot(x=x, yaw=yaw))
    assert 117 not in p.recognised or p.recognised[117][0] != 1
    # The same faces, frontal: then the confirmed face does recognise it.
    p = plan(snapshot(x=x))
    assert p.recognised[117][0] == 1
