"""Replaying small ONNX graphs in torch: block dequantization, the operators replayed, and
refusal of any other."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from models.onnx_graph import OnnxGraph, UnsupportedGraphError, dequantize


def test_blockwise_dequantization_matches_the_onnx_definition() -> None:
    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, size=(3, 10), dtype=np.int8)
    scale = rng.uniform(0.01, 0.1, size=(3, 3)).astype(np.float32)  # blocks of 4 along axis 1
    zero = rng.integers(-5, 5, size=(3, 3), dtype=np.int8)
    got = dequantize(q, scale, zero, axis=1, block=4)
    for i in range(3):
        for j in range(10):
            expected = (float(q[i, j]) - zero[i, j // 4]) * scale[i, j // 4]
            assert got[i, j] == pytest.approx(expected, rel=1e-6)
    per_row = dequantize(q, scale[:, 0], zero[:, 0], axis=0, block=0)
    assert np.allclose(per_row, (q - zero[:, :1].astype(np.float32)) * scale[:, :1])


def _graph(path, extra_op: str | None = None) -> np.ndarray:
    """A quantized conv -> relu -> pool -> nearest upsampling -> add -> sigmoid -> transpose
    -> reshape graph written to ``path``; returns the conv's float weights."""
    rng = np.random.default_rng(1)
    q = rng.integers(-100, 100, size=(4, 18), dtype=np.int8)  # (out, in*k*k) for 2 in, 3x3
    scale = rng.uniform(0.01, 0.02, size=(4, 2)).astype(np.float32)  # blocks of 9
    zero = np.zeros((4, 2), np.int8)
    inits = [
        numpy_helper.from_array(q, "w_q"),
        numpy_helper.from_array(scale, "w_s"),
        numpy_helper.from_array(zero, "w_z"),
        numpy_helper.from_array(np.array([4, 2, 3, 3], np.int64), "w_shape"),
        numpy_helper.from_array(rng.normal(size=4).astype(np.float32), "b"),
        numpy_helper.from_array(np.array([], np.float32), "roi"),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up"),
        numpy_helper.from_array(np.array([1, -1, 4], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node(
            "DequantizeLinear", ["w_q", "w_s", "w_z"], ["w_flat"], axis=1, block_size=9
        ),
        helper.make_node("Reshape", ["w_flat", "w_shape"], ["w"]),
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Resize", ["p", "roi", "up"], ["u"], mode="nearest"),
        helper.make_node("Add", ["u", "r"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["s"]),
        helper.make_node("Transpose", ["s"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["t", "flat"], ["y"]),
    ]
    if extra_op:
        nodes.append(helper.make_node(extra_op, ["y"], ["z"]))
    out = "z" if extra_op else "y"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.save(model, str(path))
    return dequantize(q, scale, zero, axis=1, block=9).reshape(4, 2, 3, 3)


def test_a_graph_replays_as_the_same_torch_operations(tmp_path) -> None:
    weights = _graph(tmp_path / "g.onnx")
    graph = OnnxGraph(tmp_path / "g.onnx")
    x = torch.from_numpy(np.random.default_rng(2).normal(size=(3, 2, 8, 8)).astype(np.float32))
    b = np.array(numpy_helper.to_array(onnx.load(str(tmp_path / "g.onnx")).graph.initializer[4]))
    r = torch.relu(
        torch.nn.functional.conv2d(x, torch.from_numpy(weights), torch.from_numpy(b), padding=1)
    )
    u = torch.nn.functional.interpolate(torch.nn.functional.max_pool2d(r, 2), scale_factor=2.0)
    expected = torch.sigmoid(u + r).permute(0, 2, 3, 1).reshape(3, -1, 4)
    (got,) = graph(x)
    # A batch of 3 through a graph exported for one image: the leading 1 keeps the batch.
    assert got.shape == (3, 64, 4)
    assert torch.allclose(got, expected, atol=1e-6)


def test_an_operator_it_does_not_know_is_refused(tmp_path) -> None:
    _graph(tmp_path / "g.onnx", extra_op="Softmax")
    with pytest.raises(UnsupportedGraphError, match="Softmax"):
        OnnxGraph(tmp_path / "g.onnx")
