"""MTCNN's three networks (Zhang et al. 2016), with the parameter names of the weight files
that ship inside the facenet-pytorch package (``data/pnet.pt``, ``rnet.pt``, ``onet.pt``).

Defined here rather than imported from that package: importing it imports torchvision, which
costs a scan's start-up about a second and 160 MB (see ``models.vision_ops``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn


def _stage(channels_in: int, channels_out: int, kernel: int) -> tuple[nn.Conv2d, nn.PReLU]:
    return nn.Conv2d(channels_in, channels_out, kernel_size=kernel), nn.PReLU(channels_out)


class PNet(nn.Module):
    """Proposal network: fully convolutional over an image of any size; per 12x12 window
    (stride 2), box offsets (N, 4, H', W') and face/not-face probabilities (N, 2, H', W')."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _stage(3, 10, 3)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = _stage(10, 16, 3)
        self.conv3, self.prelu3 = _stage(16, 32, 3)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    """Refinement network on 24x24 crops: box offsets (N, 4) and probabilities (N, 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _stage(3, 28, 3)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = _stage(28, 48, 3)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = _stage(48, 64, 2)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        # The weights were trained (in Caffe) on features flattened width-first.
        x = self.prelu4(self.dense4(x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """Output network on 48x48 crops: box offsets (N, 4), five landmarks (N, 10: x1..x5,
    y1..y5 relative to the box) and probabilities (N, 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _stage(3, 32, 3)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = _stage(32, 64, 3)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = _stage(64, 64, 3)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = _stage(64, 128, 2)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.dense5(x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


def weights_dir() -> Path:
    """facenet-pytorch's ``data`` folder, found without importing the package."""
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "MTCNN's weights ship with facenet-pytorch: install it with "
            "'pip install --no-deps facenet-pytorch==2.6.0'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


NETS = {"pnet": PNet, "rnet": RNet, "onet": ONet}


def load_mtcnn_net(name: str, device: torch.device | str = "cpu") -> torch.nn.Module:
    """One of the three networks (``"pnet"``, ``"rnet"``, ``"onet"``) with its weights, in
    eval mode."""
    net = NETS[name]()
    path = weights_dir() / f"{name}.pt"
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.to(device).eval()


def mtcnn_sources(name: str) -> list[Path]:
    """The files that define network ``name``: its weights and this module."""
    return [weights_dir() / f"{name}.pt", Path(__file__)]
