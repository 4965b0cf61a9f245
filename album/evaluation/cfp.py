"""CFP (Celebrities in Frontal-Profile) through the whole pipeline: real side views.

The release (Sengupta et al., WACV 2016) has 10 frontal and 4 profile photos per person,
cropped loosely around the head, and official frontal-frontal (FF) and frontal-profile (FP)
folds of 350 same and 350 different pairs each. LFW hardly has a face turned past 45 degrees;
CFP's profiles are turned 60-90 degrees, as side views in real albums are.

Faces are looked at "as they sit in a photo": each crop is edge-padded by ``PAD`` of its size
on every side, so the detector sees the head with surroundings, as in a photo, not filling the
frame. The face nearest the centre is kept; an image with no face makes every pair it is in
count as a miss. Accuracy is k-fold over the folds present: the threshold is chosen on the
other folds.

People are split like LFW's (``album.evaluation.splits``, a hash of the person's folder
name): tune on ``dev``, report ``test``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from album.evaluation.lfw import central_face
from album.evaluation.metrics import accuracy_at, best_threshold
from album.evaluation.splits import in_split
from models.detector import DetectedFace, FaceDetector, detection_version
from models.embedder import Embedder

log = logging.getLogger(__name__)

PAD = 0.4  # each crop edge-padded by this fraction of its width / height per side
PROTOCOLS = ("FF", "FP")


@dataclass(frozen=True)
class CfpImage:
    path: str  # relative to the CFP folder, e.g. "Data/Images/001/profile/01.jpg"
    person: str  # "001".."500"
    profile: bool


@dataclass(frozen=True)
class CfpPair:
    a: int  # indices into the image list
    b: int
    same: bool
    fold: int  # 1..10


@dataclass
class CfpData:
    root: Path
    images: list[CfpImage]
    pairs: dict[str, list[CfpPair]]  # "FF" / "FP" -> pairs


def read_cfp(root: Path) -> CfpData:
    """The images and the official pairs of a CFP folder (``Data/``, ``Protocol/``)."""
    root = Path(root)
    proto = root / "Protocol"
    if not (proto / "Pair_list_F.txt").is_file():
        raise FileNotFoundError(f"{root}: no Protocol/Pair_list_F.txt; point at the CFP folder")
    images: list[CfpImage] = []
    index: dict[tuple[str, int], int] = {}
    for kind in ("F", "P"):
        for line in (proto / f"Pair_list_{kind}.txt").read_text().splitlines():
            if not line.strip():
                continue
            number, rel = line.split()
            rel_path = Path(rel.replace("\\", "/"))
            parts = [p for p in rel_path.parts if p != ".."]
            path = "/".join(parts)
            index[(kind, int(number))] = len(images)
            images.append(CfpImage(path, parts[-3], kind == "P"))
    pairs: dict[str, list[CfpPair]] = {}
    for protocol in PROTOCOLS:
        second = protocol[1]
        rows: list[CfpPair] = []
        for fold_dir in sorted((proto / "Split" / protocol).glob("[0-9][0-9]")):
            for same in (True, False):
                text = (fold_dir / ("same.txt" if same else "diff.txt")).read_text()
                for line in text.split():
                    a, b = (int(v) for v in line.split(","))
                    rows.append(
                        CfpPair(index[("F", a)], index[(second, b)], same, int(fold_dir.name))
                    )
        pairs[protocol] = rows
    return CfpData(root, images, pairs)


def padded(arr: np.ndarray, pad: float = PAD) -> np.ndarray:
    """``arr`` with ``pad`` x its height (width) of edge pixels added above and below (left
    and right): the face as it sits in a photo rather than filling the frame."""
    h, w = arr.shape[:2]
    py, px = round(h * pad), round(w * pad)
    return np.pad(arr, ((py, py), (px, px), (0, 0)), mode="edge")


def load_padded(root: Path, image: CfpImage) -> np.ndarray:
    return padded(np.asarray(Image.open(Path(root) / image.path).convert("RGB")))


def detections_cache_path(paths: list[str], device: object = None) -> Path:
    from album.catalog.paths import cache_dir

    h = hashlib.blake2b(f"cfp-faces-v1|{PAD}|".encode(), digest_size=10)
    h.update("\n".join(paths).encode())
    h.update(detection_version(device).encode())
    return cache_dir() / "cfp-eval" / f"faces-{h.hexdigest()}.npz"


@dataclass
class CfpFaces:
    """The central face of each image (padded coordinates) and the padded image's size."""

    found: np.ndarray  # (N,) bool
    boxes: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    landmarks: np.ndarray  # (N, 5, 2)
    sizes: np.ndarray  # (N, 2) padded width, height

    def face(self, i: int) -> DetectedFace | None:
        if not self.found[i]:
            return None
        return DetectedFace(self.boxes[i], float(self.scores[i]), self.landmarks[i])


