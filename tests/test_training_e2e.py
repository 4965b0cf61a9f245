"""A tiny fine-tuning run through ``album train`` on a handful of LFW people."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from album.cli import main

TRAIN_PEOPLE = [
    "Colin_Powell", "Tony_Blair", "Donald_Rumsfeld", "Gerhard_Schroeder",
    "Ariel_Sharon", "Hugo_Chavez", "Jean_Chretien", "John_Ashcroft",
]  # fmt: skip
EVAL_PEOPLE = ["Serena_Williams", "Vladimir_Putin"]


def _tiny_lfw(lfw: Path, root: Path, per_person: int = 3) -> Path:
    """Identity folders of a few LFW people (links) and a View-1-style pairs file of two
    other people."""
    for name in TRAIN_PEOPLE + EVAL_PEOPLE:
        (root / name).mkdir(parents=True)
        count = 2 if name in EVAL_PEOPLE else per_person
        for i in range(1, count + 1):
            f = f"{name}_{i:04d}.jpg"
            (root / name / f).symlink_to(lfw / name / f)
    s, v = EVAL_PEOPLE
    rows = [f"{s}\t1\t2", f"{v}\t1\t2", f"{s}\t1\t{v}\t1", f"{s}\t2\t{v}\t2"]
    (root / "pairsDevTest.txt").write_text("2\n" + "\n".join(rows) + "\n")
    return root


def test_tiny_training_run_checkpoints_resumes_and_registers(lfw, tmp_path, capsys) -> None:
    from models import registry
    from models.embedder import Embedder
    from training.pipeline import default_run_dir

    data = _tiny_lfw(lfw, tmp_path / "lfw")
    name = f"tiny-{tmp_path.name[-12:].replace('_', '-')}"
    common = ["train", "--data", str(data), "--out", name, "--batch-p", "4", "--batch-k", "2",
              "--batches-per-epoch", "2", "--val-fraction", "0.25", "--freeze", "14",
              "--lr", "1e-3", "--keep", "last", "--quiet", "--device", "cpu"]  # fmt: skip
    assert main([*common, "--epochs", "1"]) == 0
    first = capsys.readouterr().out
    assert "VAL@FAR=1e-3" in first and f"registered model {name}" in first

    run_dir = default_run_dir(name)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epoch"] == 1
    assert (run_dir / "plot.png").stat().st_size > 1000
    epoch1 = state["history"][1]
    assert np.isfinite(epoch1["loss"]) and epoch1["faces"] == 16
    assert 0 <= epoch1["violating_fraction"] <= 1

    # Held-out people never trained on; validation people neither.
    meta = json.loads((registry.trained_dir() / f"{name}.json").read_text())
    assert meta["training"]["train_identities"] == 6 and meta["training"]["val_identities"] == 2
    assert meta["training"]["before"]["pairs"] == 4

    # Resume: epoch 1 is not trained again, epoch 2 is added.
    assert main([*common, "--epochs", "2", "--resume"]) == 0
    capsys.readouterr()
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epoch"] == 2
    assert [r["epoch"] for r in state["history"]] == [0, 1, 2]
    assert state["history"][1] == epoch1

    spec = registry.get_spec(name)
    assert spec.origin == "trained"
    assert Embedder(name, device="cpu").embed_chips(np.zeros((1, 150, 150, 3), np.uint8)).shape == (
        1,
        128,
    )


def test_train_refuses_overlapping_or_missing_inputs(lfw, tmp_path, capsys) -> None:
    assert main(["train", "--quiet"]) == 2
    assert "--data DIR" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "nope"), "--quiet"]) == 2
    assert main(["train", "--bench", "--quiet"]) == 2
    with pytest.raises(SystemExit):
        main(["train", "--data", str(tmp_path), "--from-catalog"])
