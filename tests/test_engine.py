"""The inference engine: networks compiled by OpenVINO give the torch ports' answers, the
converted models are cached, checked and rebuilt, and torch takes over when OpenVINO cannot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models import engine
from tests.conftest import ROOT, lfw_image

if not engine.openvino_available():  # imported through the engine: never with its telemetry
    pytest.skip("OpenVINO is not installed", allow_module_level=True)


class Small(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.act = torch.nn.PReLU(4)
        self.head = torch.nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.act(self.conv(x))
        return self.head(y), torch.softmax(y, dim=1)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_ENGINE_CACHE", str(tmp_path))
    return tmp_path


def _net(seed: int = 0) -> Small:
    torch.manual_seed(seed)
    return Small().eval()


def test_engine_choice(monkeypatch):
    monkeypatch.delenv("ALBUM_ENGINE", raising=False)
    assert engine.engine_choice() == "openvino"
    assert engine.engine_choice("torch") == "torch"
    monkeypatch.setenv("ALBUM_ENGINE", "torch")
    assert engine.engine_choice() == "torch"
    assert engine.engine_choice("openvino") == "openvino"
    with pytest.raises(ValueError, match="engine must be one of"):
        engine.engine_choice("tensorrt")


def test_compiled_network_answers_as_torch_for_any_input_size(cache):
    net = _net()
    compiled = engine.compile_network(net, "small", (-1, 3, -1, -1), bf16=False, threads=1)
    assert compiled is not None
    for shape in ((1, 3, 9, 9), (5, 3, 31, 17)):
        x = torch.randn(shape)
        with torch.no_grad():
            want = net(x)
        got = compiled(x)
        assert len(got) == 2
        for a, b in zip(want, got, strict=True):
            assert b.shape == a.shape
            assert torch.allclose(a, b, atol=1e-5)
    assert engine.compile_network(net, "small", (-1, 3, -1, -1), False, engine="torch") is None


def test_conversion_is_cached_checked_and_rebuilt(cache, monkeypatch):
    import openvino as ov

    net = _net()
    engine.compile_network(net, "small", (-1, 3, 8, 8), bf16=False, threads=1)
    files = sorted(p.name for p in cache.iterdir() if p.is_file())
    assert [f.split(".", 1)[1] for f in files] == ["bin", "json", "xml"]
    calls = []
    real = ov.convert_model
    monkeypatch.setattr(ov, "convert_model", lambda *a, **k: calls.append(1) or real(*a, **k))

    engine.compile_network(net, "small", (-1, 3, 8, 8), bf16=False, threads=1)
    assert calls == []  # reused

    weights = next(cache.glob("*.bin"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"damaged!")
    x = torch.randn(2, 3, 8, 8)
    compiled = engine.compile_network(net, "small", (-1, 3, 8, 8), bf16=False, threads=1)
    assert calls == [1]  # the checksum caught the damage: converted again
    with torch.no_grad():
        assert torch.allclose(compiled(x)[0], net(x)[0], atol=1e-5)

    blobs = sorted((cache / "compiled").glob("*.blob"))
    assert blobs  # OpenVINO's compiled copy, kept for the next start
    other = _net(seed=1)  # new weights: a new conversion, the old one removed
    compiled = engine.compile_network(other, "small", (-1, 3, 8, 8), bf16=False, threads=1)
    assert calls == [1, 1]
    assert len(list(cache.glob("small-*.xml"))) == 1
    assert not set(blobs) & set((cache / "compiled").glob("*.blob"))  # the old one's too
    with torch.no_grad():
        assert torch.allclose(compiled(x)[0], other(x)[0], atol=1e-5)


def test_a_conversion_is_found_by_its_source_files_without_building(cache, tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"first weights")
    builds: list[int] = []

    def build(seed: int = 0) -> Small:
        builds.append(seed)
        return _net(seed)

    def sources() -> list:
        return [weights]

    x = torch.randn(2, 3, 8, 8)
    compiled = engine.compile_network(build, "small", (-1, 3, 8, 8), False, 1, sources=sources)
    assert builds == [0]  # nothing cached yet: built and converted
    compiled = engine.compile_network(build, "small", (-1, 3, 8, 8), False, 1, sources=sources)
    assert builds == [0]  # found by its files
    with torch.no_grad():
        assert torch.allclose(compiled(x)[0], _net(0)(x)[0], atol=1e-5)

    weights.write_bytes(b"other, newer weights")  # the files changed: built again
    compiled = engine.compile_network(
        lambda: build(1), "small", (-1, 3, 8, 8), False, 1, sources=sources
    )
    assert builds == [0, 1]
    with torch.no_grad():
        assert torch.allclose(compiled(x)[0], _net(1)(x)[0], atol=1e-5)


def test_a_failed_build_is_the_callers_error_not_the_engines(cache, caplog):
    from models.errors import WeightsMissingError

    def build() -> Small:
        raise WeightsMissingError("the weights are not installed")

    with pytest.raises(WeightsMissingError, match="not installed"):
        engine.compile_network(build, "small", (-1, 3, 8, 8), False, 1, sources=lambda: [])
    assert "running it with torch" not in caplog.text


def test_threads_run_one_network_at_once_with_the_answers_of_one_thread(cache):
    """Each thread has its own infer request; the first calls, which set up the bindings'
    numpy access, go one at a time (two at once deadlocked)."""
    from concurrent.futures import ThreadPoolExecutor

    net = _net()
    compiled = engine.compile_network(net, "small", (-1, 3, -1, -1), bf16=False, threads=1)
    inputs = [torch.randn(1, 3, 9 + i % 5, 12) for i in range(24)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda x: compiled(x)[0], inputs))
    for x, y in zip(inputs, got, strict=True):
        with torch.no_grad():
            assert torch.allclose(y, net(x)[0], atol=1e-5)


def test_torch_takes_over_when_openvino_fails(cache, monkeypatch, caplog):
    import openvino as ov

    def broken(*args, **kwargs):
        raise RuntimeError("no kernels for this CPU")

    monkeypatch.setattr(ov.Core, "compile_model", broken)
    assert engine.compile_network(_net(), "small", (-1, 3, 8, 8), bf16=False) is None
    assert "running it with torch" in caplog.text

    from models.embedder import Embedder

    emb = Embedder("dlib-resnet-v1", engine="openvino")
    assert emb.engine == "torch"
    assert emb.embed_chips(np.zeros((1, 150, 150, 3), np.uint8)).shape == (1, 128)


def test_detector_and_embedders_agree_with_the_torch_ports(lfw):
    """Same faces (fp32: to a hundredth of a pixel), and embeddings at cosine >= 0.999 in the
    precision the engine picks for this CPU (bf16 where native)."""
    from models.detector import FaceDetector
    from models.embedder import Embedder

    images = [lfw_image(lfw, n) for n in ("Aaron_Eckhart", "Angelina_Jolie", "Colin_Powell")]
    group = np.concatenate(images, axis=1)
    found = {}
    for name in ("torch", "openvino"):
        det = FaceDetector(min_face_size=20, engine=name, precision="fp32")
        assert det.engine == name
        found[name] = det.detect(group)
    assert len(found["torch"]) == len(found["openvino"]) >= 3
    for a, b in zip(found["torch"], found["openvino"], strict=True):
        assert np.abs(a.box - b.box).max() < 0.01
        assert np.abs(a.landmarks - b.landmarks).max() < 0.01

    for model in ("dlib-resnet-v1", "sface"):
        ref = Embedder(model, engine="torch", precision="fp32")
        fast = Embedder(model, engine="openvino")
        assert fast.engine == "openvino"
        chips = ref.chips(group, found["torch"])
        cosine = (ref.embed_chips(chips) * fast.embed_chips(chips)).sum(axis=1)
        assert cosine.min() >= 0.999, (model, cosine)


def test_openvino_is_imported_without_its_usage_telemetry(tmp_path) -> None:
    """Importing openvino reports its use to its makers and writes an id under ~/intel
    unless that package is kept out: a fresh process through the engine writes nothing."""
    import subprocess
    import sys

    code = (
        "from models.engine import openvino_available, compile_network; import sys, torch; "
        "assert openvino_available(); "
        "net = torch.nn.Conv2d(3, 2, 3).eval(); "
        "assert compile_network(net, 'tiny', (-1, 3, 8, 8), False, 1) is not None; "
        "assert sys.modules['openvino_telemetry'] is None"
    )
    env = {**__import__("os").environ, "HOME": str(tmp_path), "ALBUM_ENGINE_CACHE": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    assert not (tmp_path / "intel").exists()
