"""Clustering (album.people.clustering), neighbours and the clustering metrics."""

from __future__ import annotations

import numpy as np
import pytest

from album.evaluation.cluster_scores import score_clustering
from album.people.clustering import ClusterReport, ClusterSettings, cluster, violations
from album.people.knn import knn
from album.people.synthetic import synthetic_people


def test_scores_of_known_clusterings() -> None:
    truth = np.array([0, 0, 0, 1, 1])
    perfect = score_clustering(truth, np.array([5, 5, 5, 7, 7]))
    assert perfect.bcubed_f == perfect.pairwise_f == 1.0
    assert (perfect.clusters, perfect.identities) == (2, 2)
    lumped = score_clustering(truth, np.zeros(5, dtype=int))
    # BCubed precision: 3 faces see 3/5 of their cluster, 2 see 2/5.
    assert lumped.bcubed_precision == pytest.approx((3 * 3 / 5 + 2 * 2 / 5) / 5)
    assert lumped.bcubed_recall == 1.0
    assert lumped.pairwise_precision == pytest.approx(4 / 10)
    alone = score_clustering(truth, np.full(5, -1))  # every face its own cluster
    assert alone.bcubed_precision == 1.0 and alone.singletons == 5 and alone.clusters == 0
    assert alone.bcubed_recall == pytest.approx((3 * 1 / 3 + 2 * 1 / 2) / 5)
    assert alone.pairwise_recall == 0.0
    assert (perfect.mixed, perfect.worst_mix) == (0, 0.0)
    assert (lumped.mixed, lumped.worst_mix) == (1, pytest.approx(2 / 5))
    assert (alone.mixed, alone.worst_mix) == (0, 0.0)
    # 1 stranger among 20 faces is 5%: not over it; among 19, it is
    big = np.array([0] * 19 + [1])
    assert score_clustering(big, np.zeros(20, dtype=int)).mixed == 0
    assert score_clustering(big[1:], np.zeros(19, dtype=int)).mixed == 1


def test_knn_exact_and_queries() -> None:
    x, _ = synthetic_people(30, 6, seed=1)
    idx, dist = knn(x, 4)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert np.array_equal(idx[:, 0], d.argmin(1))
    assert np.allclose(dist[:, 0], d.min(1), atol=1e-4)
    assert (idx != np.arange(len(x))[:, None]).all()
    q_idx, q_dist = knn(x[:10], 12, queries=x[:2])
    assert q_idx.shape == (2, 12) and (q_idx[:, 10:] == -1).all()
    assert np.isinf(q_dist[:, 10:]).all() and q_idx[0, 0] == 0


def test_knn_approximate_finds_near_neighbours() -> None:
    pytest.importorskip("faiss")
    x, _ = synthetic_people(300, 8, seed=2)
    exact, _ = knn(x, 5, exact=True)
    approx, _ = knn(x, 5, exact=False)
    assert (exact[:, 0] == approx[:, 0]).mean() > 0.99


@pytest.mark.parametrize("method", ["hdbscan", "agglomerative"])
def test_separated_people_are_found(method: str) -> None:
    x, truth = synthetic_people(40, 6, seed=3)
    labels = cluster(x, method=method)
    assert score_clustering(truth, labels).bcubed_f == 1.0


def test_graph_path_agrees_with_hdbscan() -> None:
    x, truth = synthetic_people(60, np.arange(60) % 9 + 2, seed=4)
    exact = cluster(x, path="hdbscan")
    rep = ClusterReport()
    graph = cluster(x, path="graph", report=rep)
    assert rep.path == "graph"
    assert score_clustering(truth, exact).bcubed_f > 0.99
    assert score_clustering(truth, graph).bcubed_f > 0.99


def test_poor_faces_do_not_seed_but_join() -> None:
    x, _truth = synthetic_people(5, 6, seed=5)
    # Two poor faces of a sixth person: no cluster of their own; a poor face of person 0 joins.
    extra, _ = synthetic_people(1, 2, seed=99)
    x = np.vstack([x, extra])
    quality = np.full(len(x), 0.9)
    quality[-2:] = 0.1
    quality[0] = 0.1
    labels = cluster(x, quality)
    assert labels[-1] == labels[-2] == -1
    assert labels[0] == labels[1] >= 0


def test_cannot_link_splits_and_must_link_joins() -> None:
    x, _truth = synthetic_people(6, 6, seed=6)
    cannot = [(0, 1), (0, 2)]  # face 0 is not faces 1 and 2 (same photo, or the user said)
    must = [(6, 12)]  # persons 1 and 2 are one (the user said)
    rep = ClusterReport()
    labels = cluster(x, cannot_link=cannot, must_link=must, report=rep)
    assert len(violations(labels, cannot)) == 0
    assert labels[0] == -1 or labels[0] not in (labels[1], labels[2])
    assert labels[6] == labels[12] >= 0
    # Must-link never overrides cannot-link.
    labels = cluster(x, cannot_link=[(6, 12)], must_link=[(6, 12)])
    assert labels[6] != labels[12] or labels[6] == -1


