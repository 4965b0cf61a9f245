"""Small ONNX networks as torch modules: their weights read from the file, their graph run
node by node with torch operations.

The project's networks run in torch (and, compiled from the torch module, in OpenVINO):
ONNX is only the file format the weights ship in. SFace gets a hand-written port
(``models.sface``); a plain convolutional graph such as YuNet's is simply replayed by
:class:`OnnxGraph`, which knows the few operators those graphs use and refuses any other.
Weights stored block-quantized (int8 with a scale per block, as OpenCV Zoo ships them) are
dequantized once when the file is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int, block: int):
    """ONNX DequantizeLinear with blocks: ``(q - zero) * scale``, where scale and zero point
    hold one value per ``block`` consecutive elements along ``axis``."""
    q = q.astype(np.float32)
    scale = np.asarray(scale, dtype=np.float32)
    zero = np.asarray(zero, dtype=np.float32)
    if scale.ndim == 0 or scale.size == 1:
        return (q - zero.reshape(())) * scale.reshape(())
    if block:
        scale = np.repeat(scale, block, axis=axis).take(range(q.shape[axis]), axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(range(q.shape[axis]), axis=axis)
        return (q - zero) * scale
    shape = [1] * q.ndim
    shape[axis] = -1
    return (q - zero.reshape(shape)) * scale.reshape(shape)


def _attributes(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _constants(model) -> tuple[dict[str, np.ndarray], set[str]]:
    """Every constant of the graph (initializers, and what dequantizing and reshaping them
    gives) by name, and the names of the nodes that made them."""
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    folded: set[str] = set()
    for node in model.graph.node:  # in topological order, so inputs are ready
        attrs = _attributes(node)
        if node.op_type == "DequantizeLinear" and node.input[0] in values:
            q, scale = values[node.input[0]], values[node.input[1]]
            zero = values[node.input[2]] if len(node.input) > 2 else np.zeros_like(scale)
            values[node.output[0]] = dequantize(
                q, scale, zero, int(attrs.get("axis", 1)), int(attrs.get("block_size", 0))
            )
            folded.add(node.output[0])
        elif node.op_type == "Reshape" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]].reshape(values[node.input[1]])
            folded.add(node.output[0])
    return values, folded


def read_onnx_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every floating-point constant of an ONNX file as float32, by the name the graph
    consumes it under (dequantized and reshaped where the graph does so)."""
    import onnx

    values, _ = _constants(onnx.load(str(path)))
    return {
        k: np.asarray(v, dtype=np.float32)
        for k, v in values.items()
        if np.issubdtype(np.asarray(v).dtype, np.floating)
    }


class UnsupportedGraphError(ValueError):
    """The ONNX graph uses an operator :class:`OnnxGraph` does not replay."""


class OnnxGraph(nn.Module):
    """An ONNX graph of convolutions, activations, pooling, nearest upsampling, additions and
    reshapes, replayed in torch. Takes (N, C, H, W) float; returns the graph's outputs in its
    order. A reshape whose target starts with 1 keeps the batch: the exported graphs fix it
    to one image."""

    SUPPORTED = frozenset(
        {"Conv", "Relu", "Sigmoid", "MaxPool", "Resize", "Add", "Transpose", "Reshape"}
    )

    def __init__(self, path: Path) -> None:
        super().__init__()
        import onnx

        model = onnx.load(str(path))
        values, folded = _constants(model)
        self.inputs = [i.name for i in model.graph.input if i.name not in values]
        self.outputs = [o.name for o in model.graph.output]
        self.steps: list[tuple[str, list[str], list[str], dict]] = []
        used: set[str] = set()
        for node in model.graph.node:
            if set(node.output) <= folded:
                continue
            if node.op_type not in self.SUPPORTED:
                raise UnsupportedGraphError(f"{path.name}: operator {node.op_type} unsupported")
            attrs = _attributes(node)
            inputs = list(node.input)
            if node.op_type == "Resize":
                attrs["scale"] = tuple(float(s) for s in values[inputs[2]][2:])
                inputs = inputs[:1]
            elif node.op_type == "Reshape":
                attrs["shape"] = tuple(int(s) for s in values[inputs[1]])
                inputs = inputs[:1]
            used.update(i for i in inputs if i in values)
            self.steps.append((node.op_type, inputs, list(node.output), attrs))
        self._names = {}
        for k, name in enumerate(sorted(used)):
            self._names[name] = f"c{k}"
            self.register_buffer(f"c{k}", torch.from_numpy(np.array(values[name], np.float32)))

    def _value(self, env: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        return env[name] if name in env else getattr(self, self._names[name])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        env = {self.inputs[0]: x}
        for op, inputs, outputs, attrs in self.steps:
            args = [self._value(env, i) for i in inputs if i]
            env[outputs[0]] = _run(op, args, attrs)
        return tuple(env[o] for o in self.outputs)


def _run(op: str, args: list[torch.Tensor], attrs: dict) -> torch.Tensor:
    x = args[0]
    if op == "Conv":
        pads = attrs.get("pads", [0, 0, 0, 0])
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise UnsupportedGraphError("asymmetric padding")
        return F.conv2d(
            x,
            args[1],
            args[2] if len(args) > 2 else None,
            stride=tuple(attrs.get("strides", (1, 1))),
            padding=(pads[0], pads[1]),
            dilation=tuple(attrs.get("dilations", (1, 1))),
            groups=int(attrs.get("group", 1)),
        )
    if op == "Relu":
        return F.relu(x)
    if op == "Sigmoid":
        return torch.sigmoid(x)
    if op == "MaxPool":
        if any(attrs.get("pads", [0])) or attrs.get("ceil_mode", 0):
            raise UnsupportedGraphError("padded or ceil-mode max pooling")
        return F.max_pool2d(x, tuple(attrs["kernel_shape"]), tuple(attrs["strides"]))
    if op == "Resize":
        if attrs.get("mode", b"nearest") != b"nearest":
            raise UnsupportedGraphError("non-nearest resize")
        return F.interpolate(x, scale_factor=attrs["scale"], mode="nearest")
    if op == "Add":
        return x + args[1]
    if op == "Transpose":
        return x.permute(*attrs["perm"])
    # Reshape
    shape = list(attrs["shape"])
    if shape and shape[0] == 1:
        shape[0] = x.shape[0]
    return x.reshape(shape)
