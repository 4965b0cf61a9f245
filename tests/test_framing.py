"""Detection that survives framing: faces filling the frame, turned photos, tilted heads; and
the pose estimate that tells frontal faces from turned ones."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import lfw_image
from PIL import Image

from album.evaluation.lfw import central_face, tight_box
from models.detector import FaceDetector, turned
from models.pose import pose_class, roll_degrees, yaw_degrees

PEOPLE = (
    "Aaron_Eckhart",
    "Colin_Powell",
    "Yao_Ming",
    "Serena_Williams",
    "Tony_Blair",
    "Gloria_Macapagal_Arroyo",
    "John_Ashcroft",
    "Jennifer_Lopez",
    "Hugo_Chavez",
    "Laura_Bush",
)


@pytest.fixture(scope="module")
def plain() -> FaceDetector:
    return FaceDetector(min_face_size=20, retry_angles=())


@pytest.fixture(scope="module")
def with_retry() -> FaceDetector:
    return FaceDetector(min_face_size=20)


def _error(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean landmark error as a fraction of the distance between the eyes."""
    iod = float(np.linalg.norm(truth[0] - truth[1]))
    return float(np.linalg.norm(found - truth, axis=1).mean() / iod)


def test_tight_crops_keep_their_landmarks(lfw, plain) -> None:
    # A face cropped to its box plus 10% touches every border. Candidate crops that leave the
    # image are padded, not stretched: landmarks stay where the full photo puts them
    # (stretched crops: 0.135 of the eye distance on these ten faces).
    errors = []
    for name in PEOPLE:
        image = lfw_image(lfw, name)
        full = central_face(plain.detect(image), 250, 250)
        left, top, right, bottom = tight_box(full.box, 250, 250)
        crop = np.ascontiguousarray(image[top:bottom, left:right])
        face = central_face(plain.detect(crop), crop.shape[1], crop.shape[0])
        assert face is not None, f"no face in the tight crop of {name}"
        errors.append(_error(face.landmarks + np.array([left, top]), full.landmarks))
    assert np.mean(errors) < 0.05 and max(errors) < 0.1


def test_turned_maps_points_back() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[50:53, 300:303] = 255  # a dot centred on (301, 51)
    for angle in (40.0, -40.0, 90.0, -90.0, 180.0, 270.0):
        out, back = turned(image, angle)
        ys, xs = np.nonzero(out[..., 0] > 100)
        w = out[ys, xs, 0].astype(float)
        dot = np.array([np.average(xs, weights=w), np.average(ys, weights=w)])
        assert np.allclose(dot @ back[:, :2].T + back[:, 2], (301, 51), atol=1.0), angle


@pytest.mark.parametrize("angle", [90, -90, 45, -45])
def test_turned_photo_and_tilted_head_are_found(lfw, plain, with_retry, angle) -> None:
    image = lfw_image(lfw, "Colin_Powell")
    upright = central_face(plain.detect(image), 250, 250)
    photo = np.asarray(Image.fromarray(image).rotate(angle, expand=True))
    _, back = turned(image, angle)  # photo pixels -> upright pixels
    faces = with_retry.detect(photo)
    assert faces, f"no face in a photo turned by {angle} degrees"
    marks = faces[0].landmarks @ back[:, :2].T + back[:, 2]
    assert _error(marks, upright.landmarks) < 0.1
    # Only a photo without any face pays for the retries: turned, the face is lost without them.
    if abs(angle) >= 90:
        assert plain.detect(photo) == []


def test_pose_from_landmarks() -> None:
    frontal = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], float)
    assert abs(yaw_degrees(frontal)) < 1 and abs(roll_degrees(frontal)) < 1
    assert pose_class(yaw_degrees(frontal)) == "frontal"
    right = frontal.copy()
    right[2, 0] += 12  # the nose moves to the image's right as the head turns
    left = frontal.copy()
    left[2, 0] -= 30
    assert 25 < yaw_degrees(right) < 50 and pose_class(yaw_degrees(right)) == "turned"
    assert yaw_degrees(left) < -50 and pose_class(yaw_degrees(left)) == "profile"
    assert yaw_degrees(left) >= -90
    tilted = frontal @ np.array([[0.0, 1.0], [-1.0, 0.0]]).T  # the face turned 90 degrees
    assert abs(abs(roll_degrees(tilted)) - 90) < 1 and abs(yaw_degrees(tilted)) < 1


def test_lfw_frontal_face_reads_frontal(lfw, plain) -> None:
    face = central_face(plain.detect(lfw_image(lfw, "Colin_Powell")), 250, 250)
    assert pose_class(yaw_degrees(face.landmarks)) == "frontal"


def test_lfw_variants_run_the_protocol_on_harder_copies(lfw, tmp_path, embedder) -> None:
    """A two-fold pairs file over four real people: each variant changes the images the
    pipeline sees, and same-person pairs stay closer than different-person pairs."""
    import shutil

    from album.evaluation.lfw import evaluate_lfw

    people = ("Colin_Powell", "Tony_Blair", "Serena_Williams", "Hugo_Chavez")
    for name in people:
        (tmp_path / name).mkdir()
        for k in (1, 2):
            shutil.copy(lfw / name / f"{name}_{k:04d}.jpg", tmp_path / name)
    (tmp_path / "pairs.txt").write_text(
        "2 1\nColin_Powell 1 2\nColin_Powell 1 Tony_Blair 1\n"
        "Serena_Williams 1 2\nSerena_Williams 2 Hugo_Chavez 2\n"
    )
    seen = {}
    for variant in ("original", "tight", "rotated"):
        r = evaluate_lfw(tmp_path, embedder, variant=variant)
        assert r.images == 6 and r.no_face == 0 and len(r.distances) == 4
        assert r.distances[r.same].max() < r.distances[~r.same].min(), variant
        seen[variant] = r.distances
    assert not np.allclose(seen["original"], seen["tight"])
    with pytest.raises(ValueError):
        evaluate_lfw(tmp_path, embedder, variant="upside-down")
