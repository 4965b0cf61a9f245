"""Trained models and training state on disk, in safetensors and JSON only (never pickle).

A trained model is two files in ``models.registry.trained_dir()``:

- ``<name>.safetensors``: the network's state dict (the base architecture's keys);
- ``<name>.json``: ``name``, ``base`` (the registered embedder whose chip template and
  pre-processing it uses), ``architecture``, ``init``, ``embedding_size``, ``threshold``,
  ``calibration`` [slope, midpoint], ``description``, ``created`` (ISO time), ``sha256`` of the
  weights file, and ``training`` (figures: before/after, epochs, data...).

The registry discovers the pair and builds the network with
:func:`models.trained.load_trained_network` (re-exported here).

A training run keeps its resumable state in a run folder: ``state.safetensors`` (model and
optimizer tensors) and ``state.json`` (epoch, history, optimizer settings, config).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from models.trained import file_sha256 as _sha256
from models.trained import load_trained_network as load_trained_network

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_name(name: str) -> str:
    """A model name usable as a file name: letters, digits, '-', '_', '.'; not starting with '.'."""
    if not name or name.startswith(".") or not set(name) <= _NAME_CHARS or len(name) > 100:
        raise ValueError(
            f"invalid model name {name!r}: use letters, digits, '-', '_' and '.' (at most 100)"
        )
    return name


def _state_dict(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


# --- trained models -------------------------------------------------------------------------


def save_trained(
    name: str,
    net: nn.Module,
    *,
    base: str,
    architecture: str,
    init: str,
    embedding_size: int,
    threshold: float,
    calibration: tuple[float, float] | None,
    description: str,
    training: dict | None = None,
    folder: Path | None = None,
) -> Path:
    """Write ``<name>.safetensors`` and ``<name>.json`` (weights first, metadata last, so the
    registry never sees metadata without its weights) and return the JSON path."""
    return _save_model(
        name,
        lambda tmp: save_file(
            _state_dict(net), str(tmp), metadata={"name": name, "architecture": architecture}
        ),
        folder,
        base=base,
        architecture=architecture,
        init=init,
        embedding_size=int(embedding_size),
        threshold=threshold,
        calibration=calibration,
        description=description,
        training=training,
    )


def save_head(
    name: str,
    matrix: np.ndarray,
    *,
    base: str,
    init: str,
    threshold: float,
    calibration: tuple[float, float] | None,
    description: str,
    training: dict | None = None,
    folder: Path | None = None,
) -> Path:
    """A personal model over fused model ``base``: the matrix its joined vector goes through
    (``models.trained.HEAD``), written like :func:`save_trained`; returns the JSON path."""
    from safetensors.numpy import save_file as save_numpy

    from models.trained import HEAD

    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    return _save_model(
        name,
        lambda tmp: save_numpy(
            {"matrix": matrix}, str(tmp), metadata={"name": name, "architecture": HEAD}
        ),
        folder,
        base=base,
        architecture=HEAD,
        init=init,
        embedding_size=int(matrix.shape[0]),
        threshold=threshold,
        calibration=calibration,
        description=description,
        training=training,
    )


def _save_model(
    name: str,
    write_weights: Callable[[Path], None],
    folder: Path | None,
    *,
    threshold: float,
    calibration: tuple[float, float] | None,
    description: str,
    training: dict | None,
    **fields: Any,
) -> Path:
    from models.registry import trained_dir

    check_name(name)
    folder = Path(folder) if folder is not None else trained_dir()
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.safetensors"
    tmp = weights.with_name(weights.name + ".tmp")
    write_weights(tmp)
    os.replace(tmp, weights)
    meta = {
        "name": name,
        **fields,  # base, architecture, init, embedding_size
        "threshold": float(threshold),
        "calibration": [float(c) for c in calibration] if calibration else None,
        "description": description,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sha256": _sha256(weights),
        "training": training or {},
    }
    meta_path = folder / f"{name}.json"
    _write_json(meta_path, meta)
    return meta_path


def refresh_registry(name: str):
    """Make the registry (re-)read ``<name>.json`` now and return its spec: a model saved again
    under a name already registered in this process would otherwise keep its old figures."""
    from models import registry

    registry.forget(name)
    return registry.get_spec(name)


# --- resumable training state ----------------------------------------------------------------


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for idx, st in sd["state"].items():
        for key, value in st.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{idx}/{key}"] = value.detach().cpu().contiguous().clone()
            else:
                plain.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], info: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, idx, name = key.split("/", 2)
            state.setdefault(int(idx), {})[name] = value
    for idx, values in info.get("plain_state", {}).items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": info["param_groups"]}


def save_training_state(
    run_dir: Path,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    epoch: int,
    info: dict,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """Checkpoint after ``epoch`` (1-based; 0 = before training) into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"model/{k}": v for k, v in _state_dict(net).items()}
    opt_tensors, opt_info = _flatten_optimizer(optimizer)
    tensors.update(opt_tensors)
    tmp = run_dir / "state.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, run_dir / "state.safetensors")
    data = {"epoch": epoch, "optimizer": opt_info, **info}
    if scaler is not None and scaler.is_enabled():
        data["scaler"] = scaler.state_dict()
    _write_json(run_dir / "state.json", data)


def has_training_state(run_dir: Path) -> bool:
    return (run_dir / "state.json").is_file() and (run_dir / "state.safetensors").is_file()


def load_training_state(
    run_dir: Path,
    net: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> dict:
    """Restore the network (and optimizer, scaler) from ``run_dir``; returns the JSON part
    (``epoch``, ``history``...). Raises FileNotFoundError when there is no state."""
    if not has_training_state(run_dir):
        raise FileNotFoundError(f"no training state to resume in {run_dir}")
    info = json.loads((run_dir / "state.json").read_text())
    tensors = load_file(str(run_dir / "state.safetensors"))
    model = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    net.load_state_dict(model, strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(_unflatten_optimizer(tensors, info["optimizer"]))
    if scaler is not None and "scaler" in info:
        scaler.load_state_dict(info["scaler"])
    return info


def save_weights(path: Path, net: nn.Module) -> None:
    """Just the network's state dict (e.g. the best epoch so far) as safetensors."""
    tmp = path.with_name(path.name + ".tmp")
    save_file(_state_dict(net), str(tmp))
    os.replace(tmp, path)


def load_weights(path: Path, net: nn.Module) -> nn.Module:
    net.load_state_dict(load_file(str(path)), strict=True)
    return net
