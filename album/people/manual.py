"""Faces the user marks by hand: a box drawn on a photo around a face the scan missed.

``measure_face`` does the engine's part (decode, landmarks, chip, embedding, quality) and
writes nothing; ``PeopleService.add_face`` stores the result as a face of the photo's content
and names it in one undoable operation (see ``PeopleService.add_manual_face`` for both).

Landmarks come from MTCNN run with permissive settings on the box's surroundings (the face
whose box overlaps the drawn one most); when it finds nothing there, they are placed from the
mean face layout (``FACENET_MTCNN_TEMPLATE``, a 160 x 160 box) scaled to the drawn box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from album.catalog import Catalog
from album.catalog.records import Box
from album.people.errors import PeopleError

PAD = 0.3  # the detector sees the box grown by this fraction of its size on each side
MIN_SIDE = 8.0  # smallest box (original pixels) accepted
DETECT_SCORE = 0.3
MANUAL_SCORE = 0.5  # stored score of a face the detector did not confirm


class ManualFaceError(PeopleError):
    """The box cannot be made a face (the message says why)."""


@dataclass(frozen=True)
class ManualFace:
    """A hand-marked face ready to store (original photo pixels)."""

    photo_id: int
    content_hash: str
    box: Box
    landmarks: np.ndarray  # (5, 2), MTCNN order
    score: float  # detector probability, or MANUAL_SCORE when placed from the mean layout
    quality: float
    vector: np.ndarray  # float32 (D,), unit length
    model_id: str
    detected: bool  # landmarks from the detector (else from the mean layout)


def template_landmarks(box: Box) -> np.ndarray:
    """MTCNN-order landmarks of a mean face filling ``box``."""
    from models.fitted import FACENET_MTCNN_TEMPLATE

    t = np.asarray(FACENET_MTCNN_TEMPLATE, dtype=np.float32) / 160.0
    x0, t0, r, b = box
    return np.stack([x0 + t[:, 0] * (r - x0), t0 + t[:, 1] * (b - t0)], axis=1).astype(np.float32)


def _overlap(a, b) -> float:
    from album.scan.writer import iou

    return iou(tuple(float(v) for v in a), tuple(float(v) for v in b))


def normalise_box(box, width: int | None, height: int | None) -> Box:
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if width:
        x0, x1 = max(0.0, x0), min(float(width), x1)
    if height:
        y0, y1 = max(0.0, y0), min(float(height), y1)
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        raise ManualFaceError("the box is too small to be a face")
    return (x0, y0, x1, y1)


def measure_face(
    catalog: Catalog,
    photo_id: int,
    box,
    model_id: str,
    embedder=None,
    detector=None,
    max_side: int = 2000,
) -> ManualFace:
    """Landmarks, embedding and quality of the face in ``box`` (original photo pixels) of
    photo ``photo_id``; writes nothing. ``embedder`` must be of ``model_id`` (built when
    None), ``detector`` an MTCNN ``FaceDetector`` (a permissive one is built when None)."""
    from album.images import load_image
    from album.scan.quality import face_quality
    from models.detector import DetectedFace

    photo = catalog.photo(int(photo_id))
    if photo is None or photo.content_hash is None:
        raise ManualFaceError(f"no photo {photo_id}")
    if photo.status != "done":
        raise ManualFaceError(f"{photo.path} is {photo.status}: its pixels cannot be read")
    image = load_image(photo.path, max_side=max_side)
    w, h = image.original_size
    drawn = normalise_box(box, w, h)
    k = image.scale  # original -> decoded pixels
    dbox = np.array(drawn, dtype=np.float32) * k
    rgb = image.rgb
    H, W = rgb.shape[:2]

    # Detector on the padded region, results mapped back to decoded pixels.
    pw, ph = (dbox[2] - dbox[0]) * PAD, (dbox[3] - dbox[1]) * PAD
    x0, y0 = int(max(0, np.floor(dbox[0] - pw))), int(max(0, np.floor(dbox[1] - ph)))
    x1, y1 = int(min(W, np.ceil(dbox[2] + pw))), int(min(H, np.ceil(dbox[3] + ph)))
    best = None
    if x1 - x0 >= 12 and y1 - y0 >= 12:
        if detector is None:
            from models.detector import FaceDetector

            detector = FaceDetector(
                min_face_size=12, thresholds=(0.5, 0.5, 0.5), min_score=DETECT_SCORE
            )
        offset = np.array([x0, y0], dtype=np.float32)
        scored = []
        for f in detector.detect(rgb[y0:y1, x0:x1]):
            fbox = np.asarray(f.box, dtype=np.float32) + np.tile(offset, 2)
            overlap = _overlap(fbox, dbox)
            if overlap > 0.2:
                scored.append((overlap, f.score, fbox, np.asarray(f.landmarks) + offset))
        if scored:
            best = max(scored, key=lambda s: (s[0], s[1]))
    if best is not None:
        score, landmarks = float(best[1]), np.asarray(best[3], dtype=np.float32)
    else:
        score, landmarks = MANUAL_SCORE, template_landmarks(tuple(dbox))

    if embedder is None:
        from models.embedder import Embedder

        embedder = Embedder(model_id)
    if embedder.name != model_id:
        raise ManualFaceError(f"the catalog's faces are embedded with {model_id!r}")
    face = DetectedFace(dbox, score, landmarks)
    chips = embedder.chips(rgb, [face])
    vector = embedder.embed_chips(chips)[0]
    return ManualFace(
        photo_id=photo.id,
        content_hash=photo.content_hash,
        box=drawn,
        landmarks=landmarks / k,
        score=score,
        # The user vouches that this is a face: full confidence, size and sharpness decide.
        quality=face_quality(1.0, drawn, chips[0]),
        vector=vector,
        model_id=model_id,
        detected=best is not None,
    )
