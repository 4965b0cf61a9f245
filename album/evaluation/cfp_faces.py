"""CFP's people as labelled embeddings, the way a scan would store them: each image's central
face detected as it sits in a photo (``album.evaluation.cfp``), embedded, with the yaw a scan
stores. Cached in the user cache directory by model, image list and detections, so the
evaluations built on it (splitting people, the group questions' calibration) embed once."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from album.evaluation.cfp import detect_cfp, detections_cache_path, embed_cfp, images_in, read_cfp
from album.evaluation.lfw_faces import LabelledFaces
from album.evaluation.splits import in_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CfpFaceSet:
    """The faces found (images without one are left out) and which are real side views."""

    faces: LabelledFaces
    profile: np.ndarray  # (N,) bool: a CFP profile photo


def load_cfp_faces(root: Path, split: str = "all", model: str | None = None) -> CfpFaceSet:
    """Embeddings (``model``, default the app's) of the CFP people of ``split``."""
    from album.catalog.paths import cache_dir
    from models.embedder import Embedder
    from models.pose import estimate_yaw, pose_version
    from models.registry import DEFAULT_MODEL

    model = model or DEFAULT_MODEL
    data = read_cfp(Path(root))
    rows = images_in(data, "all")  # one cache for both halves of the people
    found = detect_cfp(data, rows)
    key = hashlib.blake2b(f"cfp-embeddings-v1|{model}|".encode(), digest_size=10)
    key.update(detections_cache_path([data.images[i].path for i in rows]).name.encode())
    key.update(pose_version().encode())  # the stored yaw
    cache = cache_dir() / "cfp-eval" / f"embeddings-{key.hexdigest()}.npz"
    keep = np.flatnonzero(found.found)
    try:
        with np.load(cache) as z:
            x = z["embeddings"]
    except (OSError, KeyError, ValueError):
        log.info("embedding %d CFP faces with %s", len(keep), model)
        x = embed_cfp(data, rows, found, Embedder(model))[keep]
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, embeddings=x)
        tmp.replace(cache)
    keep_split = np.array([in_split(data.images[rows[j]].person, split) for j in keep], bool)
    x, keep = x[keep_split], keep[keep_split]
    names = [data.images[rows[j]].person for j in keep]
    identities = sorted(set(names))
    index = {n: i for i, n in enumerate(identities)}
    faces = LabelledFaces(
        embeddings=x,
        quality=np.clip(found.scores[keep], 0.0, 1.0),
        labels=np.array([index[n] for n in names], dtype=np.int64),
        identities=identities,
        files=[data.images[rows[j]].path for j in keep],
        model=model,
        no_face=sum(
            not found.found[j] and in_split(data.images[rows[j]].person, split)
            for j in range(len(rows))
        ),
        found=np.ones(len(keep), dtype=bool),
        yaw=estimate_yaw(found.landmarks[keep], found.boxes[keep]),  # what a scan stores
    )
    profile = np.array([data.images[rows[j]].profile for j in keep], dtype=bool)
    return CfpFaceSet(faces, profile)
