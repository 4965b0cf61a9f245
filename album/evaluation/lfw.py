"""The LFW verification benchmark run through the whole pipeline.

Each image of ``pairs.txt`` is detected on the original 250x250 photo, the face nearest the
centre is kept, aligned and embedded. Images where MTCNN finds nothing are retried with looser
thresholds; if that fails too, the face is assumed at LFW's standard position (the median
landmarks of all detected faces), since LFW photos are centred on the face by construction.

Harder variants of the same pairs (``variant``) change every image before the pipeline sees it:

* ``tight``: cropped to the face box plus 10% (each side of MTCNN's box on the original photo
  grows by 5%), as in profile pictures, ID photos and cropped portraits: the face fills the
  image and its chin and forehead touch the border;
* ``rotated``: turned in the image plane by an angle between -45 and 45 degrees (fixed per
  image), the corners filled black.

``split`` keeps the pairs whose people all belong to one half of LFW's people
(``album.evaluation.splits``): tune on ``dev``, report ``test``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from album.evaluation.metrics import VerificationReport, kfold_report
from album.evaluation.splits import in_split, person_split
from models.detector import DetectedFace, FaceDetector, detection_version
from models.embedder import Embedder
from models.pose import estimate_yaw

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
    yaw: np.ndarray  # per pair: the larger estimated |yaw| of its two faces, degrees
    # per pair: "dev" or "test" when both people are in that half of LFW, else "cross"
    halves: np.ndarray


VARIANTS = ("original", "tight", "rotated")
TIGHT_MARGIN = 1.1  # tight crops: the face box grown to 110% of its width and height


def _person(image: str) -> str:
    return image.split("/")[0]


def _halves(pair: Pair) -> str:
    a, b = person_split(_person(pair.a)), person_split(_person(pair.b))
    return a if a == b else "cross"


def _angle(image: str) -> float:
    """A fixed in-plane angle in [-45, 45] degrees for one image (the rotated variant)."""
    import hashlib

    h = int.from_bytes(hashlib.blake2b(image.encode(), digest_size=4).digest(), "big")
    return (h / 0xFFFFFFFF) * 90.0 - 45.0


def tight_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The face ``box`` grown to ``TIGHT_MARGIN`` times its size, in whole pixels inside the
    image."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * TIGHT_MARGIN / 2, (box[3] - box[1]) * TIGHT_MARGIN / 2
    left, top = max(0, round(cx - hw)), max(0, round(cy - hh))
    right, bottom = min(width, round(cx + hw)), min(height, round(cy + hh))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def tight_crops(
    data: Path, names: list[str], device: object = None, batch: int = 32
) -> dict[str, tuple[int, int, int, int]]:
    """The tight crop of each image: MTCNN's box on the untouched photo (the face nearest the
    centre; LFW's central region where none is found) grown by 10%. The same for every
    detector under test, so it is computed once and cached in the user cache directory."""
    import hashlib
    import json

    from album.catalog.paths import cache_dir

    key = hashlib.blake2b(("v1|" + "\n".join(names)).encode(), digest_size=10).hexdigest()
    path = cache_dir() / "lfw-eval" / f"tight-{key}.json"
    if path.is_file():
        return {k: tuple(v) for k, v in json.loads(path.read_text()).items()}
    # The variant's definition, not a detector under test: torch in float32 everywhere.
    reference = FaceDetector(
        min_face_size=20, max_side=1000, device=device, engine="torch", precision="fp32"
    )
    crops: dict[str, tuple[int, int, int, int]] = {}
    for start in range(0, len(names), batch):
        chunk = names[start : start + batch]
        arrays = [np.asarray(Image.open(data / n).convert("RGB")) for n in chunk]
        for n, arr, fs in zip(chunk, arrays, reference.detect_batch(arrays), strict=True):
            h, w = arr.shape[:2]
            face = central_face(fs, w, h)
            box = face.box if face is not None else np.array([w * 0.3, h * 0.3, w * 0.7, h * 0.7])
            crops[n] = tight_box(box, w, h)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(crops))
    return crops


def central_face(faces: list[DetectedFace], width: int, height: int) -> DetectedFace | None:
    """The face whose box centre is nearest the image centre."""
    if not faces:
        return None
    centre = np.array([width / 2, height / 2])
    return min(faces, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre)))


def central_faces(
    paths: list[Path], detector: FaceDetector | None = None
) -> list[DetectedFace | None]:
    """The face nearest the centre of each image file (None where there is none), with the
    scan's detector settings unless ``detector`` is given."""
    detector = detector or FaceDetector(min_face_size=20, max_side=1000)
    out = []
    for path in paths:
        arr = np.asarray(Image.open(path).convert("RGB"))
        out.append(central_face(detector.detect(arr), arr.shape[1], arr.shape[0]))
    return out