def detect_cfp(
    data: CfpData,
    rows: list[int],
    device: object = None,
    progress: Callable[[int, int], None] | None = None,
) -> CfpFaces:
    """Detect the central face of the images ``rows`` (the scan's detector settings), cached
    in the user cache directory by image list and detector code."""
    paths = [data.images[i].path for i in rows]
    cache = detections_cache_path(paths, device)
    try:
        with np.load(cache) as z:
            return CfpFaces(z["found"], z["boxes"], z["scores"], z["landmarks"], z["sizes"])
    except (OSError, KeyError, ValueError):
        pass
    detector = FaceDetector(min_face_size=20, max_side=1000, device=device)
    n = len(rows)
    faces = CfpFaces(
        np.zeros(n, bool), np.zeros((n, 4)), np.zeros(n), np.zeros((n, 5, 2)), np.zeros((n, 2))
    )
    for j, i in enumerate(rows):
        arr = load_padded(data.root, data.images[i])
        h, w = arr.shape[:2]
        faces.sizes[j] = (w, h)
        face = central_face(detector.detect(arr), w, h)
        if face is not None:
            faces.found[j] = True
            faces.boxes[j], faces.scores[j] = face.box, face.score
            faces.landmarks[j] = face.landmarks
        if progress:
            progress(j + 1, n)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, **faces.__dict__)
    tmp.replace(cache)
    return faces


def images_in(data: CfpData, split: str) -> list[int]:
    """Indices of the images whose person belongs to ``split``."""
    return [i for i, im in enumerate(data.images) if in_split(im.person, split)]


def embed_cfp(
    data: CfpData,
    rows: list[int],
    faces: CfpFaces,
    embedder: Embedder,
    batch: int = 32,
    progress: Callable[[int, int], None] | None = None,
    used: np.ndarray | None = None,
) -> np.ndarray:
    """Unit embeddings (len(rows), D) of the detected faces (those ``used``, default all);
    zeros where none was found."""
    out = np.zeros((len(rows), embedder.spec.embedding_size), dtype=np.float32)
    todo = [j for j in range(len(rows)) if faces.found[j] and (used is None or used[j])]
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        chips = [
            embedder.chips(load_padded(data.root, data.images[rows[j]]), [faces.face(j)])[0]
            for j in chunk
        ]
        out[chunk] = embedder.embed_chips(np.stack(chips))
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    return out


@dataclass
class CfpResult:
    protocol: str
    accuracy: float  # mean over folds, misses counted wrong
    accuracy_std: float
    pairs: int
    missed: int  # pairs with an image where no face was found
    folds: list[int]
    thresholds: list[float]
    # The same k-fold accuracy on the pairs whose people are both in one half ("dev", "test"):
    # what a change tuned on the dev people does for people it was not tuned on.
    by_split: dict[str, float] = field(default_factory=dict)


