"""The torch port of dlib's ResNet agrees with dlib itself (dlib-bin, test extra only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from models.dlib_resnet import default_weights_path, load_dlib_resnet, preprocess

dlib = pytest.importorskip(
    "dlib", reason="dlib-bin (the test extra) is needed for reference descriptors"
)

PEOPLE = [
    "Aaron_Eckhart",
    "Colin_Powell",
    "Serena_Williams",
    "Yao_Ming",
    "Hans_Blix",
    "Angelina_Jolie",
]


@pytest.fixture(scope="module")
def dlib_chips(lfw):
    folder = default_weights_path().parent
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
    chips = []
    for name in PEOPLE:
        for path in sorted((lfw / name).glob("*.jpg"))[:3]:
            img = np.asarray(Image.open(path).convert("RGB"))
            for det in detector(img, 1):
                chips.append(dlib.get_face_chip(img, predictor(img, det), 150, 0.25))
    assert len(chips) >= 12
    return np.stack(chips)


def test_port_matches_dlib_descriptors(dlib_chips) -> None:
    folder = default_weights_path().parent
    ref_net = dlib.face_recognition_model_v1(
        str(folder / "dlib_face_recognition_resnet_model_v1.dat")
    )
    reference = np.stack([np.array(ref_net.compute_face_descriptor(c)) for c in dlib_chips])
    net = load_dlib_resnet()
    with torch.no_grad():
        ours = net(preprocess(dlib_chips)).numpy()
        single = net(preprocess(dlib_chips[:1])).numpy()
    assert np.abs(ours - reference).max() < 1e-4
    assert np.abs(single - reference[:1]).max() < 1e-4  # batch size does not matter
    # Distances agree too, and the mirrored chip is not the same input.
    d_ref = np.linalg.norm(reference[0] - reference[1:], axis=1)
    d_our = np.linalg.norm(ours[0] - ours[1:], axis=1)
    assert np.abs(d_ref - d_our).max() < 1e-4
