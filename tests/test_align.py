"""Similarity fitting and chip warping."""

from __future__ import annotations

import numpy as np
import pytest

from models.align import invert_affine, similarity_transform, warp_chip


def test_similarity_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    m = similarity_transform(src, dst)
    assert np.allclose(m[:, :2], rot) and np.allclose(m[:, 2], shift)
    back = invert_affine(m)
    assert np.allclose(dst @ back[:, :2].T + back[:, 2], src)


def test_similarity_never_reflects() -> None:
    src = np.array([[0, 0], [1, 0], [0, 1]], dtype=float)
    dst = src * [-1, 1]  # a mirror image: the best *similarity* must still be a rotation
    m = similarity_transform(src, dst)
    assert np.linalg.det(m[:, :2]) > 0


def test_similarity_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))


def test_warp_translation_is_exact() -> None:
    img = np.random.default_rng(0).integers(0, 255, (100, 120, 3), dtype=np.uint8)
    m = np.array([[1.0, 0, -10], [0, 1, -20]])  # chip = image shifted by (10, 20)
    assert np.array_equal(warp_chip(img, m, 50), img[20:70, 10:60])


@pytest.mark.parametrize("scale", [2.0, 0.5, 0.25, 0.125])
def test_warp_scale_keeps_geometry(scale: float) -> None:
    # A horizontal ramp: pixel value = x. The chip's column c must read x = c / scale.
    ramp = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (64, 1, 3))
    m = np.array([[scale, 0, 0], [0, scale, 0]])
    chip = warp_chip(ramp, m, 24)
    cols = np.arange(4, 24)
    expected = np.clip(cols / scale, 0, 255)
    inside = expected < 250
    assert np.abs(chip[5, cols, 0][inside] - expected[inside]).max() <= 1.5


def test_outside_the_image_is_black() -> None:
    img = np.full((20, 20, 3), 200, np.uint8)
    chip = warp_chip(img, np.array([[1.0, 0, 30], [0, 1, 30]]), 10)  # chip far off the image
    assert chip.shape == (10, 10, 3) and chip.max() == 0


def test_alignment_undoes_rotation_and_scale(lfw, detector, embedder) -> None:
    """The same face, rotated 20 degrees and enlarged, gives nearly the same chip."""
    from conftest import lfw_image
    from PIL import Image

    img = lfw_image(lfw, "Colin_Powell", 1)
    turned = Image.fromarray(img).resize((400, 400), Image.Resampling.BICUBIC)
    turned = np.asarray(turned.rotate(20, resample=Image.Resampling.BICUBIC, expand=True))
    chips = [embedder.chips(im, detector.detect(im)[:1])[0] for im in (img, turned)]
    diff = np.abs(chips[0].astype(float) - chips[1].astype(float))[20:130, 20:130]
    assert diff.mean() < 20  # grey levels; an unaligned pair differs by far more
    e = embedder.embed_chips(np.stack(chips))
    assert np.linalg.norm(e[0] - e[1]) < 0.2
