"""A catalog whose stored embeddings are made to order, for personal fine-tuning tests.

Real catalogs of LFW faces are too easy for dlib (nothing to improve on a dozen faces), so
these tests write the embeddings themselves: every face is its person's direction plus a
strong "nuisance" (lighting, pose: a few directions shared by everybody) and a little noise.
The Euclidean distance of the stored vectors then confuses people whose nuisance differs
less than their identity, and a linear head that learns to ignore the nuisance directions
recognises them better: the situation personal fine-tuning is for, with a known answer.
Everything else is the real thing: catalog, people operations, training, saving.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from album.catalog import Catalog
from album.catalog.schema import now
from album.people import PeopleService
from album.scan.model_switch import mark_offered

MODEL = "dlib-resnet-v1"
LANDMARKS = [[80.0, 90.0], [120.0, 90.0], [100.0, 112.0], [84.0, 135.0], [116.0, 135.0]]


def embeddings(
    people: int, per_person: int, nuisance: float, seed: int = 0, dim: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (N, dim) of unit length, labels (N,)): identity in dims 0..15, nuisance
    along dims 16..19 (shared by everyone), noise everywhere."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((people, dim))
    centres[:, :16] = rng.normal(size=(people, 16))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(people), per_person)
    x = centres[labels].copy()
    x[:, 16:20] += nuisance * rng.normal(size=(len(labels), 4))
    x += 0.05 * rng.normal(size=x.shape)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), labels


def make_catalog(
    folder: Path,
    vectors: np.ndarray,
    photos: list[list[int]] | None = None,
    model: str = MODEL,
) -> tuple[Path, list[int]]:
    """A catalog at ``folder/catalog.db`` with one face per row of ``vectors`` (``photos``:
    which faces share a photo; default one photo each), embedded with ``model``. Returns the
    path and the face ids in row order."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.db"
    groups = photos or [[i] for i in range(len(vectors))]
    ids = [0] * len(vectors)
    with Catalog(path) as cat:
        f = cat.add_folder(folder)
        with cat.write():
            for n, rows in enumerate(groups):
                photo = folder / f"p{n}.jpg"
                if not photo.exists():
                    Image.new("RGB", (200, 200), (n % 256, 90, 120)).save(photo)
                h = f"hash{n}"
                cat.db.execute(
                    "INSERT INTO photos (folder_id, path, size, mtime_ns, content_hash, width, "
                    "height, status, updated_at) VALUES (?, ?, ?, ?, ?, 200, 200, 'done', ?)",
                    (f.id, str(photo), photo.stat().st_size, photo.stat().st_mtime_ns, h, now()),
                )
                for j, r in enumerate(rows):
                    cur = cat.db.execute(
                        "INSERT INTO faces (content_hash, face_key, box_left, box_top, "
                        "box_right, box_bottom, landmarks, score, quality, updated_at) "
                        "VALUES (?, ?, 60, 60, 140, 160, ?, 0.99, 0.9, ?)",
                        (h, f"k{j}", json.dumps(LANDMARKS), now()),
                    )
                    ids[r] = int(cur.lastrowid)
                    blob = vectors[r].astype("<f4").tobytes()
                    cat.db.execute(
                        "INSERT INTO embeddings (face_id, model_id, vector, dim, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (ids[r], model, blob, vectors.shape[1], now()),
                    )
            cat.set_setting("model", model)
        mark_offered(cat)  # the app's one question about the default model: already asked
    return path, ids


def confirm(path: Path, ids: list[int], labels: np.ndarray, per_person: int) -> dict[int, int]:
    """Confirm the first ``per_person`` faces of each label as person "P<label>" (the
    others stay unlabelled); returns label -> person id."""
    out = {}
    with Catalog(path) as cat:
        svc = PeopleService(cat)
        for c in np.unique(labels):
            rows = [i for i in np.flatnonzero(labels == c)][:per_person]
            person = svc.enroll(ids[rows[0]], f"P{c}")
            if len(rows) > 1:
                svc.move([ids[r] for r in rows[1:]], person.id)
            out[int(c)] = person.id
    return out
