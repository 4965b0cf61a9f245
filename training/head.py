"""A small adaptation head over a frozen network's embeddings, and folding it into the network.

The head is ``h(e) = normalize(e + A e) = normalize(M e)`` with ``M = I + A``, ``A`` starting at
zero (the head starts as the identity, i.e. as the base model). It has no bias on purpose:
both networks end in a linear layer without one (dlib's ``fc``; Inception's ``last_linear`` +
``last_bn``, an affine map in eval mode), and the app's embedder normalizes after summing the
plain and mirrored chips' outputs, so ``normalize(M e)`` of a *stored* embedding equals what the
base network with ``M`` folded into its last layer gives for the same face. Training therefore
runs on the catalog's stored embeddings (milliseconds per step, no CNN), and the result is an
ordinary network of the base architecture, saved and registered like any trained model.
(Inception's own output is normalized before the embedder's flip sum; it is exact there because
FaceNet's entries embed without the mirrored chip.)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.trained import DLIB, INCEPTION


class AdaptationHead(nn.Module):
    """``normalize(e + A e)``, ``A`` (D, D) initialised at zero."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.delta = nn.Parameter(torch.zeros(dim, dim))

    def matrix(self) -> torch.Tensor:
        """``M = I + A``: the head as one linear map (applied as ``M @ e``)."""
        return torch.eye(self.delta.shape[0], device=self.delta.device) + self.delta

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return F.normalize(e + e @ self.delta.T, dim=1)


def apply_matrix(embeddings: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Stored unit embeddings (N, D) through the head ``matrix`` (D, D): unit vectors again."""
    y = np.asarray(embeddings, np.float64) @ np.asarray(matrix, np.float64).T
    y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return y.astype(np.float32)


@torch.no_grad()
def fold_into(net: nn.Module, architecture: str, matrix: np.ndarray) -> nn.Module:
    """Make ``net``'s output ``M`` times its old output (up to the normalization that follows),
    in place; returns ``net``."""
    m = torch.as_tensor(np.asarray(matrix), dtype=torch.float32)
    if architecture == DLIB:
        net.fc.weight.copy_(m @ net.fc.weight)
    elif architecture == INCEPTION:
        # last_bn(x) = a * x + c in eval mode; M (a * W z + c) = (M diag(a) W) z + M c, written
        # as a new last_linear and a BatchNorm that only adds M c.
        bn, lin = net.last_bn, net.last_linear
        a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        c = bn.bias - bn.running_mean * a
        lin.weight.copy_(m @ (a[:, None] * lin.weight))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        bn.weight.fill_(1.0)
        bn.bias.copy_(m @ c)
    else:
        raise ValueError(f"cannot fold a head into architecture {architecture!r}")
    return net
