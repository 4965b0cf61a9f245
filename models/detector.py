"""Face detection with MTCNN (Zhang et al. 2016), using facenet-pytorch's networks and weights.

The weights ship inside the facenet-pytorch package, so detection works offline. Photos larger
than ``max_side`` are reduced before detection and the boxes mapped back, because P-Net's cost
grows with the pixel count while faces big enough to recognise survive the reduction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.device import resolve_device
from models.mtcnn import detect_faces

log = logging.getLogger(__name__)

# P-Net looks at 12x12 windows: faces smaller than that in the detection image are invisible.
_PNET_CELL = 12


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates.

    ``box`` is (left, top, right, bottom); ``landmarks`` is a (5, 2) array of (x, y) points in
    MTCNN's order: the eye on the image's left, the other eye, nose tip, left and right mouth
    corners. ``score`` is O-Net's face probability (0..1).
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    def scaled(self, factor: float) -> DetectedFace:
        """The same face in an image resized by ``factor``."""
        return DetectedFace(self.box * factor, self.score, self.landmarks * factor)


def as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 array from a PIL image or array (gray, RGBA and 16-bit accepted)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.integer) and arr.max(initial=0) > 255:
            arr = (arr >> 8) if arr.dtype == np.uint16 else np.clip(arr, 0, 255)
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image, got an array of shape {arr.shape}")
    return np.ascontiguousarray(arr[:, :, :3])


class FaceDetector:
    """MTCNN face detector.

    Args:
        min_face_size: smallest face to find, in pixels of the image given to :meth:`detect`.
        max_side: images whose longer side exceeds this are reduced to it before detection.
        thresholds: P-Net, R-Net and O-Net acceptance thresholds.
        min_score: faces with a final probability below this are dropped.
        device: ``"cuda"``, ``"cpu"`` or None for CUDA when available.
    """

    def __init__(
        self,
        min_face_size: int = 40,
        max_side: int = 1600,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
        min_score: float = 0.9,
        device: str | torch.device | None = None,
    ) -> None:
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

        self.min_face_size = min_face_size
        self.max_side = max_side
        self.thresholds = list(thresholds)
        self.factor = factor
        self.min_score = min_score
        self.device = resolve_device(device)
        data = _weights_dir()
        self.nets = []
        for cls, name in ((PNet, "pnet.pt"), (RNet, "rnet.pt"), (ONet, "onet.pt")):
            net = cls(pretrained=False)
            state = torch.load(data / name, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
            net = net.to(self.device).eval()
            self.nets.append(net.to(memory_format=torch.channels_last))

    def detect(self, image: Image.Image | np.ndarray) -> list[DetectedFace]:
        """Faces in one image, best score first."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image.Image | np.ndarray]) -> list[list[DetectedFace]]:
        """Faces in each image. Images of equal size after reduction run as one batch."""
        prepared = [self._prepare(im) for im in images]
        results: list[list[DetectedFace]] = [[] for _ in images]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (arr, _) in enumerate(prepared):
            if arr is not None:
                groups.setdefault(arr.shape[:2], []).append(i)
        for idx in groups.values():
            batch = np.stack([prepared[i][0] for i in idx])
            scale = prepared[idx[0]][1]
            for i, faces in zip(idx, self._run(batch, scale), strict=True):
                results[i] = faces
        return results

    def _prepare(self, image: Image.Image | np.ndarray) -> tuple[np.ndarray | None, float]:
        arr = as_rgb_array(image)
        h, w = arr.shape[:2]
        if min(h, w) < _PNET_CELL:
            return None, 1.0  # too small to hold a detectable face
        scale = 1.0
        if max(h, w) > self.max_side:
            scale = self.max_side / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            arr = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BILINEAR))
        return arr, scale

    @torch.inference_mode()
    def _run(self, batch: np.ndarray, scale: float) -> list[list[DetectedFace]]:
        min_size = max(float(_PNET_CELL), self.min_face_size * scale)
        found = detect_faces(
            batch, min_size, tuple(self.nets), tuple(self.thresholds), self.factor, self.device
        )
        out = []
        for b, p in found:
            b, p = b.astype(np.float64), p.astype(np.float64)
            faces = [
                DetectedFace(box[:4] / scale, float(box[4]), lm / scale)
                for box, lm in zip(b, p, strict=True)
                if box[4] >= self.min_score
            ]
            faces.sort(key=lambda f: -f.score)
            out.append(faces)
        return out


def _weights_dir() -> Path:
    import facenet_pytorch

    return Path(facenet_pytorch.__file__).parent / "data"
