"""The trainable networks: InceptionResnetV1 through the loop, bases that need weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from album.cli import main
from models.registry import facenet_preprocess
from training.data import ChipDataset
from training.loop import TrainConfig, Trainer
from training.models import INCEPTION, base_spec_name, freeze, load_base


@pytest.mark.slow  # building and running InceptionResnetV1 on CPU: 10-20 s on a busy machine
def test_inception_from_scratch_trains_a_step(tmp_path) -> None:
    base = load_base("inception-resnet-v1", 32)
    assert base.spec_name == "facenet-vggface2" and base.init == "scratch"
    freeze(base.net, INCEPTION, 11)  # train block8, last_linear, last_bn: fast
    rng = np.random.default_rng(0)
    data = ChipDataset(
        rng.integers(0, 256, (8, 96, 96, 3), dtype=np.uint8),  # small: fully convolutional
        np.repeat(np.arange(4), 2),
        ["a", "b", "c", "d"],
        [str(i) for i in range(8)],
    )
    before = {k: v.clone() for k, v in base.net.state_dict().items()}
    cfg = TrainConfig(epochs=1, batch_p=4, batch_k=2, batches_per_epoch=1, lr=1e-2, miner="all")
    trainer = Trainer(base.net, data, facenet_preprocess, cfg, run_dir=tmp_path, device="cpu")
    history = trainer.fit(progress=False)
    assert np.isfinite(history[-1].loss)
    after = base.net.state_dict()
    assert torch.equal(before["repeat_3.0.conv2d.weight"], after["repeat_3.0.conv2d.weight"])
    assert not torch.equal(before["last_linear.weight"], after["last_linear.weight"])
    assert (tmp_path / "state.safetensors").is_file()


def test_bases_that_need_weights_or_do_not_exist_are_user_errors(tmp_path, capsys) -> None:
    assert base_spec_name("facenet-casia") == "facenet-casia"
    args = ["train", "--data", str(tmp_path), "--quiet", "--no-eval"]
    assert main([*args, "--base", "facenet-vggface2"]) == 2
    assert "album models fetch facenet-vggface2" in capsys.readouterr().err
    assert main([*args, "--base", "no-such-model"]) == 2
    assert "unknown model" in capsys.readouterr().err


@pytest.mark.parametrize("embedding_size", [None, 64])
def test_dlib_base_keeps_or_replaces_its_head(embedding_size) -> None:
    base = load_base("dlib-resnet-v1", embedding_size)
    assert base.embedding_size == (embedding_size or 128)
    out = base.net(torch.zeros(1, 3, 150, 150))
    assert out.shape == (1, base.embedding_size)


def _random_dataset(n_people: int = 4, per: int = 2, size: int = 150) -> ChipDataset:
    rng = np.random.default_rng(1)
    n = n_people * per
    return ChipDataset(
        rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
        np.repeat(np.arange(n_people), per),
        [f"p{i}" for i in range(n_people)],
        [str(i) for i in range(n)],
    )


def test_fine_tune_on_a_dataset_can_be_cancelled_and_resumed(tmp_path) -> None:
    from models.registry import UnknownModelError, get_spec
    from training.pipeline import FineTuneRequest, TrainingCancelled, fine_tune

    cfg = TrainConfig(epochs=2, batch_p=2, batch_k=2, batches_per_epoch=1, miner="all")
    req = FineTuneRequest(
        name=f"cancel-{tmp_path.name[-10:]}".replace("_", "-"), dataset=_random_dataset(),
        freeze=15, config=cfg, val_fraction=0, progress=False, run_dir=tmp_path / "run",
    )  # fmt: skip
    batches: list[tuple[int, int, int]] = []
    with pytest.raises(TrainingCancelled, match="after epoch 1"):
        fine_tune(req, should_stop=lambda: len(batches) >= 1, on_batch=lambda *a: batches.append(a))
    assert batches == [(1, 1, 1)]
    with pytest.raises(UnknownModelError):
        get_spec(req.name)  # nothing registered
    req.resume = True
    epochs = []
    res = fine_tune(req, on_epoch=lambda r: epochs.append(r.epoch))
    assert epochs == [2] and [r.epoch for r in res.history] == [0, 1, 2]
    assert res.history[1].batches == 1
    assert res.kept_epoch == 2 and get_spec(req.name).origin == "trained"
