"""Turning detected faces into L2-normalized embeddings with a registered network."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from models.align import align_face
from models.detector import DetectedFace, as_rgb_array
from models.device import resolve_device
from models.registry import DEFAULT_MODEL, EmbedderSpec, get_spec

log = logging.getLogger(__name__)


class Embedder:
    """One loaded embedding network.

    >>> emb = Embedder()                       # the offline default, dlib-resnet-v1
    >>> vectors = emb.embed(image, faces)      # (len(faces), 128) float32, unit length
    """

    def __init__(
        self,
        model: str | EmbedderSpec = DEFAULT_MODEL,
        device: str | torch.device | None = None,
        batch_size: int = 32,
        flip: bool | None = None,
    ) -> None:
        self.spec = get_spec(model) if isinstance(model, str) else model
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.flip = self.spec.flip if flip is None else flip
        # Channels-last lets oneDNN (CPU) and cuDNN pick faster convolution kernels.
        self.net = self.spec.build().to(self.device).eval()
        self.net = self.net.to(memory_format=torch.channels_last)

    @property
    def name(self) -> str:
        return self.spec.name

    def chips(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """Aligned uint8 chips (N, S, S, 3) for the faces of one image."""
        arr = as_rgb_array(image)
        size = self.spec.chip_size
        template = self.spec.template_array()
        if not faces:
            return np.zeros((0, size, size, 3), dtype=np.uint8)
        return np.stack([align_face(arr, f.landmarks, template, size) for f in faces])

    @torch.inference_mode()
    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Embeddings (N, D) float32 of unit length for aligned chips (N, S, S, 3)."""
        chips = np.asarray(chips)
        out = np.zeros((len(chips), self.spec.embedding_size), dtype=np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = chips[start : start + self.batch_size]
            x = self.spec.preprocess(batch).to(self.device)
            x = x.contiguous(memory_format=torch.channels_last)
            if self.flip:
                x = torch.cat([x, torch.flip(x, dims=[3])])
            y = self.net(x).float()
            if self.flip:
                y = y[: len(batch)] + y[len(batch) :]
            y = torch.nn.functional.normalize(y, dim=1)
            out[start : start + len(batch)] = y.cpu().numpy()
        return out

    def embed(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """Embeddings for the faces of one image (in ``faces`` order)."""
        return self.embed_chips(self.chips(image, faces))


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Euclidean distance between embeddings; broadcasts over leading dimensions."""
    d = np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32), axis=-1)
    return float(d) if np.ndim(d) == 0 else d
