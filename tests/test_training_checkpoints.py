"""Trained models on disk: safetensors + JSON, discovered by the registry, loaded by Embedder."""

from __future__ import annotations

import json
import struct
import uuid

import numpy as np
import pytest
import torch

from models import registry
from models.embedder import Embedder
from training import checkpoints
from training.evaluate import embed_chips
from training.models import DLIB, INCEPTION, build_architecture, freeze, load_base, train_mode


def _unique(prefix: str) -> str:
    # The registry is process-wide while each test has its own models folder: fresh names.
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _is_safetensors(path) -> bool:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return isinstance(header, dict) and not data.startswith(b"PK") and b"\x80\x02" not in data[:2]


def _chips(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("embedding_size", [128, 64])
def test_saved_dlib_model_is_discovered_and_embeds_like_the_network(embedding_size: int) -> None:
    base = load_base("dlib-resnet-v1", embedding_size)
    with torch.no_grad():  # make it differ from the packaged weights
        base.net.fc.weight.mul_(1.1).add_(0.01)
    name = _unique("ckpt")
    meta_path = checkpoints.save_trained(
        name,
        base.net,
        base=base.spec_name,
        architecture=base.architecture,
        init=base.init,
        embedding_size=base.embedding_size,
        threshold=0.55,
        calibration=(10.0, 0.6),
        description="test model",
        training={"epochs": 1},
    )
    weights = meta_path.with_suffix(".safetensors")
    assert weights.is_file() and _is_safetensors(weights)
    meta = json.loads(meta_path.read_text())
    assert {"name", "base", "embedding_size", "threshold", "calibration", "description",
            "created", "training"} <= set(meta)  # fmt: skip

    spec = registry.get_spec(name)
    dlib = registry.get_spec("dlib-resnet-v1")
    assert spec.origin == "trained" and spec.embedding_size == embedding_size
    assert spec.template == dlib.template and spec.chip_size == 150 and spec.flip == dlib.flip
    assert spec.threshold == 0.55 and spec.calibration == (10.0, 0.6)
    assert name in [s.name for s in registry.list_specs()]

    chips = _chips(3, 150)
    expected = embed_chips(base.net, chips, spec.preprocess, flip=spec.flip)
    # float32: the round trip must be exact (the default may run in bfloat16)
    got = Embedder(name, device="cpu", precision="fp32").embed_chips(chips)
    assert got.shape == (3, embedding_size)
    assert np.abs(got - expected).max() < 1e-5


def test_loading_checks_the_recorded_hash(tmp_path) -> None:
    net = build_architecture(DLIB)
    meta_path = checkpoints.save_trained(
        _unique("hash"),
        net,
        base=DLIB,
        architecture=DLIB,
        init="scratch",
        embedding_size=128,
        threshold=0.6,
        calibration=None,
        description="",
        folder=tmp_path,
    )
    meta = json.loads(meta_path.read_text())
    weights = meta_path.with_suffix(".safetensors")
    checkpoints.load_trained_network(meta, weights)
    other = build_architecture(DLIB)
    checkpoints.save_weights(weights, other)
    with pytest.raises(registry.WeightsMissingError, match="changed"):
        checkpoints.load_trained_network(meta, weights)


def test_inception_from_scratch_round_trip(tmp_path) -> None:
    net = build_architecture(INCEPTION, 64).eval()
    meta_path = checkpoints.save_trained(
        _unique("incep"),
        net,
        base="facenet-vggface2",
        architecture=INCEPTION,
        init="scratch",
        embedding_size=64,
        threshold=1.0,
        calibration=None,
        description="",
        folder=tmp_path,
    )
    loaded = checkpoints.load_trained_network(
        json.loads(meta_path.read_text()), meta_path.with_suffix(".safetensors")
    )
    for a, b in zip(net.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with torch.no_grad():  # a small input keeps this fast; the network is fully convolutional
        assert loaded(torch.randn(1, 3, 96, 96)).shape == (1, 64)


def test_training_state_round_trip_restores_model_and_optimizer(tmp_path) -> None:
    net = build_architecture(DLIB)
    freeze(net, DLIB, 14)
    train_mode(net)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3)
    net(torch.randn(2, 3, 150, 150)).sum().backward()
    opt.step()
    checkpoints.save_training_state(tmp_path, net, opt, epoch=3, info={"history": [1, 2]})
    assert _is_safetensors(tmp_path / "state.safetensors")

    net2 = build_architecture(DLIB)
    freeze(net2, DLIB, 14)
    opt2 = torch.optim.Adam([p for p in net2.parameters() if p.requires_grad], lr=5.0)
    info = checkpoints.load_training_state(tmp_path, net2, opt2)
    assert info["epoch"] == 3 and info["history"] == [1, 2]
    for a, b in zip(net.state_dict().values(), net2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s2["param_groups"][0]["lr"] == 1e-3
    for k in s1["state"]:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(s1["state"][k][key], s2["state"][k][key])


def test_freeze_counts_units_and_keeps_frozen_batchnorm_in_eval() -> None:
    net = build_architecture(INCEPTION)
    names = freeze(net, INCEPTION, 9)
    assert names[0] == "conv2d_1a" and names[-1] == "repeat_2"
    train_mode(net)
    assert not net.repeat_2.training and net.repeat_3.training
    assert not any(p.requires_grad for p in net.repeat_2.parameters())
    assert all(p.requires_grad for p in net.last_linear.parameters())
    with pytest.raises(ValueError):
        freeze(net, INCEPTION, 99)


def test_invalid_names_are_refused() -> None:
    for bad in ("", "../x", ".hidden", "a b", "x/y"):
        with pytest.raises(ValueError):
            checkpoints.check_name(bad)
    assert checkpoints.check_name("my-model_2.0") == "my-model_2.0"
