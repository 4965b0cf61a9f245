"""The small pieces of training/, each alone: sampler, miners, loss, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.augment import ChipAugmenter, color_jitter, flip, jpeg, random_crop
from training.loss import TripletLoss
from training.miners import (
    BatchAllMiner,
    HardMiner,
    SemiHardMiner,
    make_miner,
    squared_distances,
    violating_fraction,
)
from training.sampler import PKSampler


def _batch(seed: int, p: int = 6, k: int = 4, dim: int = 8, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    emb = torch.nn.functional.normalize(torch.randn(p * k, dim, generator=g, dtype=dtype), dim=1)
    labels = torch.arange(p).repeat_interleave(k)
    perm = torch.randperm(p * k, generator=g)
    return emb[perm], labels[perm]


# --- sampler ---------------------------------------------------------------------------------


def test_pk_batches_have_p_distinct_identities_with_k_faces_each() -> None:
    rng = np.random.default_rng(0)
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(rng.integers(1, 9, size=30))])
    sampler = PKSampler(labels, p=5, k=4, seed=1)
    valid = {i for i in range(30) if (labels == i).sum() >= 2}
    seen = set()
    for batch in sampler.epoch_batches(0):
        ids = labels[batch]
        assert len(batch) == 20
        uniq, counts = np.unique(ids, return_counts=True)
        assert len(uniq) == 5 and (counts == 4).all()
        assert set(uniq.tolist()) <= valid
        for i in uniq:  # without replacement when the identity has K faces or more
            if (labels == i).sum() >= 4:
                assert len(set(np.asarray(batch)[ids == i].tolist())) == 4
        seen |= set(uniq.tolist())
    assert len(sampler) == -(-sum((labels == i).sum() for i in valid) // 20)
    assert seen == valid  # one epoch walks through every valid identity


def test_pk_sampler_is_deterministic_per_epoch_and_iterable() -> None:
    labels = np.repeat(np.arange(10), 3)
    s = PKSampler(labels, p=4, k=2, batches=5, seed=3)
    a = [b.tolist() for b in s.epoch_batches(2)]
    b = [b.tolist() for b in PKSampler(labels, p=4, k=2, batches=5, seed=3).epoch_batches(2)]
    assert a == b
    assert a != [b.tolist() for b in s.epoch_batches(3)]
    s.set_epoch(2)
    assert list(s) == a


def test_pk_sampler_refuses_too_few_identities() -> None:
    with pytest.raises(ValueError, match="two or more faces"):
        PKSampler(np.array([0, 0, 1, 2, 3]), p=2, k=2)


# --- miners ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_semihard_triplets_satisfy_the_condition_and_are_all_found(seed: int) -> None:
    emb, labels = _batch(seed)
    d = squared_distances(emb)
    a, p, n = SemiHardMiner(0.2, "all")(emb, labels)
    assert len(a) > 0
    assert (labels[a] == labels[p]).all() and (labels[a] != labels[n]).all() and (a != p).all()
    gap = d[a, n] - d[a, p]
    assert (gap > 0).all() and (gap <= 0.2).all()
    # Brute force: every semi-hard triplet is returned, once.
    expected = {
        (i, j, m)
        for i in range(len(labels)) for j in range(len(labels)) for m in range(len(labels))
        if i != j and labels[i] == labels[j] and labels[i] != labels[m]
        and 0 < float(d[i, m] - d[i, j]) <= 0.2
    }  # fmt: skip
    got = list(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert len(got) == len(set(got)) and set(got) == expected


def test_semihard_one_picks_the_closest_semihard_negative_per_pair() -> None:
    emb, labels = _batch(7)
    d = squared_distances(emb)
    all_a, all_p, all_n = SemiHardMiner(0.2, "all")(emb, labels)
    a, p, n = SemiHardMiner(0.2, "one")(emb, labels)
    pairs = list(zip(a.tolist(), p.tolist(), strict=True))
    assert (
        len(pairs) == len(set(pairs)) == len(set(zip(all_a.tolist(), all_p.tolist(), strict=True)))
    )
    for i, j, m in zip(a.tolist(), p.tolist(), n.tolist(), strict=True):
        candidates = all_n[(all_a == i) & (all_p == j)]
        assert m in candidates.tolist()
        assert d[i, m] == d[i, candidates].min()


def test_hard_miner_picks_the_hardest() -> None:
    emb, labels = _batch(3)
    d = squared_distances(emb)
    neg = labels[:, None] != labels[None, :]
    closest_neg = torch.where(neg, d, torch.inf).min(1).values
    a, p, n = HardMiner("all")(emb, labels)
    assert len(a) == int((labels[:, None] == labels[None, :]).sum() - len(labels))
    assert torch.equal(d[a, n], closest_neg[a])
    a, p, n = HardMiner("hardest")(emb, labels)
    assert torch.equal(a, torch.arange(len(labels)))
    pos = (labels[:, None] == labels[None, :]) & ~torch.eye(len(labels), dtype=torch.bool)
    assert torch.equal(d[a, p], torch.where(pos, d, -torch.inf).max(1).values)
    assert torch.equal(d[a, n], closest_neg)


def test_batch_all_returns_every_valid_triplet() -> None:
    emb, labels = _batch(1, p=4, k=3)
    a, p, n = BatchAllMiner()(emb, labels)
    assert len(a) == 12 * 2 * 9  # anchors x other faces of the same person x other people
    assert (labels[a] == labels[p]).all() and (labels[a] != labels[n]).all() and (a != p).all()
    assert len(set(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))) == len(a)
    assert make_miner("all").__class__ is BatchAllMiner
    with pytest.raises(ValueError):
        make_miner("nope")


def test_violating_fraction_matches_batch_all_loss_activity() -> None:
    emb, labels = _batch(2)
    res = TripletLoss(0.2)(emb, BatchAllMiner()(emb, labels))
    assert violating_fraction(emb, labels, 0.2) == pytest.approx(res.active_fraction)


@pytest.mark.parametrize("seed", range(4))
def test_semihard_agrees_with_pytorch_metric_learning(seed: int) -> None:
    """Oracle: PML's TripletMarginMiner(margin=0.2, type_of_triplets="semihard") with squared
    Euclidean distances of normalized embeddings (LpDistance(power=2)), which is FaceNet's
    distance; PML's default (power=1) would be non-squared distances, another criterion.
    Both return every semi-hard negative of every anchor-positive pair (our select="all")."""
    pml = pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning.distances import LpDistance
    from pytorch_metric_learning.miners import TripletMarginMiner

    assert pml.__version__
    emb, labels = _batch(seed, p=8, k=5, dim=16, dtype=torch.float64)
    oracle = TripletMarginMiner(
        margin=0.2,
        type_of_triplets="semihard",
        distance=LpDistance(normalize_embeddings=True, p=2, power=2),
    )
    theirs = set(zip(*(t.tolist() for t in oracle(emb, labels)), strict=True))
    ours = set(zip(*(t.tolist() for t in SemiHardMiner(0.2, "all")(emb, labels)), strict=True))
    assert len(ours) > 50
    assert ours == theirs


# --- loss --------------------------------------------------------------------------------------


def test_triplet_loss_hand_computed() -> None:
    # Unit vectors in 2-D: a=(1,0), p at 60 deg (|a-p|^2 = 1), n1 at 90 deg (|a-n1|^2 = 2),
    # n2 at 180 deg (|a-n2|^2 = 4).
    x = torch.tensor([[1.0, 0.0], [0.5, 3**0.5 / 2], [0.0, 1.0], [-1.0, 0.0]])
    triplets = (torch.tensor([0, 0]), torch.tensor([1, 1]), torch.tensor([2, 3]))
    res = TripletLoss(margin=1.2)(x * 3.0, triplets)  # scale: the loss normalizes
    # [1 - 2 + 1.2]_+ = 0.2, [1 - 4 + 1.2]_+ = 0 -> mean over the active one = 0.2
    assert res.loss.item() == pytest.approx(0.2, abs=1e-6)
    assert (res.active_fraction, res.triplets, res.active) == (0.5, 2, 1)
    assert TripletLoss(1.2, "mean")(x, triplets).loss.item() == pytest.approx(0.1, abs=1e-6)
    assert TripletLoss(1.2, "sum")(x, triplets).loss.item() == pytest.approx(0.2, abs=1e-6)


def test_triplet_loss_is_zero_when_the_margin_holds_and_still_backpropagates() -> None:
    x = torch.tensor([[1.0, 0.0], [0.99, 0.1], [-1.0, 0.0]], requires_grad=True)
    res = TripletLoss(0.2)(x, (torch.tensor([0]), torch.tensor([1]), torch.tensor([2])))
    assert res.loss.item() == 0.0 and res.active == 0
    res.loss.backward()
    assert x.grad is not None and torch.all(x.grad == 0)
    empty = torch.zeros(0, dtype=torch.long)
    assert TripletLoss()(x, (empty, empty, empty)).loss.item() == 0.0


def test_triplet_loss_gradient_pulls_positive_in_and_pushes_negative_out() -> None:
    emb, labels = _batch(4)
    emb = emb.clone().requires_grad_(True)
    triplets = BatchAllMiner()(emb, labels)
    res = TripletLoss(0.2)(emb, triplets)
    assert torch.isfinite(res.loss) and res.loss.item() > 0
    res.loss.backward()
    assert emb.grad is not None and emb.grad.abs().sum() > 0
    with torch.no_grad():  # one small gradient step lowers the loss
        stepped = emb - 0.05 * emb.grad
    assert TripletLoss(0.2)(stepped, triplets).loss.item() < res.loss.item()


# --- augmentation -------------------------------------------------------------------------------


def _chips(n: int = 3, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    return base


def test_augmentation_keeps_shape_and_dtype_and_is_deterministic() -> None:
    chips = _chips()
    before = chips.copy()
    aug = ChipAugmenter(flip_p=0.5, crop_p=1, jitter_p=1, jpeg_p=1)
    out = aug(chips, np.random.default_rng(5))
    assert out.shape == chips.shape and out.dtype == np.uint8
    assert np.array_equal(chips, before)  # input untouched
    assert np.array_equal(out, aug(chips, np.random.default_rng(5)))
    assert not np.array_equal(out, aug(chips, np.random.default_rng(6)))
    rng = np.random.default_rng(1)
    for fn in (
        lambda c: random_crop(c, rng),
        lambda c: color_jitter(c, rng),
        lambda c: jpeg(c, rng),
    ):
        y = fn(chips[0])
        assert y.shape == chips[0].shape and y.dtype == np.uint8
    with pytest.raises(ValueError):
        aug(chips.astype(np.float32), rng)


def test_flip_is_a_mirror() -> None:
    chip = _chips(1)[0]
    f = flip(chip)
    assert np.array_equal(f[:, 0], chip[:, -1]) and np.array_equal(f[5, 7], chip[5, -8])
    assert np.array_equal(flip(f), chip)
    always = ChipAugmenter(flip_p=1, crop_p=0, jitter_p=0, jpeg_p=0)
    assert np.array_equal(always(chip[None], np.random.default_rng(0))[0], f)


def test_small_crop_and_jitter_stay_close_to_the_original() -> None:
    yy, xx = np.mgrid[0:64, 0:64]
    chip = np.stack([xx * 4, yy * 4, (xx + yy) * 2], axis=-1).astype(np.uint8)  # smooth
    rng = np.random.default_rng(0)
    crop = random_crop(chip, rng, min_scale=0.9)
    assert np.abs(crop.astype(int) - chip).mean() < 20
    assert np.array_equal(random_crop(chip, rng, min_scale=1.0), chip)
    q = jpeg(chip, rng, (90, 90))
    assert np.abs(q.astype(int) - chip).mean() < 3
