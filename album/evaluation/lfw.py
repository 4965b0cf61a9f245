"""The LFW verification benchmark run through the whole pipeline.

Each image of ``pairs.txt`` is detected on the original 250x250 photo, the face nearest the
centre is kept, aligned and embedded. Images where MTCNN finds nothing are retried with looser
thresholds; if that fails too, the face is assumed at LFW's standard position (the median
landmarks of all detected faces), since LFW photos are centred on the face by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from album.evaluation.metrics import VerificationReport, kfold_report
from models.detector import DetectedFace, FaceDetector
from models.embedder import Embedder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    a: str  # path relative to the LFW folder, e.g. "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    b: str
    same: bool
    fold: int


def _image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def read_pairs(path: Path) -> list[Pair]:
    """Parse LFW's ``pairs.txt``: a "folds size" header, then per fold ``size`` matched pairs
    (name i j) followed by ``size`` mismatched pairs (name1 i name2 j)."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    header, rows = lines[0], lines[1:]
    folds, size = (int(header[0]), int(header[1])) if len(header) == 2 else (1, len(rows) // 2)
    if len(rows) != folds * size * 2:
        raise ValueError(f"{path}: expected {folds * size * 2} pairs, found {len(rows)}")
    pairs = []
    for i, row in enumerate(rows):
        fold = i // (2 * size)
        if len(row) == 3:
            pairs.append(Pair(_image(row[0], row[1]), _image(row[0], row[2]), True, fold))
        elif len(row) == 4:
            pairs.append(Pair(_image(row[0], row[1]), _image(row[2], row[3]), False, fold))
        else:
            raise ValueError(f"{path}: bad line {i + 2}: {' '.join(row)}")
    return pairs


@dataclass
class LfwResult:
    report: VerificationReport
    distances: np.ndarray
    same: np.ndarray
    folds: np.ndarray
    images: int
    no_face: int  # images where even the retry found no face
    retried: int  # images found only by the looser retry
    seconds: float


def central_face(faces: list[DetectedFace], width: int, height: int) -> DetectedFace | None:
    """The face whose box centre is nearest the image centre."""
    if not faces:
        return None
    centre = np.array([width / 2, height / 2])
    return min(faces, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre)))


def evaluate_lfw(
    data: Path,
    embedder: Embedder,
    detector: FaceDetector | None = None,
    folds: int | None = None,
    batch: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> LfwResult:
    """Run the 10-fold protocol (or the first ``folds`` folds) and return the figures."""
    import time

    start = time.perf_counter()
    data = Path(data)
    pairs = read_pairs(data / "pairs.txt")
    if folds is not None:
        pairs = [p for p in pairs if p.fold < folds]
    names = sorted({p.a for p in pairs} | {p.b for p in pairs})
    index = {n: i for i, n in enumerate(names)}
    detector = detector or FaceDetector(min_face_size=20, max_side=1000, device=embedder.device)
    loose = FaceDetector(
        min_face_size=12,
        max_side=1000,
        thresholds=(0.5, 0.5, 0.5),
        min_score=0.5,
        device=embedder.device,
    )

    faces: list[DetectedFace | None] = [None] * len(names)
    retried = 0
    for start_i in range(0, len(names), batch):
        chunk = names[start_i : start_i + batch]
        arrays = [np.asarray(Image.open(data / n).convert("RGB")) for n in chunk]
        found = detector.detect_batch(arrays)
        for j, (arr, fs) in enumerate(zip(arrays, found, strict=True)):
            face = central_face(fs, arr.shape[1], arr.shape[0])
            if face is None:
                face = central_face(loose.detect(arr), arr.shape[1], arr.shape[0])
                retried += face is not None
            faces[start_i + j] = face
        if progress:
            progress(min(start_i + batch, len(names)), 2 * len(names))

    detected = [f.landmarks for f in faces if f is not None]
    fallback = np.median(np.stack(detected), axis=0) if detected else None
    no_face = sum(f is None for f in faces)
    if no_face:
        log.info("%d LFW images without a detected face: using the median landmarks", no_face)

    embeddings = np.zeros((len(names), embedder.spec.embedding_size), dtype=np.float32)
    for start_i in range(0, len(names), batch):
        chunk = names[start_i : start_i + batch]
        chips = []
        for j, n in enumerate(chunk):
            arr = np.asarray(Image.open(data / n).convert("RGB"))
            face = faces[start_i + j] or DetectedFace(np.zeros(4), 0.0, fallback)
            chips.append(embedder.chips(arr, [face])[0])
        embeddings[start_i : start_i + len(chunk)] = embedder.embed_chips(np.stack(chips))
        if progress:
            progress(len(names) + min(start_i + batch, len(names)), 2 * len(names))

    a = embeddings[[index[p.a] for p in pairs]]
    b = embeddings[[index[p.b] for p in pairs]]
    distances = np.linalg.norm(a - b, axis=1)
    same = np.array([p.same for p in pairs])
    fold_ids = np.array([p.fold for p in pairs])
    return LfwResult(
        report=kfold_report(distances, same, fold_ids),
        distances=distances,
        same=same,
        folds=fold_ids,
        images=len(names),
        no_face=no_face,
        retried=retried,
        seconds=time.perf_counter() - start,
    )