def _detect_all(
    names: list[str],
    image: Callable[[str], np.ndarray],
    detector: FaceDetector,
    loose: FaceDetector,
    batch: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[DetectedFace | None], int]:
    """The central face of every image (retried with ``loose``), and how many needed that."""
    faces: list[DetectedFace | None] = [None] * len(names)
    retried = 0
    for start_i in range(0, len(names), batch):
        chunk = names[start_i : start_i + batch]
        arrays = [image(n) for n in chunk]
        found = detector.detect_batch(arrays)
        for j, (arr, fs) in enumerate(zip(arrays, found, strict=True)):
            face = central_face(fs, arr.shape[1], arr.shape[0])
            if face is None:
                face = central_face(loose.detect(arr), arr.shape[1], arr.shape[0])
                retried += face is not None
            faces[start_i + j] = face
        if progress:
            progress(min(start_i + batch, len(names)), 2 * len(names))
    return faces, retried


def _faces_cache_path(variant: str, names: list[str], device: object = None) -> Path:
    """Detections depend on the images and the detector's code, not on the embedder under
    test: one cache file per variant, image list and version of the detection code."""
    import hashlib

    from album.catalog.paths import cache_dir

    h = hashlib.blake2b(f"faces-v1|{variant}|".encode() + "\n".join(names).encode(), digest_size=10)
    h.update(detection_version(device).encode())
    return cache_dir() / "lfw-eval" / f"faces-{variant}-{h.hexdigest()}.npz"


def _cached_faces(
    variant: str, names: list[str], device: object = None
) -> tuple[list[DetectedFace | None], int] | None:
    path = _faces_cache_path(variant, names, device)
    try:
        with np.load(path) as z:
            found, boxes, scores, marks = z["found"], z["boxes"], z["scores"], z["landmarks"]
            retried = int(z["retried"])
    except (OSError, KeyError, ValueError):
        return None
    if len(found) != len(names):
        return None
    faces = [
        DetectedFace(boxes[i], float(scores[i]), marks[i]) if found[i] else None
        for i in range(len(names))
    ]
    return faces, retried


def _cache_faces(
    variant: str,
    names: list[str],
    faces: list[DetectedFace | None],
    retried: int,
    device: object = None,
) -> None:
    path = _faces_cache_path(variant, names, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    zero = DetectedFace(np.zeros(4), 0.0, np.zeros((5, 2)))
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        found=np.array([f is not None for f in faces]),
        boxes=np.stack([(f or zero).box for f in faces]),
        scores=np.array([(f or zero).score for f in faces]),
        landmarks=np.stack([(f or zero).landmarks for f in faces]),
        retried=retried,
    )
    tmp.replace(path)


def evaluate_lfw(
    data: Path,
    embedder: Embedder,
    detector: FaceDetector | None = None,
    folds: int | None = None,
    batch: int = 32,
    progress: Callable[[int, int], None] | None = None,
    variant: str = "original",
    split: str = "all",
) -> LfwResult:
    """Run the 10-fold protocol (or the first ``folds`` folds) on the pairs of ``split``'s
    people, with every image changed as ``variant`` says, and return the figures."""
    import time

    if variant not in VARIANTS:
        raise ValueError(f"unknown LFW variant {variant!r}: use one of {', '.join(VARIANTS)}")
    start = time.perf_counter()
    data = Path(data)
    pairs = read_pairs(data / "pairs.txt")
    if folds is not None:
        pairs = [p for p in pairs if p.fold < folds]
    pairs = [p for p in pairs if in_split(_person(p.a), split) and in_split(_person(p.b), split)]
    if not pairs:
        raise ValueError(f"no LFW pairs left in split {split!r}")
    names = sorted({p.a for p in pairs} | {p.b for p in pairs})
    index = {n: i for i, n in enumerate(names)}
    default_detector = detector is None
    detector = detector or FaceDetector(min_face_size=20, max_side=1000, device=embedder.device)
    loose = FaceDetector(
        min_face_size=12,
        max_side=1000,
        thresholds=(0.5, 0.5, 0.5),
        min_score=0.5,
        device=embedder.device,
    )

    def original(name: str) -> np.ndarray:
        return np.asarray(Image.open(data / name).convert("RGB"))

    crops = tight_crops(data, names, embedder.device, batch) if variant == "tight" else {}

    def image(name: str) -> np.ndarray:
        arr = original(name)
        if variant == "tight":
            left, top, right, bottom = crops[name]
            return np.ascontiguousarray(arr[top:bottom, left:right])
        if variant == "rotated":
            turned = Image.fromarray(arr).rotate(
                _angle(name), resample=Image.Resampling.BILINEAR, expand=True
            )
            return np.asarray(turned)
        return arr

    cached = _cached_faces(variant, names, embedder.device) if default_detector else None
    if cached is not None:
        faces, retried = cached
    else:
        faces, retried = _detect_all(names, image, detector, loose, batch, progress)
        if default_detector:
            _cache_faces(variant, names, faces, retried, embedder.device)

    yaws = np.array([abs(estimate_yaw(f.landmarks, f.box)[0]) if f else 0.0 for f in faces])
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
            face = faces[start_i + j] or DetectedFace(np.zeros(4), 0.0, fallback)
            chips.append(embedder.chips(image(n), [face])[0])
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
        yaw=np.maximum(yaws[[index[p.a] for p in pairs]], yaws[[index[p.b] for p in pairs]]),
        halves=np.array([_halves(p) for p in pairs]),
    )