def kfold_with_misses(
    distances: np.ndarray, same: np.ndarray, folds: np.ndarray, found: np.ndarray
) -> tuple[float, float, list[float]]:
    """k-fold accuracy where pairs not ``found`` count as wrong: each fold's threshold is
    chosen on the found pairs of the other folds."""
    accs, thresholds = [], []
    for f in np.unique(folds):
        test = folds == f
        train = (~test if (~test).any() else test) & found
        t = best_threshold(distances[train], same[train])
        ok = test & found
        correct = accuracy_at(distances[ok], same[ok], t) * ok.sum() if ok.any() else 0.0
        accs.append(float(correct / test.sum()))
        thresholds.append(t)
    return float(np.mean(accs)), float(np.std(accs)), thresholds


def evaluate_cfp(
    root: Path,
    embedder: Embedder,
    folds: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, CfpResult]:
    """Verification accuracy on CFP's FF and FP pairs of ``folds`` (default: all present),
    from one detection and embedding pass over their images."""
    data = read_cfp(root)
    chosen = {
        protocol: [p for p in pairs if folds is None or p.fold in folds]
        for protocol, pairs in data.pairs.items()
    }
    if not any(chosen.values()):
        raise ValueError(f"no CFP pairs in folds {folds}")
    # Every image is detected (one cache for all uses); only those in pairs are embedded.
    faces = detect_cfp(data, list(range(len(data.images))), embedder.device, progress)
    used = np.zeros(len(data.images), bool)
    used[[i for pairs in chosen.values() for p in pairs for i in (p.a, p.b)]] = True
    emb = embed_cfp(data, list(range(len(data.images))), faces, embedder, used=used)
    test = np.array([in_split(im.person, "test") for im in data.images])
    halves = {"dev": ~test, "test": test}  # which half each image's person is in
    results = {}
    for protocol, pairs in chosen.items():
        a = np.array([p.a for p in pairs])
        b = np.array([p.b for p in pairs])
        distances = np.linalg.norm(emb[a] - emb[b], axis=1)
        found = faces.found[a] & faces.found[b]
        fold_ids = np.array([p.fold for p in pairs])
        same = np.array([p.same for p in pairs])
        acc, std, thresholds = kfold_with_misses(distances, same, fold_ids, found)
        by_split = {}
        for split, half in halves.items():
            sel = half[a] & half[b]
            if sel.any():
                by_split[split] = kfold_with_misses(
                    distances[sel], same[sel], fold_ids[sel], found[sel]
                )[0]
        results[protocol] = CfpResult(
            protocol,
            acc,
            std,
            len(pairs),
            int((~found).sum()),
            sorted(set(fold_ids.tolist())),
            thresholds,
            by_split,
        )
    return results


@dataclass
class SideViewResult:
    split: str
    side_views: int  # profile images with a face found
    frontal: int
    side_as_profile: float  # fraction of side views whose estimated |yaw| >= PROFILE
    frontal_as_profile: float
    five_point_side_as_profile: float  # the same with the five-point yaw alone
    no_face_side: int
    no_face_frontal: int


def evaluate_side_views(
    root: Path, device: object = None, progress: Callable[[int, int], None] | None = None
) -> list[SideViewResult]:
    """How the stored yaw (``models.pose.estimate_yaw``) classes CFP's frontal and profile
    faces, per half of its people (the classifier was fitted on ``dev``)."""
    from models.pose import PROFILE, estimate_yaw, five_point_yaw

    data = read_cfp(root)
    rows = list(range(len(data.images)))
    faces = detect_cfp(data, rows, device, progress)
    yaw = np.abs(estimate_yaw(faces.landmarks, faces.boxes))
    five = np.abs(five_point_yaw(faces.landmarks))
    profile = np.array([im.profile for im in data.images])
    out = []
    for split in ("dev", "test"):
        half = np.array([in_split(im.person, split) for im in data.images])
        side, front = half & faces.found & profile, half & faces.found & ~profile
        out.append(
            SideViewResult(
                split,
                int(side.sum()),
                int(front.sum()),
                float((yaw[side] >= PROFILE).mean()),
                float((yaw[front] >= PROFILE).mean()),
                float((five[side] >= PROFILE).mean()),
                int((half & ~faces.found & profile).sum()),
                int((half & ~faces.found & ~profile).sum()),
            )
        )
    return out
