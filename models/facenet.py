"""FaceNet (facenet-pytorch's InceptionResnetV1) weights: fetch, import, verify and load.

The published files are plain state dicts, including the classifier (``logits``) the networks
were trained with. No SHA-256 is published for them, so a file is accepted on its structure:
it must load without running pickled code and hold exactly the tensors of
``InceptionResnetV1(classify=True, num_classes=N)`` with the same shapes. Once accepted, its
SHA-256 and size are written to a JSON sidecar (``<model name>.json``) beside it, and every load
checks the stored file against that hash.

Hashing at every load rather than caching by (size, mtime): loading reads the whole file anyway,
so the file is read once into memory, hashed and parsed from the same bytes. That costs a
fraction of a second for ~100 MB, detects corruption that keeps size and mtime, and checks the
very bytes that are loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from models import weights
from models.errors import UnknownModelError, WeightsMissingError
from models.paths import models_dir
from models.weights import WeightsError

_RELEASE = "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"


@dataclass(frozen=True)
class FacenetSource:
    """Where a model's published state dict comes from."""

    url: str
    filename: str
    num_classes: int  # rows of the ``logits`` classifier in the published state dict


# name -> source. Tests replace entries (monkeypatch.setitem) to serve small files locally.
SOURCES: dict[str, FacenetSource] = {
    "facenet-vggface2": FacenetSource(
        _RELEASE + "20180402-114759-vggface2.pt", "20180402-114759-vggface2.pt", 8631
    ),
    "facenet-casia": FacenetSource(
        _RELEASE + "20180408-102900-casia-webface.pt", "20180408-102900-casia-webface.pt", 10575
    ),
}


class CorruptWeightsError(WeightsMissingError, WeightsError):
    """Stored weights no longer match the SHA-256 recorded when they were accepted."""


@dataclass(frozen=True)
class StoredWeights:
    """What the sidecar records about an accepted weights file."""

    name: str
    path: Path
    sha256: str
    size: int
    source: str


def _source(name: str) -> FacenetSource:
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise UnknownModelError(f"unknown FaceNet model {name!r}; known: {known}") from None


def facenet_dir() -> Path:
    """Folder of the FaceNet weights and their sidecars."""
    return models_dir() / "facenet"


def weights_path(name: str) -> Path:
    """Where the weights of ``name`` are stored (whether or not they are there)."""
    return facenet_dir() / _source(name).filename


def sidecar_path(name: str) -> Path:
    """The JSON file recording the stored weights' SHA-256 and size."""
    _source(name)
    return facenet_dir() / f"{name}.json"


def _download_path(name: str) -> Path:
    """Downloads land here (and their ``.part`` beside) until verified."""
    return facenet_dir() / "downloads" / _source(name).filename


def stored(name: str) -> StoredWeights | None:
    """The sidecar's record of the weights of ``name`` if they were accepted, else None.

    Cheap (no hashing): the record only counts when the file exists with the recorded size.
    """
    path = weights_path(name)
    try:
        meta = json.loads(sidecar_path(name).read_text())
        record = StoredWeights(
            name, path, str(meta["sha256"]), int(meta["size"]), str(meta["source"])
        )
        if meta.get("file") != path.name or path.stat().st_size != record.size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record


def is_available(name: str) -> bool:
    """Whether accepted weights of ``name`` are on disk (the hash is checked at load)."""
    return stored(name) is not None


def _missing_message(name: str) -> str:
    src = _source(name)
    return (
        f"the weights of {name} are not on this computer. Download them with "
        f"`album models fetch {name}`, or if you already have the file {src.filename} "
        f"(from {src.url}), use `album models import {name} FILE`"
    )


# --- structural verification -----------------------------------------------------------------


