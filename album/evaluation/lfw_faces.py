"""LFW faces for the clustering benchmark, through the real pipeline, cached.

Every image of the people with at least ``min_images`` images is detected with MTCNN on the
original 250x250 photo (min face 20 px), the face nearest the centre is kept (as in
``album.evaluation.lfw``), aligned and embedded; images where nothing is found use LFW's median
landmark position. Embeddings and face qualities are cached in the user cache directory, keyed
by the model and the file list, so tuning runs take seconds instead of minutes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.pose import pose_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledFaces:
    """Faces with their true identity: ``embeddings`` (N, D) unit float32, ``quality`` (N,),
    ``labels`` (N,) int identity index into ``identities``, ``files`` (N,) relative paths."""

    embeddings: np.ndarray
    quality: np.ndarray
    labels: np.ndarray
    identities: list[str]
    files: list[str]
    model: str
    no_face: int  # images where no face was detected (median landmarks used); -1: unknown
    # (N,) bool, False where no face was detected; None in caches written before it was kept
    found: np.ndarray | None = None
    yaw: np.ndarray | None = None  # (N,) estimated yaw in degrees (models.pose); 0: no face


def lfw_files(data: Path, min_images: int) -> list[str]:
    """Relative paths of every image of the people with at least ``min_images`` images."""
    data = Path(data)
    files: list[str] = []
    for person in sorted(p for p in data.iterdir() if p.is_dir()):
        images = sorted(person.glob("*.jpg"))
        if len(images) >= min_images:
            files.extend(f"{person.name}/{im.name}" for im in images)
    return files


def _cache_key(model: str, files: list[str]) -> str:
    h = hashlib.blake2b(digest_size=10)
    # v3: padded MTCNN crops, yaw kept (models.pose.estimate_yaw, so its code and fitted
    # constants are part of the key).
    h.update(f"v3|{model}|min_face=20|central|".encode())
    h.update(pose_version().encode())  # the stored yaw
    for f in files:
        h.update(f.encode() + b"\n")
    return h.hexdigest()


def load_lfw_faces(
    data: Path,
    min_images: int = 10,
    model: str | None = None,
    device: str | None = None,
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    split: str = "all",
) -> LabelledFaces:
    """Detect, embed and label the faces of LFW people with >= ``min_images`` images.

    ``cache``: folder of the cached arrays (default: ``<user cache>/people-eval``); the first
    run embeds (a few minutes for 4,324 faces on two cores), later runs read the cache.
    ``split``: ``"dev"`` or ``"test"`` keeps that half of the people
    (``album.evaluation.splits``); the cache holds every person, so a split costs nothing.
    """
    faces = _load_all(data, min_images, model, device, cache, progress)
    return faces if split == "all" else select_people(faces, split)


def select_people(faces: LabelledFaces, split: str) -> LabelledFaces:
    """The faces of the people of ``split`` (``"dev"``, ``"test"`` or ``"all"``)."""
    from album.evaluation.splits import in_split

    if split == "all":
        return faces
    keep_names = [n for n in faces.identities if in_split(n, split)]
    old = {n: i for i, n in enumerate(faces.identities)}
    new = {n: i for i, n in enumerate(keep_names)}
    remap = np.full(len(faces.identities), -1, dtype=np.int64)
    for n in keep_names:
        remap[old[n]] = new[n]
    rows = np.flatnonzero(remap[faces.labels] >= 0)
    found = faces.found
    return LabelledFaces(
        faces.embeddings[rows],
        faces.quality[rows],
        remap[faces.labels[rows]],
        keep_names,
        [faces.files[i] for i in rows],
        faces.model,
        int((~found[rows]).sum()) if found is not None else -1,
        found[rows] if found is not None else None,
        faces.yaw[rows] if faces.yaw is not None else None,
    )


def _load_all(
    data: Path,
    min_images: int,
    model: str | None,
    device: str | None,
    cache: Path | None,
    progress: Callable[[int, int], None] | None,
) -> LabelledFaces:
    from album.catalog.paths import cache_dir
    from models.registry import DEFAULT_MODEL, get_spec

    data = Path(data)
    model = model or DEFAULT_MODEL
    files = lfw_files(data, min_images)
    if not files:
        raise FileNotFoundError(f"{data}: no LFW person folder with >= {min_images} images")
    identities = sorted({f.split("/")[0] for f in files})
    index = {name: i for i, name in enumerate(identities)}
    labels = np.array([index[f.split("/")[0]] for f in files], dtype=np.int64)
    spec = get_spec(model)
    if spec.parts:
        # A fused embedding is its parts' embeddings joined (models.embedder), and every part
        # sees the same detections: join theirs, each cached on its own.
        parts = [
            _load_all(data, min_images, name, device, cache, progress) for name, _ in spec.parts
        ]
        joined = np.concatenate(
            [w * p.embeddings for p, (_, w) in zip(parts, spec.parts, strict=True)], axis=1
        )
        joined /= np.linalg.norm(joined, axis=1, keepdims=True).clip(1e-12)
        first = parts[0]
        return LabelledFaces(
            joined.astype(np.float32),
            first.quality,
            labels,
            identities,
            files,
            model,
            first.no_face,
            first.found,
            first.yaw,
        )
    folder = Path(cache) if cache is not None else cache_dir() / "people-eval"
    path = folder / f"lfw-{_cache_key(model, files)}.npz"
    if path.is_file():
        z = np.load(path)
        log.info("LFW faces from cache %s", path)
        return LabelledFaces(
            z["embeddings"],
            z["quality"],
            labels,
            identities,
            files,
            model,
            int(z["no_face"]),
            z["found"] if "found" in z.files else None,
            z["yaw"] if "yaw" in z.files else None,
        )
    embeddings, quality, found, yaw = _embed_files(data, files, model, device, progress)
    no_face = int((~found).sum())
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, embeddings=embeddings, quality=quality, no_face=no_face, found=found, yaw=yaw)
    tmp.replace(path)
    return LabelledFaces(embeddings, quality, labels, identities, files, model, no_face, found, yaw)


def _embed_files(
    data: Path,
    files: list[str],
    model: str,
    device: str | None,
    progress: Callable[[int, int], None] | None,
    batch: int = 32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from PIL import Image

    from album.evaluation.lfw import central_face
    from album.scan.quality import face_quality
    from models.detector import DetectedFace, FaceDetector
    from models.embedder import Embedder
    from models.pose import estimate_yaw

    embedder = Embedder(model, device=device)
    detector = FaceDetector(min_face_size=20, max_side=1000, device=embedder.device)
    faces: list[DetectedFace | None] = []
    for start in range(0, len(files), batch):
        arrays = [
            np.asarray(Image.open(data / f).convert("RGB")) for f in files[start : start + batch]
        ]
        for arr, found in zip(arrays, detector.detect_batch(arrays), strict=True):
            faces.append(central_face(found, arr.shape[1], arr.shape[0]))
        if progress:
            progress(len(faces), 2 * len(files))
    detected = [f.landmarks for f in faces if f is not None]
    fallback = np.median(np.stack(detected), axis=0)
    found = np.array([f is not None for f in faces], dtype=bool)
    yaw = np.array(
        [estimate_yaw(f.landmarks, f.box)[0] if f else 0.0 for f in faces], dtype=np.float32
    )
    embeddings = np.zeros((len(files), embedder.spec.embedding_size), dtype=np.float32)
    quality = np.zeros(len(files), dtype=np.float32)
    for start in range(0, len(files), batch):
        chips = []
        for i in range(start, min(start + batch, len(files))):
            arr = np.asarray(Image.open(data / files[i]).convert("RGB"))
            face = faces[i] or DetectedFace(np.array([0.0, 0.0, 1.0, 1.0]), 0.0, fallback)
            chip = embedder.chips(arr, [face])[0]
            quality[i] = face_quality(face.score, tuple(face.box), chip)
            chips.append(chip)
        embeddings[start : start + len(chips)] = embedder.embed_chips(np.stack(chips))
        if progress:
            progress(len(files) + start + len(chips), 2 * len(files))
    return embeddings, quality, found, yaw
