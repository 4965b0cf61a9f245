"""Embeddings: unit length, identity-preserving, batch-independent."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import lfw_image

from models.embedder import Embedder, distance, pad_batch
from models.registry import WeightsMissingError, get_spec, list_specs


def _embed_one(detector, embedder, img) -> np.ndarray:
    faces = detector.detect(img)
    assert faces
    return embedder.embed(img, faces[:1])[0]


def test_same_person_is_closer_than_different_people(lfw, detector, embedder) -> None:
    a1 = _embed_one(detector, embedder, lfw_image(lfw, "Colin_Powell", 1))
    a2 = _embed_one(detector, embedder, lfw_image(lfw, "Colin_Powell", 2))
    b = _embed_one(detector, embedder, lfw_image(lfw, "Serena_Williams", 1))
    c = _embed_one(detector, embedder, lfw_image(lfw, "Yao_Ming", 1))
    threshold = embedder.spec.threshold
    assert distance(a1, a2) < threshold
    assert distance(a1, b) > threshold and distance(a1, c) > threshold
    assert np.allclose(np.linalg.norm(np.stack([a1, a2, b, c]), axis=1), 1.0, atol=1e-5)


def test_batch_size_does_not_change_embeddings(lfw, detector, embedder) -> None:
    chips = []
    for name in ("Colin_Powell", "Serena_Williams", "Yao_Ming", "Hans_Blix"):
        img = lfw_image(lfw, name)
        chips.append(embedder.chips(img, detector.detect(img)[:1])[0])
    chips = np.stack(chips)
    together = embedder.embed_chips(chips)
    alone = np.stack([embedder.embed_chips(c[None])[0] for c in chips])
    assert np.abs(together - alone).max() < 1e-4
    assert embedder.embed_chips(chips[:0]).shape == (0, embedder.spec.embedding_size)
    # On a GPU each batch is padded with blank chips to one size: the real rows are unchanged.
    padded = pad_batch(chips, 8)
    assert padded.shape == (8, *chips.shape[1:]) and not padded[4:].any()
    assert pad_batch(chips, 3) is chips
    assert np.abs(embedder.embed_chips(padded)[:4] - together).max() < 1e-4


def test_flip_changes_the_embedding_only_slightly(lfw, detector) -> None:
    img = lfw_image(lfw, "Colin_Powell")
    faces = detector.detect(img)[:1]
    plain = Embedder(flip=False)
    flipped = Embedder(flip=True)
    a, b = plain.embed(img, faces)[0], flipped.embed(img, faces)[0]
    assert 0.0 < distance(a, b) < 0.2


def test_registry_lists_models_and_reports_missing_weights() -> None:
    names = [s.name for s in list_specs()]
    assert names[0] == "dlib-resnet-v1"
    assert {"facenet-vggface2", "facenet-casia"} <= set(names)
    with pytest.raises(WeightsMissingError) as info:
        Embedder("facenet-vggface2")
    message = str(info.value)
    assert "album models fetch facenet-vggface2" in message and "album models import" in message
    with pytest.raises(KeyError, match="known models"):
        get_spec("no-such-model")


def test_probability_is_calibrated_around_the_threshold() -> None:
    spec = get_spec("dlib-resnet-v1")
    assert spec.probability_same(0.1) > 0.95
    assert spec.probability_same(0.9) < 0.05
    assert 0.2 < spec.probability_same(spec.threshold) < 0.8


def test_bfloat16_embeddings_match_float32(lfw, detector) -> None:
    import torch

    from models.device import use_bf16

    cpu = torch.device("cpu")
    assert use_bf16(cpu, "fp32") is False and use_bf16(cpu, "bf16") is True
    assert use_bf16(torch.device("cuda"), "auto") is False
    with pytest.raises(ValueError, match="precision"):
        use_bf16(cpu, "fp8")
    img = lfw_image(lfw, "Colin_Powell")
    faces = detector.detect(img)[:1]
    full, half = Embedder(precision="fp32"), Embedder(precision="bf16")
    a, b = full.embed(img, faces)[0], half.embed(img, faces)[0]
    assert 0.0 < distance(a, b) < 0.02  # far below the 0.416 same-person threshold
