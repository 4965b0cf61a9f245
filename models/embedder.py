"""Turning detected faces into L2-normalized embeddings with a registered network."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from models.align import align_face
from models.detector import DetectedFace, as_rgb_array
from models.device import resolve_device, use_bf16
from models.engine import OpenVinoNet, compile_network
from models.registry import DEFAULT_MODEL, EmbedderSpec, get_spec

log = logging.getLogger(__name__)

# Most chips per call of a network compiled by OpenVINO: a scan's peak memory was 1,248-1,277
# MiB at 8 against 1,304-1,341 at 16, at the same speed (80 12 MP photos, 201 faces).
COMPILED_CHUNK = 8


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
        precision: str | None = None,
        engine: str | None = None,
    ) -> None:
        self.spec = get_spec(model) if isinstance(model, str) else model
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.flip = self.spec.flip if flip is None else flip
        self.bf16 = use_bf16(self.device, precision)
        # A fused model embeds with each of its parts; ``flip=False`` turns mirroring off in
        # all of them.
        part_flip = False if flip is False else None
        self.parts = [
            (Embedder(name, self.device, batch_size, part_flip, precision, engine), w)
            for name, w in self.spec.parts
        ]
        self.head = self.spec.head() if self.spec.head else None
        self.net: torch.nn.Module | None = None
        self.compiled: OpenVinoNet | None = None
        if not self.parts:

            def build() -> torch.nn.Module:
                return self.spec.build().to(self.device).eval()

            if self.device.type == "cpu":
                size = self.spec.chip_size
                self.compiled = compile_network(
                    build,
                    self.spec.name,
                    (-1, 3, size, size),
                    self.bf16,
                    engine=engine,
                    sources=self.spec.sources,
                )
            if self.compiled is None:  # compiled, the torch module is not needed at all
                # Channels-last lets oneDNN (CPU) and cuDNN pick faster convolution kernels.
                self.net = build().to(memory_format=torch.channels_last)

    @property
    def engine(self) -> str:
        """What runs the network(s): "openvino" or "torch" (both for a mixed fused model)."""
        if self.parts:
            return "+".join(sorted({part.engine for part, _ in self.parts}))
        return "openvino" if self.compiled is not None else "torch"

    @property
    def name(self) -> str:
        return self.spec.name

    def chips(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """Aligned uint8 chips (N, S, S, 3) for the faces of one image.

        A fused model's chip is its parts' chips side by side, top-aligned, on one canvas
        (N, max S, sum of S, 3), so callers can stack and batch it like any other chip.
        """
        if self.parts:
            return pack_chips([part.chips(image, faces) for part, _ in self.parts])
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
        if self.parts:
            sizes = [part.spec.chip_size for part, _ in self.parts]
            vectors = [
                w * part.embed_chips(piece)
                for (part, w), piece in zip(self.parts, unpack_chips(chips, sizes), strict=True)
            ]
            joined = np.concatenate(vectors, axis=1)
            if self.head is not None:  # a personal model over this fused one
                joined = joined @ self.head.T
            return joined / np.linalg.norm(joined, axis=1, keepdims=True).clip(1e-12)
        out = np.zeros((len(chips), self.spec.embedding_size), dtype=np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = chips[start : start + self.batch_size]
            n = len(batch)
            if self.device.type == "cuda":  # one input shape: see pad_batch
                batch = pad_batch(batch, self.batch_size)
            x = self.spec.preprocess(batch).to(self.device)
            if self.compiled is None:
                x = x.contiguous(memory_format=torch.channels_last)
            if self.flip:
                x = torch.cat([x, torch.flip(x, dims=[3])])
            # On a CPU a network with large early activations (sface) slows down by half once a
            # forward pass no longer fits in cache: feed it at most cpu_chunk chips at a time.
            chunk = self.spec.cpu_chunk if self.device.type == "cpu" and self.spec.cpu_chunk else 0
            if self.compiled is not None:
                # OpenVINO holds every layer's output for the whole call: small calls keep its
                # memory down at no cost in speed (2.6 ms per dlib chip at 8 or 32 a call).
                chunk = min(chunk or COMPILED_CHUNK, COMPILED_CHUNK)
            run = self.compiled or self.net
            assert run is not None
            autocast = self.bf16 and self.compiled is None  # compiled: in its own precision
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=autocast):
                if chunk and len(x) > chunk:
                    y = torch.cat([run(part) for part in x.split(chunk)]).float()
                else:
                    y = run(x).float()
            if self.flip:
                y = y[: len(batch)] + y[len(batch) :]
            y = torch.nn.functional.normalize(y[:n], dim=1)
            out[start : start + n] = y.cpu().numpy()
        return out

    def embed(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """Embeddings for the faces of one image (in ``faces`` order)."""
        return self.embed_chips(self.chips(image, faces))


def pad_batch(chips: np.ndarray, size: int) -> np.ndarray:
    """``chips`` padded with blank chips to ``size`` (unchanged when it holds that many).

    cuDNN plans its kernels anew for every input shape it has not seen, and a scan's batches
    come in every size from 1 to 32. On an H100 the fused model's embedding stage took 21 s for
    242 faces (90 ms a face, against 5 ms at a fixed batch) and the scan ran at 3.2 photos/s;
    with batches padded to powers of two, 7.4 (same machine); padded to one size, 20.3 on
    another H100, where dlib-resnet-v1 alone ran at 30.8. The padding costs the GPU little.
    """
    if len(chips) >= size:
        return chips
    pad = np.zeros((size - len(chips), *chips.shape[1:]), dtype=chips.dtype)
    return np.concatenate([chips, pad])


def pack_chips(chips: Sequence[np.ndarray]) -> np.ndarray:
    """Square chip batches of different sizes, side by side on one canvas per face."""
    height = max(c.shape[1] for c in chips)
    canvas = np.zeros((len(chips[0]), height, sum(c.shape[2] for c in chips), 3), np.uint8)
    left = 0
    for c in chips:
        canvas[:, : c.shape[1], left : left + c.shape[2]] = c
        left += c.shape[2]
    return canvas


def unpack_chips(canvas: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """The square chips of sizes ``sizes`` that :func:`pack_chips` put side by side."""
    out, left = [], 0
    for size in sizes:
        out.append(np.ascontiguousarray(canvas[:, :size, left : left + size]))
        left += size
    return out


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Euclidean distance between embeddings; broadcasts over leading dimensions."""
    d = np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32), axis=-1)
    return float(d) if np.ndim(d) == 0 else d