def test_a_face_cannot_linked_with_all_its_cluster_leaves_alone() -> None:
    # The user took face `out` out of its person: it is cannot-linked with all of them, and
    # only it leaves; the person is not cut into pieces around it.
    x, truth = synthetic_people(4, 8, spread=0.3, seed=7)
    rows = np.flatnonzero(truth == 1)
    out = int(rows[0])
    cannot = [(out, int(r)) for r in rows[1:]]
    rep = ClusterReport()
    labels = cluster(x, cannot_link=cannot, report=rep)
    assert len(violations(labels, cannot)) == 0
    rest = labels[rows[1:]]
    assert rest[0] >= 0 and (rest == rest[0]).all()
    assert labels[out] != rest[0]


def test_look_alikes_stay_apart() -> None:
    rng = np.random.default_rng(7)
    x, truth = synthetic_people(2, 12, spread=0.25, seed=7)
    # Person 1: person 0's twin, centre 0.45 away (above the threshold, closer than strangers).
    c0 = x[truth == 0].mean(0)
    shift = rng.standard_normal(x.shape[1])
    shift -= shift @ c0 / (c0 @ c0) * c0
    twin = x[truth == 0] + 0.45 * shift / np.linalg.norm(shift)
    x[truth == 1] = twin / np.linalg.norm(twin, axis=1, keepdims=True)
    s = score_clustering(truth, cluster(x))
    assert s.bcubed_precision == 1.0


def test_settings_and_errors() -> None:
    x, _ = synthetic_people(3, 4, seed=8)
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster(x, method="kmeans")
    assert cluster(x[:0]).shape == (0,)
    assert (cluster(x[:1]) == -1).all()
    no_attach = cluster(x, settings=ClusterSettings(attach=0, merge=0))
    assert no_attach.shape == (12,)


def _two_people_and_a_stranger(gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Ten tight faces each of people 0 and 1 (their centres ``gap`` apart), and one face
    halfway between them."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal(128)
    a /= np.linalg.norm(a)
    d = rng.standard_normal(128)
    d -= (d @ a) * a
    d /= np.linalg.norm(d)
    theta = 2 * np.arcsin(gap / 2)
    b = np.cos(theta) * a + np.sin(theta) * d
    between = np.cos(0.5 * theta) * a + np.sin(0.5 * theta) * d
    x = np.concatenate(
        [
            a + 0.01 * rng.standard_normal((10, 128)),
            b + 0.01 * rng.standard_normal((10, 128)),
            between[None],
        ]
    )
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.array([0] * 10 + [1] * 10 + [2])


def test_turned_faces_never_seed_and_attach_only_on_evidence() -> None:
    x, _ = _two_people_and_a_stranger(gap=0.6)
    d = np.linalg.norm(x[-1] - x[:-1], axis=1)
    threshold = 0.42
    assert d[:10].max() < threshold and d[10:].min() < threshold  # near both people
    frontal = cluster(x, threshold=threshold)
    assert frontal[0] != frontal[10] and frontal[-1] in (frontal[0], frontal[10])
    yaw = np.zeros(len(x))
    yaw[-1] = 70.0
    report = ClusterReport()
    profile = cluster(x, threshold=threshold, yaw=yaw, report=report)
    assert report.seeds == len(x) - 1
    # Both people are near: too little evidence, the face stays alone for the user to answer.
    assert profile[-1] == -1 and profile[0] != profile[10]
    # Near one person only (the other moved away): it joins that person.
    x[10:20] = -x[10:20]
    lone = cluster(x, threshold=threshold, yaw=yaw)
    assert lone[-1] == lone[0] != lone[10]


def test_side_views_alone_never_make_a_group() -> None:
    # Side views of different people sit closer to each other than to their own frontal
    # faces (CFP): twelve side views about a third of the threshold apart, which as frontal
    # faces would be one person, start no group; the user is asked about them instead.
    rng = np.random.default_rng(7)
    centre = rng.normal(size=128)
    centre /= np.linalg.norm(centre)
    x = centre + 0.1 * rng.normal(size=(12, 128)) / np.sqrt(128)  # about 0.14 apart
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    assert d[np.triu_indices(12, 1)].max() < 0.42
    assert (cluster(x, threshold=0.42) >= 0).all()  # as frontal faces: one group
    side = cluster(x, threshold=0.42, yaw=np.full(12, 75.0))
    assert (side == -1).all()


def test_a_person_in_a_handful_of_evenly_spread_photos_is_one_group() -> None:
    """Six faces of one person, each about 0.17 from every other (the threshold is 0.42):
    HDBSCAN finds no group in so few, the two nearest are paired, and the other four join
    them (they were left alone before)."""
    rng = np.random.default_rng(4)
    centre = rng.normal(size=128)
    centre /= np.linalg.norm(centre)
    step = rng.normal(size=(6, 128))
    step -= (step @ centre)[:, None] * centre
    step /= np.linalg.norm(step, axis=1, keepdims=True)
    x = centre * np.cos(0.12) + step * np.sin(0.12)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)[np.triu_indices(6, 1)]
    assert d.min() > 0.15 and d.max() < 0.2
    assert (cluster(x.astype(np.float32), threshold=0.42) == 0).all()
