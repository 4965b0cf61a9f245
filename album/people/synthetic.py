"""Synthetic face embeddings for tests and benchmarks: people as tight clouds on the sphere."""

from __future__ import annotations

import numpy as np


def synthetic_people(
    people: int, faces: int | np.ndarray, dim: int = 128, spread: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings (N, dim) unit float32, labels (N,)) for ``people`` identities.

    ``faces``: faces per person (or an array of counts). ``spread``: typical distance between
    two faces of one person (0.3 is a typical same-person distance for dlib-resnet-v1);
    different people are about 1.4 apart.
    """
    rng = np.random.default_rng(seed)
    counts = np.full(people, faces) if np.isscalar(faces) else np.asarray(faces)
    centres = rng.standard_normal((people, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(people), counts)
    sigma = spread / np.sqrt(2 * dim)
    x = centres[labels] + sigma * rng.standard_normal((len(labels), dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), labels


def fill_catalog(
    catalog,
    embeddings: np.ndarray,
    photo_of: np.ndarray | list[int],
    model_id: str = "dlib-resnet-v1",
    quality: np.ndarray | None = None,
    folder: str = "/synthetic",
    size: tuple[int, int] = (4000, 3000),
) -> list[int]:
    """Store faces with these embeddings in ``catalog`` (photos ``photo_00012.jpg`` ... under
    ``folder``, faces side by side); ``photo_of[i]`` is face i's photo number. Returns the
    face ids in input order. For tests and benchmarks: no image file exists."""
    from album.catalog.schema import now

    t = now()
    photo_of = np.asarray(photo_of)
    ids: list[int] = []
    db = catalog.db
    slot: dict[int, int] = {}
    with db.atomic():
        for number in sorted(set(photo_of.tolist())):
            digest = f"{number:064x}"
            db.execute(
                "INSERT OR IGNORE INTO photos (path, size, mtime_ns, content_hash, width, "
                "height, status, updated_at) VALUES (?, 1, 1, ?, ?, ?, 'done', ?)",
                (f"{folder}/photo_{number:05d}.jpg", digest, size[0], size[1], t),
            )
        for i, vec in enumerate(np.asarray(embeddings, dtype="<f4")):
            number = int(photo_of[i])
            k = slot.get(number, 0)
            slot[number] = k + 1
            left = 100.0 + 400.0 * k
            q = 0.8 if quality is None else float(quality[i])
            fid = db.execute(
                "INSERT INTO faces (content_hash, face_key, box_left, box_top, box_right, "
                "box_bottom, landmarks, score, quality, updated_at) VALUES (?, ?, ?, 200, ?, 500, "
                "'[]', 0.99, ?, ?)",
                (f"{number:064x}", f"{int(left)},200", left, left + 300.0, q, t),
            ).lastrowid
            db.execute(
                "INSERT INTO embeddings (face_id, model_id, vector, dim, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (fid, model_id, vec.tobytes(), len(vec), t),
            )
            ids.append(fid)
        catalog.set_setting("model", model_id)
    return ids
