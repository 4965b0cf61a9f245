"""Reader for dlib's serialized DNN files (``dlib_face_recognition_resnet_model_v1.dat``).

Pure numpy, no dlib. The layout (integers with a control byte, floats as mantissa/exponent
pairs, raw float32 tensors, a loss header, wrapper versions from the output down, then layer
bodies from the input up) is described in dlib's ``serialize.h`` and ``dnn/core.h``.
Nothing in the file is executed; anything unexpected raises :class:`DlibFormatError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class DlibFormatError(ValueError):
    """The file is not a dlib network of the kind this reader understands."""


@dataclass
class Layer:
    """One real layer: its tag (``con_4``, ``affine_``...) and the fields it stores."""

    kind: str
    fields: dict = field(default_factory=dict)


@dataclass
class DlibNetFile:
    loss: str
    input_mean: tuple[float, float, float]
    input_size: tuple[int, int]
    layers: list[Layer]  # input side first


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DlibFormatError(f"file ends early (wanted {n} bytes at offset {self.pos})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def integer(self, max_bytes: int = 8) -> int:
        control = self._take(1)[0]
        n = control & 0x0F
        if n == 0 or n > max_bytes or control & 0x70:
            raise DlibFormatError(f"bad integer control byte 0x{control:02x} at {self.pos - 1}")
        value = int.from_bytes(self._take(n), "little")
        return -value if control & 0x80 else value

    def boolean(self) -> bool:
        b = self._take(1)
        if b not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {b!r} at {self.pos - 1}")
        return b == b"1"

    def string(self) -> str:
        n = self.integer()
        return self._take(n).decode("latin-1")

    def scalar(self) -> float:
        mantissa = self.integer(8)
        exponent = self.integer(2)
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise DlibFormatError(f"unsupported tensor version {version}")
        shape = tuple(self.integer() for _ in range(4))
        count = math.prod(shape)
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)

    def alias(self) -> tuple[int, int, int, int]:
        version = self.integer()
        if version != 1:
            raise DlibFormatError(f"unsupported alias_tensor version {version}")
        return tuple(self.integer() for _ in range(4))  # type: ignore[return-value]


def _read_details(r: _Reader) -> Layer:
    kind = r.string()
    f: dict = {}
    if kind == "con_4":
        f["params"] = r.tensor()
        f["num_filters"] = r.integer()
        f["nr"], f["nc"] = r.integer(), r.integer()
        f["stride"] = (r.integer(), r.integer())
        f["padding"] = (r.integer(), r.integer())
        f["filters"] = r.alias()
        f["biases"] = r.alias()
        for _ in range(4):
            r.scalar()  # learning-rate and weight-decay multipliers
    elif kind == "affine_":
        f["params"] = r.tensor()
        f["gamma"] = r.alias()
        f["beta"] = r.alias()
        f["mode"] = r.integer()
    elif kind in ("relu_", "add_prev_"):
        pass
    elif kind in ("max_pool_2", "avg_pool_2"):
        f["nr"], f["nc"] = r.integer(), r.integer()
        f["stride"] = (r.integer(), r.integer())
        f["padding"] = (r.integer(), r.integer())
    elif kind == "fc_2":
        f["num_outputs"] = r.integer()
        f["num_inputs"] = r.integer()
        f["params"] = r.tensor()
        f["weights"] = r.alias()
        f["biases"] = r.alias()
        f["bias_mode"] = r.integer()
        for _ in range(4):
            r.scalar()
    else:
        raise DlibFormatError(f"unsupported layer type {kind!r}")
    return Layer(kind, f)


def read_dlib_net(path: str | Path) -> DlibNetFile:
    """Parse a dlib metric-learning network file; every byte must be accounted for."""
    r = _Reader(Path(path).read_bytes())
    if r.integer() != 1:
        raise DlibFormatError("not a dlib add_loss_layer (version 1)")
    loss = r.string()
    if loss == "loss_metric_2":
        r.scalar()  # margin
        r.scalar()  # distance threshold
    elif loss != "loss_metric_":
        raise DlibFormatError(f"unsupported loss layer {loss!r}")

    # Wrapper versions, output side first: 2 for a real layer, 1 for tag/skip, 3 for the
    # innermost layer (the one wrapping the input). Read until that innermost 3.
    versions: list[int] = []
    while True:
        v = r.integer()
        if v not in (1, 2, 3):
            raise DlibFormatError(f"unexpected layer wrapper version {v}")
        versions.append(v)
        if v == 3:
            break

    if r.string() != "input_rgb_image_sized":
        raise DlibFormatError("expected an input_rgb_image_sized input layer")
    mean = (r.scalar(), r.scalar(), r.scalar())
    size = (r.integer(), r.integer())

    layers: list[Layer] = []
    for v in reversed(versions):
        if v == 1:
            continue  # tags and skips store nothing here
        layer = _read_details(r)
        for _ in range(3):
            r.boolean()
        r.tensor()  # x_grad
        r.tensor()  # cached_output
        if v == 2:
            r.tensor()  # params_grad
        else:
            r.tensor()  # grad_final
            r.integer()  # sample expansion factor
        layers.append(layer)
    if r.pos != len(r.data):
        raise DlibFormatError(f"{len(r.data) - r.pos} unread bytes at the end of the file")
    return DlibNetFile(loss=loss, input_mean=mean, input_size=size, layers=layers)
