"""Face detection with MTCNN (Zhang et al. 2016), with the weights of the facenet-pytorch package.

The weights ship inside that package, so detection works offline. Photos larger
than ``max_side`` are reduced before detection and the boxes mapped back, because P-Net's cost
grows with the pixel count while faces big enough to recognise survive the reduction.

MTCNN finds faces tilted up to about 30 degrees. An image where it finds none is looked at
again, turned: by +-40 degrees (a head on a shoulder, a camera held askew) and by 90 and 270
degrees (a photo turned without an EXIF orientation tag), reduced to ``retry_side`` and for
faces of at least 1/16 of its side; the turn that shows its faces most upright wins. Only
faceless images pay for it: about half a plain pass each. Upside-down photos are not tried
(rare, and a third more cost). A face found tilted by more than ``UPRIGHT`` degrees is looked
at once more, cut out and turned upright, for better landmarks.

A small photo (under ``small_side`` once reduced, 640 px) is also looked at by YuNet
(``models.yunet``), enlarged to that size: MTCNN misses real side views there, and YuNet's
faces scoring ``second_look_score`` or more join those MTCNN found where they overlap none of
them. Larger photos skip it (see ``models.yunet`` for the figures).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.device import resolve_device
from models.engine import OpenVinoNet, compile_network
from models.mtcnn import Uint8Input, detect_faces
from models.mtcnn_nets import load_mtcnn_net, mtcnn_sources
from models.pose import roll_degrees

log = logging.getLogger(__name__)

# P-Net looks at 12x12 windows: faces smaller than that in the detection image are invisible.
_PNET_CELL = 12
# Turns tried on an image with no face (degrees, counter-clockwise).
RETRY_ANGLES: tuple[float, ...] = (40.0, -40.0, 90.0, -90.0)
# Faces tilted more than this (degrees) get their landmarks from a second, upright look.
UPRIGHT = 20.0
# Small photos get YuNet's look, enlarged to this side (px).
SMALL_SIDE = 640
# YuNet's faces kept from that look: false faces on albums of dev people scored up to 0.75
# (12 MP photos reduced to 1,000 px), side views MTCNN missed 0.72-0.89.
SECOND_LOOK_SCORE = 0.8
# Two detections are one face when they share this much of the smaller one's area.
SAME_FACE = 0.3


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates.

    ``box`` is (left, top, right, bottom); ``landmarks`` is a (5, 2) array of (x, y) points in
    MTCNN's order: the eye on the image's left, the other eye, nose tip, left and right mouth
    corners. ``score`` is O-Net's face probability (0..1), or YuNet's for a face only it found.
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

    def mapped(self, to_original: np.ndarray) -> DetectedFace:
        """The same face through a 2x3 affine map (a turn back to the original image): the
        landmarks exactly, the box as a box of the same size around the mapped centre."""
        m = np.asarray(to_original, dtype=np.float64)
        marks = self.landmarks @ m[:, :2].T + m[:, 2]
        centre = np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2])
        c = centre @ m[:, :2].T + m[:, 2]
        half = np.array([self.width / 2, self.height / 2])
        return DetectedFace(np.concatenate([c - half, c + half]), self.score, marks)


def turned(arr: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``arr`` turned counter-clockwise by ``angle`` degrees on a canvas that holds all of it
    (corners black), and the 2x3 map from the turned image's pixels back to ``arr``'s."""
    h, w = arr.shape[:2]
    quarter = angle % 90 == 0
    if quarter:
        out = np.ascontiguousarray(np.rot90(arr, int(angle // 90) % 4))
    else:
        out = np.array(
            Image.fromarray(arr).rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
        )
    h2, w2 = out.shape[:2]
    t = np.radians(angle)
    c, s = np.cos(t), np.sin(t)
    # Offsets from the centre: turning the picture counter-clockwise (y down) takes (dx, dy)
    # to (c dx + s dy, -s dx + c dy); the way back is the transpose. Pixel centres sit at
    # integers, so the centre of an n-pixel side is (n - 1) / 2 for exact quarter turns.
    half = 0.5 if quarter else 0.0
    back = np.array([[c, -s], [s, c]])
    centre2 = np.array([w2 / 2 - half, h2 / 2 - half])
    centre = np.array([w / 2 - half, h / 2 - half])
    m = np.empty((2, 3))
    m[:, :2] = back
    m[:, 2] = centre - back @ centre2
    return out, m


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
        retry_angles: turns tried on an image with no face (see the module docstring); ()
            for none.
        retry_side: longer side of the turned images.
        small_side: images under this side (after reduction) also get YuNet's look, enlarged
            to it; 0 for none. second_look_score: the least score of a face YuNet adds.
        engine, precision: what runs the networks (``models.engine``) and in what precision
            (``models.embedder.use_bf16``; default float32, see below).
    """

    def __init__(
        self,
        min_face_size: int = 40,
        max_side: int = 1600,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
        min_score: float = 0.9,
        device: str | torch.device | None = None,
        retry_angles: Sequence[float] = RETRY_ANGLES,
        retry_side: int = 320,
        engine: str | None = None,
        precision: str | None = None,
        small_side: int = SMALL_SIDE,
        second_look_score: float = SECOND_LOOK_SCORE,
    ) -> None:
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.thresholds = list(thresholds)
        self.factor = factor
        self.min_score = min_score
        self.retry_angles = tuple(retry_angles)
        self.retry_side = retry_side
        self.small_side = small_side
        self.second_look_score = second_look_score
        self.device = resolve_device(device)
        self._engine_choice = engine
        self._yunet_state: object = None  # made on the first small photo; False: unavailable
        self._yunet_lock = threading.Lock()
        from models.device import use_bf16

        # float32 unless asked, on every engine: in bfloat16, P-Net's proposals and O-Net's
        # scores move enough to lose faces (CFP's 3,500 photos: P-Net alone in bfloat16 missed
        # 4 more faces, frontal-profile accuracy 0.7 points lower; all three 4 and 0.8).
        bf16 = use_bf16(self.device, precision or "fp32")
        self.nets = []
        # P-Net is fully convolutional (any image size); R-Net and O-Net take fixed crops.
        shapes = ((-1, 3, -1, -1), (-1, 3, 24, 24), (-1, 3, 48, 48))
        for name, shape in zip(("pnet", "rnet", "onet"), shapes, strict=True):

            def build(name: str = name) -> torch.nn.Module:
                net = load_mtcnn_net(name, self.device)
                return net.to(memory_format=torch.channels_last)

            compiled = None
            if self.device.type == "cpu":
                # On a CPU, P-Net takes its image pyramid as uint8 tensors (models.mtcnn).
                pixels = (127.5, 128.0) if name == "pnet" else None
                compiled = compile_network(
                    build,
                    f"mtcnn-{name}",
                    shape,
                    bf16,
                    engine=engine,
                    uint8_images=pixels,
                    sources=lambda name=name: mtcnn_sources(name),
                )
            if compiled is not None:
                self.nets.append(compiled)
            elif name == "pnet" and self.device.type == "cpu":
                self.nets.append(Uint8Input(build()))
            else:
                self.nets.append(build())
        self.engine = "openvino" if isinstance(self.nets[0], OpenVinoNet) else "torch"

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
        for i, (arr, scale) in enumerate(prepared):
            if arr is None:
                continue
            if not results[i] and self.retry_angles:
                results[i] = self._retry_turned(arr, scale)
            results[i] = [
                self._upright(arr, scale, f) if abs(roll_degrees(f.landmarks)) > UPRIGHT else f
                for f in results[i]
            ]
            if max(arr.shape[:2]) < self.small_side:
                results[i] = self._second_look(arr, scale, results[i])
        return results

    def _yunet(self):
        """YuNet, made on first need; None where its weights are missing (MTCNN alone)."""
        with self._yunet_lock:
            if self._yunet_state is None:
                from models.errors import WeightsMissingError
                from models.yunet import YuNet

                try:
                    self._yunet_state = YuNet(self.device, self._engine_choice)
                except WeightsMissingError as exc:
                    log.warning("small photos are looked at by MTCNN alone: %s", exc)
                    self._yunet_state = False
            return self._yunet_state or None

    def _second_look(
        self, arr: np.ndarray, scale: float, faces: list[DetectedFace]
    ) -> list[DetectedFace]:
        """``faces`` and the faces YuNet finds in ``arr`` enlarged to ``small_side`` where they
        overlap none of them and are not smaller than ``min_face_size``, best score first."""
        yunet = self._yunet()
        if yunet is None:
            return faces
        k = self.small_side / max(arr.shape[:2])
        h, w = arr.shape[:2]
        size = (max(1, round(w * k)), max(1, round(h * k)))
        big = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BILINEAR))
        found = list(faces)
        for box, score, marks in zip(*yunet.detect(big, self.second_look_score), strict=True):
            face = DetectedFace(box / (k * scale), float(score), marks / (k * scale))
            if max(face.width, face.height) * scale < self.min_face_size:
                continue  # smaller than MTCNN is asked to find
            if not any(_shared(face, f) > SAME_FACE for f in found):
                found.append(face)
        return sorted(found, key=lambda f: -f.score)

    def _upright(self, arr: np.ndarray, scale: float, face: DetectedFace) -> DetectedFace:
        """``face`` with the landmarks of a second look at it turned upright: MTCNN finds
        faces tilted 30-50 degrees, but places their landmarks poorly (a third of the eye
        distance off at 45 degrees)."""
        g = face.scaled(scale)  # pixels of arr
        side = max(g.width, g.height)
        cx, cy = (g.box[0] + g.box[2]) / 2, (g.box[1] + g.box[3]) / 2
        h, w = arr.shape[:2]
        x0, y0 = int(max(0, cx - side)), int(max(0, cy - side))
        x1, y1 = int(min(w, cx + side)), int(min(h, cy + side))
        if min(x1 - x0, y1 - y0) < _PNET_CELL:
            return face
        image, back = turned(np.ascontiguousarray(arr[y0:y1, x0:x1]), roll_degrees(g.landmarks))
        found = self._run(image[None], 1.0, min_size=max(float(_PNET_CELL), side / 2))[0]
        if not found:
            return face
        centre = np.array([cx - x0, cy - y0])
        marks = [d.landmarks @ back[:, :2].T + back[:, 2] for d in found]
        best = min(marks, key=lambda m: float(np.linalg.norm(m.mean(0) - centre)))
        if np.linalg.norm(best.mean(0) - centre) > side / 2:
            return face  # not the same face
        return DetectedFace(face.box, face.score, (best + np.array([x0, y0])) / scale)

    def _retry_turned(self, arr: np.ndarray, scale: float) -> list[DetectedFace]:
        """Faces of a reduced copy of ``arr`` turned by each of ``retry_angles``, from the turn
        that shows them most upright, in the coordinates of the image given to :meth:`detect`;
        [] if no turn shows one. (A face 50 degrees off upright can still be found, with poor
        landmarks: the turn that leaves it nearest upright gives the best ones.)"""
        k = min(1.0, self.retry_side / max(arr.shape[:2]))
        small = arr
        if k < 1.0:
            size = (max(1, round(arr.shape[1] * k)), max(1, round(arr.shape[0] * k)))
            small = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BILINEAR))
        f = scale * k  # the turned copy's pixels per pixel of the image given to detect()
        # Faces smaller than 1/16 of the photo's side (or than min_face_size) are not looked
        # for turned: P-Net's cost grows with the square of the smallest face's scale, and a
        # photo turned without a tag (a portrait, a group) or a head on a shoulder rarely
        # shows only small faces.
        smallest = max(small.shape[:2]) / 16, self.min_face_size * f
        # Turns of one size (+-40, +-90 degrees) go through the networks together: fewer,
        # larger calls (a photo without faces: 48 ms against 56 one turn at a time).
        sizes: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]] = {}
        for angle in self.retry_angles:
            image, back = turned(small, angle)
            sizes.setdefault(image.shape, []).append((image, back))
        best: tuple[float, list[DetectedFace]] | None = None
        for turns in sizes.values():
            batch = np.stack([image for image, _ in turns])
            # _run divides by f; multiply back to turned pixels, turn back, and divide again.
            founds = self._run(batch, f, min_size=max(float(_PNET_CELL), *smallest))
            for (_, back), found in zip(turns, founds, strict=True):
                if not found:
                    continue
                tilt = float(np.mean([abs(roll_degrees(d.landmarks)) for d in found]))
                if best is None or tilt < best[0]:
                    best = (tilt, [d.scaled(f).mapped(back).scaled(1.0 / f) for d in found])
        return best[1] if best else []

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
    def _run(
        self, batch: np.ndarray, scale: float, min_size: float | None = None
    ) -> list[list[DetectedFace]]:
        """Faces of equal-sized images, coordinates divided by ``scale``; ``min_size``: the
        smallest face in ``batch``'s pixels (default: ``min_face_size`` x ``scale``)."""
        if min_size is None:
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


def _shared(a: DetectedFace, b: DetectedFace) -> float:
    """The area two boxes share, over the smaller one's."""
    w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    if w <= 0 or h <= 0:
        return 0.0
    return float(w * h / max(min(a.width * a.height, b.width * b.height), 1e-9))


def detection_version(device: str | torch.device | None = None) -> str:
    """What a default detector's faces depend on besides the image, for caches of them: the
    detection code, the engine and the precision it runs in on ``device``, and whether
    YuNet's weights are there for small photos."""
    import hashlib

    from models.engine import engine_choice

    dev = resolve_device(device)
    engine = engine_choice() if dev.type == "cpu" else "torch"
    h = hashlib.blake2b(f"{engine}|fp32|".encode(), digest_size=10)
    for module in ("detector.py", "mtcnn.py", "mtcnn_nets.py", "yunet.py", "onnx_graph.py"):
        h.update((Path(__file__).parent / module).read_bytes())
    from models.yunet import find_yunet

    h.update(b"second look" if find_yunet() is not None else b"MTCNN alone")
    return h.hexdigest()