@lru_cache(maxsize=4)
def expected_shapes(num_classes: int) -> dict[str, tuple[tuple[int, ...], bool]]:
    """key -> (shape, is floating point) of InceptionResnetV1 with a ``num_classes`` classifier."""
    from facenet_pytorch.models.inception_resnet_v1 import InceptionResnetV1

    with torch.device("meta"):  # shapes only: no memory, no random init, no download
        net = InceptionResnetV1(pretrained=None, classify=True, num_classes=num_classes)
    return {k: (tuple(v.shape), v.is_floating_point()) for k, v in net.state_dict().items()}


def _finite(tensor: torch.Tensor) -> bool:
    # The sum is finite iff no element is NaN/inf (or the values are absurd, > 1e38 in total);
    # several times cheaper than isfinite(tensor).all() on ~23M values.
    acc = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    return bool(torch.isfinite(tensor.sum(dtype=acc)))


def _is_optional(key: str) -> bool:
    # BatchNorm's step counter: only used for momentum=None during training, never in eval.
    # Files written before PyTorch 0.4.1 lack it, and BatchNorm itself tolerates its absence.
    return key.endswith(".num_batches_tracked")


def check_structure(
    name: str,
    state: dict[str, torch.Tensor],
    source: str = "the file",
    *,
    check_values: bool = True,
) -> None:
    """Raise WeightsError unless ``state`` is exactly the published state dict's layout for
    ``name``: the same keys (``num_batches_tracked`` counters may be absent) and shapes,
    floating-point weights and, with ``check_values``, finite values."""
    num_classes = _source(name).num_classes
    expected = expected_shapes(num_classes)
    missing = [k for k in expected if k not in state and not _is_optional(k)]
    extra = [k for k in state if k not in expected]
    problems: list[str] = []
    if missing:
        problems.append(f"{len(missing)} expected tensors are missing (e.g. {missing[0]!r})")
    if extra:
        problems.append(f"{len(extra)} unexpected tensors (e.g. {extra[0]!r})")
    for key, tensor in state.items():
        if key not in expected:
            continue
        shape, floating = expected[key]
        if tuple(tensor.shape) != shape:
            problems.append(f"{key!r} has shape {tuple(tensor.shape)}, expected {shape}")
        elif floating and not tensor.is_floating_point():
            problems.append(f"{key!r} has dtype {tensor.dtype}, expected floating point")
        elif floating and check_values and not _finite(tensor):
            problems.append(f"{key!r} contains NaN, infinite or absurdly large values")
    if not problems:
        return
    hint = ""
    logits = state.get("logits.weight")
    if logits is not None and logits.ndim == 2:
        others = [n for n, s in SOURCES.items() if n != name and s.num_classes == logits.shape[0]]
        if others:
            hint = f" It looks like the weights of {others[0]}, not {name}."
    shown = "; ".join(problems[:3])
    if len(problems) > 3:
        shown += f"; and {len(problems) - 3} more"
    raise WeightsError(
        f"{source} is not the {name} state dict (InceptionResnetV1 with {num_classes} classes): "
        f"{shown}.{hint}"
    )


# --- accepting a file ------------------------------------------------------------------------


