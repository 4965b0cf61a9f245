"""MTCNN detection on real faces and on odd input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import lfw_image
from PIL import Image

from models.detector import FaceDetector, as_rgb_array


def _inside(points: np.ndarray, box: np.ndarray) -> bool:
    return bool(
        np.all(points[:, 0] >= box[0])
        and np.all(points[:, 0] <= box[2])
        and np.all(points[:, 1] >= box[1])
        and np.all(points[:, 1] <= box[3])
    )


def test_finds_the_face_with_landmarks(lfw, detector) -> None:
    faces = detector.detect(lfw_image(lfw, "Aaron_Eckhart"))
    assert faces
    face = faces[0]
    assert face.score > 0.95
    assert 60 < face.width < 160 and 80 < face.height < 180
    assert _inside(face.landmarks, face.box)
    left_eye, right_eye, nose, mouth_l, mouth_r = face.landmarks
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])


def test_batch_matches_single_images(lfw, detector) -> None:
    images = [lfw_image(lfw, n) for n in ("Aaron_Eckhart", "Colin_Powell", "Yao_Ming")]
    batched = detector.detect_batch(images)
    for img, faces in zip(images, batched, strict=True):
        single = detector.detect(img)
        assert len(single) == len(faces)
        assert np.allclose(single[0].box, faces[0].box, atol=1.0)


def test_large_photos_are_reduced_and_boxes_mapped_back(lfw) -> None:
    small = lfw_image(lfw, "Colin_Powell")
    big = np.asarray(Image.fromarray(small).resize((1000, 1000), Image.Resampling.BICUBIC))
    direct = FaceDetector(min_face_size=20, max_side=2000).detect(big)[0]
    reduced = FaceDetector(min_face_size=20, max_side=400).detect(big)[0]
    # Same face, in the big image's coordinates, within a few percent of its size.
    assert np.abs(direct.box - reduced.box).max() < 0.06 * direct.width
    assert np.abs(direct.landmarks - reduced.landmarks).max() < 0.06 * direct.width
    assert reduced.box[2] > 500  # really mapped back, not left at the reduced scale


def test_min_face_size_filters_small_faces(lfw) -> None:
    img = lfw_image(lfw, "Colin_Powell")  # face about 100 px wide
    assert FaceDetector(min_face_size=20).detect(img)
    assert not FaceDetector(min_face_size=240).detect(img)


def test_odd_input_gives_faces_or_nothing(lfw, detector) -> None:
    rgb = lfw_image(lfw, "Aaron_Eckhart")
    pil = Image.fromarray(rgb)
    variants = {
        "gray": pil.convert("L"),
        "rgba": pil.convert("RGBA"),
        "cmyk": pil.convert("CMYK"),
        "palette": pil.convert("P"),
        "gray16": (np.asarray(pil.convert("L")).astype(np.uint16) * 257),
    }
    for name, image in variants.items():
        faces = detector.detect(image)
        assert len(faces) >= 1, name
    assert detector.detect(np.zeros((10, 10, 3), np.uint8)) == []
    assert detector.detect(np.full((300, 400, 3), 128, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    assert detector.detect(noise) == []


def test_huge_photo_is_handled(lfw) -> None:
    canvas = np.full((9000, 12000, 3), 90, np.uint8)
    face = np.asarray(Image.fromarray(lfw_image(lfw, "Colin_Powell")).resize((1500, 1500)))
    canvas[3000:4500, 5000:6500] = face
    faces = FaceDetector(min_face_size=200).detect(canvas)
    assert faces
    cx = (faces[0].box[0] + faces[0].box[2]) / 2
    assert 5000 < cx < 6500


def test_bad_arrays_raise_clearly() -> None:
    with pytest.raises(ValueError, match="RGB"):
        as_rgb_array(np.zeros((10, 10, 2), np.uint8))
