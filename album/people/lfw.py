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
    no_face: int  # images where no face was detected (median landmarks used)


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
    h.update(f"v1|{model}|min_face=20|central|".encode())
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
) -> LabelledFaces:
    """Detect, embed and label the faces of LFW people with >= ``min_images`` images.

    ``cache``: folder of the cached arrays (default: ``<user cache>/people-eval``); the first
    run embeds (a few minutes for 4,324 faces on two cores), later runs read the cache.
    """
    from album.catalog.paths import cache_dir
    from models.registry import DEFAULT_MODEL

    data = Path(data)
    model = model or DEFAULT_MODEL
    files = lfw_files(data, min_images)
    if not files:
        raise FileNotFoundError(f"{data}: no LFW person folder with >= {min_images} images")
    identities = sorted({f.split("/")[0] for f in files})
    index = {name: i for i, name in enumerate(identities)}
    labels = np.array([index[f.split("/")[0]] for f in files], dtype=np.int64)
    folder = Path(cache) if cache is not None else cache_dir() / "people-eval"
    path = folder / f"lfw-{_cache_key(model, files)}.npz"
    if path.is_file():
        z = np.load(path)
        log.info("LFW faces from cache %s", path)
        return LabelledFaces(
            z["embeddings"], z["quality"], labels, identities, files, model, int(z["no_face"])
        )
    embeddings, quality, no_face = _embed_files(data, files, model, device, progress)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, embeddings=embeddings, quality=quality, no_face=no_face)
    tmp.replace(path)
    return LabelledFaces(embeddings, quality, labels, identities, files, model, no_face)


def _embed_files(
    data: Path,
    files: list[str],
    model: str,
    device: str | None,
    progress: Callable[[int, int], None] | None,
    batch: int = 32,
) -> tuple[np.ndarray, np.ndarray, int]:
    from PIL import Image

    from album.evaluation.lfw import central_face
    from album.scan.quality import face_quality
    from models.detector import DetectedFace, FaceDetector
    from models.embedder import Embedder

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
    no_face = sum(f is None for f in faces)
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
    return embeddings, quality, no_face