def _accept(
    name: str, data: bytes, source: str, origin: str, fmt: weights.Format | None = None
) -> Path:
    """Verify ``data`` and install it as the weights of ``name`` with its sidecar.

    The bytes are stored unchanged under the table's file name whatever their format
    (torch or safetensors); loading tells the format from the content.
    """
    fmt = fmt or weights.sniff_format(data[:16])
    state = weights.state_dict_from_bytes(data, fmt, source=source)
    check_structure(name, state, source)
    digest = hashlib.sha256(data).hexdigest()
    dest = weights_path(name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sidecar = sidecar_path(name)
    sidecar.unlink(missing_ok=True)  # the old record must never vouch for the new file
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WeightsError(f"could not store the weights of {name} in {dest}: {exc}") from exc
    record = {
        "name": name,
        "file": dest.name,
        "sha256": digest,
        "size": len(data),
        "format": fmt,
        "source": origin,
        "accepted": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp_meta = sidecar.with_name(sidecar.name + ".tmp")
    try:
        tmp_meta.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp_meta, sidecar)
    except OSError as exc:
        tmp_meta.unlink(missing_ok=True)
        raise WeightsError(f"could not write {sidecar}: {exc}") from exc
    return dest


def fetch(
    name: str,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    force: bool = False,
    timeout: float = 30,
) -> Path:
    """Download the published weights of ``name``, verify them and store them.

    Resumes an interrupted download. Does nothing when intact weights are already stored,
    unless ``force``. A downloaded file that fails verification is deleted. Raises WeightsError.
    """
    src = _source(name)
    if not force and is_available(name):
        try:
            verify_stored(name)
            return weights_path(name)
        except CorruptWeightsError:
            pass  # fetch again
    staged = _download_path(name)
    weights.download(src.url, staged, progress=progress, timeout=timeout)
    try:
        data = staged.read_bytes()
        return _accept(name, data, f"the file downloaded from {src.url}", src.url)
    except WeightsError as exc:
        raise WeightsError(f"{str(exc).rstrip('.')}. The downloaded file was deleted.") from exc
    finally:
        staged.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            staged.parent.rmdir()  # only when empty: an unrelated .part may be there


def import_weights(name: str, file: Path) -> Path:
    """Verify a local copy of the published weights of ``name`` and copy it into place.

    The user's file is only read, never moved or changed. Raises WeightsError when it is not
    the expected state dict (nothing is stored then).
    """
    _source(name)
    file = Path(file).expanduser()
    if not file.is_file():
        raise WeightsError(f"{file} is not a file")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read {file}: {exc}") from exc
    # Verify and store the very bytes read, so a file changing meanwhile cannot slip through.
    return _accept(
        name, data, str(file), f"import:{file.resolve()}", weights.format_from_suffix(file)
    )


def verify_stored(name: str) -> bytes:
    """The stored weights' bytes after checking them against the recorded SHA-256.

    Raises WeightsMissingError when absent, CorruptWeightsError when they changed.
    """
    record = stored(name)
    if record is None:
        raise WeightsMissingError(_missing_message(name))
    try:
        data = record.path.read_bytes()
    except OSError as exc:
        raise WeightsMissingError(
            f"cannot read {record.path}: {exc}. {_missing_message(name)}"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != record.sha256:
        raise CorruptWeightsError(
            f"the stored weights of {name} are corrupted: {record.path} has SHA-256 {digest}, "
            f"recorded {record.sha256} when accepted. Get them again with "
            f"`album models fetch {name} --force` or `album models import {name} FILE`"
        )
    return data


def load_facenet(name: str) -> torch.nn.Module:
    """InceptionResnetV1 in eval mode with the stored weights of ``name``; outputs (N, 512)
    L2-normalized embeddings. Raises WeightsMissingError when the weights are not stored."""
    from facenet_pytorch.models.inception_resnet_v1 import InceptionResnetV1

    path = weights_path(name)
    data = verify_stored(name)
    state = weights.state_dict_from_bytes(data, source=str(path))
    # Values were checked when the file was accepted, and the hash says it is the same file.
    check_structure(name, state, str(path), check_values=False)
    # On the meta device: no random init, no download (pretrained=None); the loaded tensors
    # become the parameters (assign=True) instead of being copied into fresh ones.
    with torch.device("meta"):
        net = InceptionResnetV1(pretrained=None, classify=False)
    model_state = net.state_dict()
    for key in model_state:
        if key not in state:  # only an absent BatchNorm step counter gets here
            state[key] = torch.zeros((), dtype=torch.long)
    state = {
        k: v.float() if v.is_floating_point() else v.long()
        for k, v in state.items()
        if k in model_state  # drops logits.*: this network outputs embeddings
    }
    net.load_state_dict(state, strict=True, assign=True)
    return net.eval()
