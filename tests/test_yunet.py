"""YuNet, the second look at small photos: its weights, its engines, and the side views it
adds to MTCNN's faces."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, lfw_image
from PIL import Image

from models import yunet
from models.detector import FaceDetector
from models.engine import openvino_available
from models.errors import WeightsMissingError
from models.pose import PROFILE, estimate_yaw

needs_weights = pytest.mark.skipif(
    yunet.find_yunet() is None, reason=f"YuNet weights not installed ({yunet.PACKAGE_PIN})"
)
# CFP side views in which MTCNN finds no face, padded as they would sit in a photo.
MISSED_SIDE_VIEWS = ("146/profile/04.jpg", "053/profile/04.jpg")


def _side_view(cfp, name: str) -> np.ndarray:
    from album.evaluation.cfp import CfpImage, load_padded

    return load_padded(cfp, CfpImage(f"Data/Images/{name}", name[:3], True))


@needs_weights
def test_finds_a_frontal_face_where_mtcnn_does(lfw, detector) -> None:
    image = lfw_image(lfw, "Aaron_Eckhart")
    boxes, scores, marks = yunet.YuNet().detect(image, 0.5)
    assert len(boxes) == 1 and scores[0] > 0.9
    mtcnn = detector.detect(image)[0]
    assert np.abs(boxes[0] - mtcnn.box).max() < 0.25 * mtcnn.width
    # MTCNN's landmark order: the eye on the image's left first, nose, mouth left to right.
    assert np.linalg.norm(marks[0] - mtcnn.landmarks, axis=1).max() < 0.1 * mtcnn.width
    assert marks[0][0, 0] < marks[0][1, 0] and marks[0][3, 0] < marks[0][4, 0]


@needs_weights
@pytest.mark.skipif(not openvino_available(), reason="OpenVINO is not installed")
def test_openvino_and_torch_give_the_same_faces(lfw) -> None:
    image = np.asarray(Image.fromarray(lfw_image(lfw, "Colin_Powell")).resize((640, 640)))
    compiled = yunet.YuNet(engine="openvino")
    plain = yunet.YuNet(engine="torch")
    assert type(compiled.net) is not type(plain.net)
    a, b = compiled.detect(image, 0.3), plain.detect(image, 0.3)
    assert len(a[0]) == len(b[0]) >= 1
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x, y, atol=1e-3)


@needs_weights
def test_small_photos_get_the_side_views_mtcnn_misses(cfp) -> None:
    alone = FaceDetector(min_face_size=20, max_side=1000, small_side=0)
    both = FaceDetector(min_face_size=20, max_side=1000)
    for name in MISSED_SIDE_VIEWS:
        image = _side_view(cfp, name)
        assert max(image.shape[:2]) < both.small_side
        assert alone.detect(image) == []
        faces = both.detect(image)
        assert len(faces) == 1 and faces[0].score >= both.second_look_score
        # The stored pose calls it a side view, as for MTCNN's own side views.
        assert abs(estimate_yaw(faces[0].landmarks, faces[0].box)) >= PROFILE


@needs_weights
def test_faces_mtcnn_found_are_left_as_they_were(lfw) -> None:
    alone = FaceDetector(min_face_size=20, small_side=0)
    both = FaceDetector(min_face_size=20)
    for name in ("Aaron_Eckhart", "Colin_Powell", "Yao_Ming"):
        image = lfw_image(lfw, name)
        first, second = alone.detect(image), both.detect(image)
        assert len(second) == len(first) >= 1
        assert all(np.array_equal(a.box, b.box) for a, b in zip(first, second, strict=True))
    assert both._yunet_state  # it did look


def test_large_photos_skip_the_second_look(lfw) -> None:
    image = np.asarray(Image.fromarray(lfw_image(lfw, "Colin_Powell")).resize((1200, 1200)))
    detector = FaceDetector(min_face_size=20, max_side=1000)
    assert detector.detect(image)
    assert detector._yunet_state is None  # never even loaded


def test_without_its_weights_mtcnn_looks_alone(lfw, monkeypatch, caplog) -> None:
    monkeypatch.setattr(yunet, "find_yunet", lambda: None)
    detector = FaceDetector(min_face_size=20)
    with caplog.at_level(logging.WARNING):
        faces = detector.detect(lfw_image(lfw, "Aaron_Eckhart"))
    assert len(faces) == 1
    assert "MTCNN alone" in caplog.text and yunet.PACKAGE_PIN in caplog.text


def test_a_file_that_is_not_yunet_is_refused(tmp_path) -> None:
    fake = tmp_path / yunet.FILE
    fake.write_bytes(b"not a network")
    with pytest.raises(WeightsMissingError, match="not the expected YuNet file"):
        yunet.load_yunet(fake)


@needs_weights
def test_the_second_look_does_not_import_torchvision(lfw) -> None:
    # Importing torchvision costs a scan a second of start-up and 160 MB: detection reaches
    # its kernels through models.vision_ops, and so does YuNet's.
    photo = str(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg")
    code = (
        "import sys, numpy as np; from PIL import Image; "
        "from models.detector import FaceDetector; d = FaceDetector(min_face_size=20); "
        f"faces = d.detect(np.asarray(Image.open({photo!r}).convert('RGB'))); "
        "print(len(faces), bool(d._yunet_state), 'torchvision' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.split() == ["1", "True", "False"]
