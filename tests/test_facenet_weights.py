"""FaceNet weights: resumable download, safe loading, verification, import and the CLI.

Offline: files are served by a threaded HTTP server on 127.0.0.1. The real table's classifier
sizes (8631 / 10575 classes) are replaced by small ones so that the test network is an
InceptionResnetV1 with the real layout except for a tiny ``logits`` layer (~94 MB, written
once per session).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import random
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import album.cli
from models import facenet, registry
from models import weights as wt
from models.registry import WeightsMissingError
from models.weights import WeightsError

VGG = "facenet-vggface2"
CASIA = "facenet-casia"
VGG_CLASSES = 3
CASIA_CLASSES = 4


# --- loopback HTTP server --------------------------------------------------------------------


class _Server:
    """Serves ``files`` (path -> bytes); honours ``Range: bytes=N-`` unless ``ignore_range``;
    ``cut[path] = K`` makes the next response for ``path`` stop after K body bytes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.ignore_range = False
        self.requests: list[tuple[str, dict[str, str]]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append((self.path, dict(self.headers.items())))
                if self.path in owner.redirects:  # as release downloads do
                    self.send_response(302)
                    self.send_header("Location", owner.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                status, start = 200, 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if match and not owner.ignore_range:
                    start = int(match.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                chunk = body[start:]
                self.send_response(status)
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cut = owner.cut.pop(self.path, None)
                if cut is not None:
                    self.wfile.write(chunk[:cut])
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def net_state() -> dict[str, torch.Tensor]:
    from facenet_pytorch.models.inception_resnet_v1 import InceptionResnetV1

    torch.manual_seed(0)
    net = InceptionResnetV1(pretrained=None, classify=True, num_classes=VGG_CLASSES)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory: pytest.TempPathFactory, net_state) -> Iterator[Path]:
    """A state dict shaped like the published vggface2 file, but with VGG_CLASSES classes."""
    path = tmp_path_factory.mktemp("published") / "20180402-114759-vggface2.pt"
    torch.save(net_state, path)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def weights_bytes(weights_file: Path) -> bytes:
    return weights_file.read_bytes()


@pytest.fixture
def models_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "models"
    monkeypatch.setenv("ALBUM_MODELS_DIR", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)  # ~100 MB per test: do not keep it in basetemp


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, server: _Server) -> _Server:
    """Point both table entries at the loopback server, with small class counts."""
    monkeypatch.setitem(
        facenet.SOURCES, VGG, facenet.FacenetSource(server.url("/vgg.pt"), "vgg.pt", VGG_CLASSES)
    )
    monkeypatch.setitem(
        facenet.SOURCES,
        CASIA,
        facenet.FacenetSource(server.url("/casia.pt"), "casia.pt", CASIA_CLASSES),
    )
    return server


@pytest.fixture(autouse=True)
def no_facenet_pytorch_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """facenet-pytorch's own downloader must never run."""
    from facenet_pytorch.models import inception_resnet_v1

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("facenet-pytorch tried to download weights")

    monkeypatch.setattr(inception_resnet_v1, "load_weights", refuse)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload(n: int = 3 * 1024 * 1024 + 123) -> bytes:
    return random.Random(n).randbytes(n)


# --- weights.download ------------------------------------------------------------------------


def test_download_complete_with_checks_and_progress(tmp_path: Path, server: _Server) -> None:
    data = _payload()
    server.files["/f.bin"] = data
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "f.bin"
    out = wt.download(
        server.url("/f.bin"),
        dest,
        sha256=_sha(data).upper(),
        expected_size=len(data),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert out == dest and dest.read_bytes() == data
    assert not wt.part_path(dest).exists()
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert wt.sha256_file(dest) == _sha(data)
    assert server.requests[0][1].get("Accept-Encoding") == "identity"


def test_download_resumes_after_connection_cut(tmp_path: Path, server: _Server) -> None:
    data = _payload()
    server.files["/f.bin"] = data
    server.cut["/f.bin"] = len(data) // 2 + 7
    dest = tmp_path / "f.bin"
    with pytest.raises(WeightsError, match="run the command again to resume") as info:
        wt.download(server.url("/f.bin"), dest, sha256=_sha(data), timeout=5)
    part = wt.part_path(dest)
    assert str(part) in str(info.value) and "kept" in str(info.value)
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    assert part.read_bytes() == data[:kept]
    assert not dest.exists()

    wt.download(server.url("/f.bin"), dest, sha256=_sha(data), timeout=5)
    assert len(server.requests) == 2
    assert "Range" not in server.requests[0][1]
    assert server.requests[1][1]["Range"] == f"bytes={kept}-"
    assert dest.read_bytes() == data
    assert not part.exists()


def test_download_resumes_through_a_redirect(tmp_path: Path, server: _Server) -> None:
    data = _payload()
    server.files["/f.bin"] = data
    server.redirects["/latest"] = "/f.bin"
    server.cut["/f.bin"] = 1_000_001
    dest = tmp_path / "f.bin"
    with pytest.raises(WeightsError, match="resume"):
        wt.download(server.url("/latest"), dest, timeout=5)
    kept = wt.part_path(dest).stat().st_size
    wt.download(server.url("/latest"), dest, expected_size=len(data), timeout=5)
    assert [r[0] for r in server.requests] == ["/latest", "/f.bin", "/latest", "/f.bin"]
    assert server.requests[3][1]["Range"] == f"bytes={kept}-"
    assert dest.read_bytes() == data


def test_download_restarts_when_server_ignores_range(tmp_path: Path, server: _Server) -> None:
    data = _payload()
    server.files["/f.bin"] = data
    server.ignore_range = True
    dest = tmp_path / "f.bin"
    wt.part_path(dest).write_bytes(b"stale bytes that are not a prefix of the file")
    wt.download(server.url("/f.bin"), dest, sha256=_sha(data))
    assert server.requests[0][1]["Range"].startswith("bytes=")
    assert len(server.requests) == 1  # the 200 body is the whole file: no second request
    assert dest.read_bytes() == data


def test_download_handles_416(tmp_path: Path, server: _Server) -> None:
    data = _payload(50_000)
    server.files["/f.bin"] = data
    dest = tmp_path / "f.bin"
    # A complete .part: the server answers 416 for bytes=len- and the file is accepted.
    wt.part_path(dest).write_bytes(data)
    wt.download(server.url("/f.bin"), dest, sha256=_sha(data))
    assert dest.read_bytes() == data and len(server.requests) == 1
    # A .part longer than the file: 416, then a fresh download without Range.
    dest.unlink()
    wt.part_path(dest).write_bytes(data + b"extra")
    wt.download(server.url("/f.bin"), dest, sha256=_sha(data))
    assert dest.read_bytes() == data
    assert "Range" in server.requests[1][1] and "Range" not in server.requests[2][1]


def test_download_checksum_mismatch_deletes_partial(tmp_path: Path, server: _Server) -> None:
    data = _payload(100_000)
    server.files["/f.bin"] = data
    dest = tmp_path / "f.bin"
    wrong = "0" * 64
    with pytest.raises(WeightsError) as info:
        wt.download(server.url("/f.bin"), dest, sha256=wrong)
    message = str(info.value)
    assert wrong in message and _sha(data) in message and "deleted" in message
    assert not dest.exists() and not wt.part_path(dest).exists()


def test_download_size_mismatch_deletes_partial(tmp_path: Path, server: _Server) -> None:
    server.files["/f.bin"] = b"x" * 1000
    dest = tmp_path / "f.bin"
    with pytest.raises(WeightsError, match="expected 999 bytes, got 1000"):
        wt.download(server.url("/f.bin"), dest, expected_size=999)
    assert not wt.part_path(dest).exists() and not dest.exists()


def test_download_http_and_connection_errors(tmp_path: Path, server: _Server) -> None:
    with pytest.raises(WeightsError, match="HTTP 404"):
        wt.download(server.url("/missing"), tmp_path / "a.bin")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WeightsError, match="run the command again"):
        wt.download(f"http://127.0.0.1:{port}/x", tmp_path / "b.bin", timeout=5)


# --- weights.load_state_dict -----------------------------------------------------------------


def test_load_state_dict_formats(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = {"a": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}
    save_file(state, tmp_path / "w.safetensors")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "w.pth")
    torch.save(state, tmp_path / "w.unknown")  # recognised by content
    for name in ("w.safetensors", "w.pth", "w.unknown"):
        got = wt.load_state_dict(tmp_path / name)
        assert got.keys() == state.keys()
        assert all(torch.equal(got[k], state[k]) for k in state)
    torch.save({"a": torch.ones(1), "b": "text"}, tmp_path / "mixed.pt")
    with pytest.raises(WeightsError, match="not tensors"):
        wt.load_state_dict(tmp_path / "mixed.pt")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="safetensors"):
        wt.load_state_dict(tmp_path / "junk.safetensors")


# --- facenet: fetch, load --------------------------------------------------------------------


def test_fetch_then_load_gives_512d_embeddings(
    models_home: Path, table: _Server, weights_bytes: bytes, net_state
) -> None:
    table.files["/vgg.pt"] = weights_bytes
    assert not facenet.is_available(VGG)
    path = facenet.fetch(VGG)
    assert path == facenet.weights_path(VGG) == models_home / "facenet" / "vgg.pt"
    assert path.read_bytes() == weights_bytes
    assert facenet.is_available(VGG) and not facenet.is_available(CASIA)
    record = facenet.stored(VGG)
    assert record is not None and record.sha256 == _sha(weights_bytes)
    assert record.size == len(weights_bytes) and record.source == table.url("/vgg.pt")
    assert not (models_home / "facenet" / "downloads" / "vgg.pt").exists()

    net = facenet.load_facenet(VGG)
    assert not net.training and not net.classify
    tensors = [*net.parameters(), *net.buffers()]
    assert all(t.device.type == "cpu" and t.dtype in (torch.float32, torch.long) for t in tensors)
    assert all(p.requires_grad for p in net.parameters())
    assert torch.equal(net.last_linear.weight, net_state["last_linear.weight"])
    with torch.no_grad():
        out = net(torch.randn(2, 3, 160, 160))
    assert out.shape == (2, 512) and torch.isfinite(out).all()
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-4)
    # Through the registry entry too.
    assert registry.get_spec(VGG).build().state_dict().keys() == net.state_dict().keys()
    # A second fetch finds intact weights and downloads nothing.
    before = len(table.requests)
    assert facenet.fetch(VGG) == path and len(table.requests) == before


def test_fetch_of_a_wrong_file_deletes_it(models_home: Path, table: _Server) -> None:
    table.files["/vgg.pt"] = b"<html>not found</html>" * 100
    with pytest.raises(WeightsError, match=r"neither a PyTorch.*deleted"):
        facenet.fetch(VGG)
    assert not facenet.is_available(VGG)
    assert not facenet.weights_path(VGG).exists()
    leftovers = [p for p in (models_home / "facenet").rglob("*") if p.is_file()]
    assert leftovers == []


def test_corrupted_weights_are_detected_and_refetched(
    models_home: Path, table: _Server, weights_bytes: bytes
) -> None:
    table.files["/vgg.pt"] = weights_bytes
    path = facenet.fetch(VGG)
    with open(path, "r+b") as f:  # flip one byte; size unchanged
        f.seek(len(weights_bytes) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(facenet.CorruptWeightsError, match="corrupted") as info:
        facenet.load_facenet(VGG)
    assert isinstance(info.value, WeightsMissingError)
    assert f"album models fetch {VGG}" in str(info.value)
    facenet.fetch(VGG)  # not forced, but the corrupted copy is replaced
    assert path.read_bytes() == weights_bytes
    facenet.load_facenet(VGG)


def test_load_without_weights_names_both_commands(models_home: Path) -> None:
    for call in (lambda: facenet.load_facenet(VGG), registry.get_spec(VGG).build):
        with pytest.raises(WeightsMissingError) as info:
            call()
        message = str(info.value)
        assert f"album models fetch {VGG}" in message
        assert f"album models import {VGG} FILE" in message


# --- facenet: import -------------------------------------------------------------------------


def test_import_copies_and_leaves_source_untouched(
    models_home: Path, table: _Server, weights_file: Path, weights_bytes: bytes
) -> None:
    before = weights_file.stat()
    path = facenet.import_weights(VGG, weights_file)
    assert path == facenet.weights_path(VGG) and path.read_bytes() == weights_bytes
    after = weights_file.stat()
    assert weights_file.exists() and after.st_mtime_ns == before.st_mtime_ns
    assert after.st_ino == before.st_ino and wt.sha256_file(weights_file) == _sha(weights_bytes)
    record = facenet.stored(VGG)
    assert record is not None and record.source == f"import:{weights_file.resolve()}"
    facenet.load_facenet(VGG)
    assert table.requests == []  # nothing downloaded


def test_import_safetensors(models_home: Path, table: _Server, tmp_path: Path, net_state) -> None:
    from safetensors.torch import save_file

    src = tmp_path / "vgg.safetensors"
    # Also: a file without the BatchNorm step counters (older PyTorch) is accepted.
    save_file({k: v for k, v in net_state.items() if "num_batches" not in k}, src)
    facenet.import_weights(VGG, src)
    net = facenet.load_facenet(VGG)
    assert torch.equal(net.conv2d_1a.conv.weight, net_state["conv2d_1a.conv.weight"])
    src.unlink()


class _Evil:
    """Unpickling this creates the file ``path``: what a malicious .pt could do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_malicious_pickle_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    """Sanity check of the payload used below: unsafe unpickling does create the marker."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Evil(marker))).close()
    assert marker.exists()


def _bad_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    files = {}
    files["dlib"] = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    files["dlib"].write_bytes(b"\x00\x01dlib::net_type " + random.Random(1).randbytes(4000))
    files["garbage"] = tmp_path / "garbage.pt"
    files["garbage"].write_bytes(random.Random(2).randbytes(4000))
    files["partial"] = tmp_path / "partial.pt"
    torch.save({"conv2d_1a.conv.weight": torch.zeros(32, 3, 3, 3)}, files["partial"])
    files["wrong_shapes"] = tmp_path / "wrong_shapes.pt"
    torch.save({"conv2d_1a.conv.weight": torch.zeros(3, 3)}, files["wrong_shapes"])
    files["evil_zip"] = tmp_path / "evil.pt"
    torch.save({"conv2d_1a.conv.weight": _Evil(marker)}, files["evil_zip"])
    files["evil_pickle"] = tmp_path / "evil_legacy.pth"
    files["evil_pickle"].write_bytes(pickle.dumps({"state_dict": _Evil(marker)}, protocol=2))
    return files


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("dlib", "neither a PyTorch"),
        ("garbage", "not a readable PyTorch weights file"),
        ("partial", "expected tensors are missing"),
        ("wrong_shapes", r"has shape \(3, 3\), expected \(32, 3, 3, 3\)"),
        ("evil_zip", "never pickled code"),
        ("evil_pickle", "never pickled code"),
    ],
)
def test_import_refuses_wrong_files(
    models_home: Path, table: _Server, tmp_path: Path, kind: str, message: str
) -> None:
    marker = tmp_path / "marker"
    src = _bad_files(tmp_path, marker)[kind]
    content = src.read_bytes()
    with pytest.raises(WeightsError, match=message):
        facenet.import_weights(VGG, src)
    assert not marker.exists(), "unpickling ran code from the file"
    assert src.read_bytes() == content
    assert not facenet.is_available(VGG)
    assert not facenet.weights_path(VGG).exists()


def test_import_of_the_other_models_file_is_refused(
    models_home: Path, table: _Server, weights_file: Path
) -> None:
    with pytest.raises(WeightsError) as info:
        facenet.import_weights(CASIA, weights_file)
    message = str(info.value)
    shapes = f"has shape ({VGG_CLASSES}, 512), expected ({CASIA_CLASSES}, 512)"
    assert f"'logits.weight' {shapes}" in message
    assert f"looks like the weights of {VGG}" in message
    assert not facenet.is_available(CASIA)


# --- CLI -------------------------------------------------------------------------------------


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    def run(*argv: str) -> tuple[int, str, str]:
        rc = album.cli.main(["models", *argv])
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run


def _row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if re.search(rf"\s{re.escape(name)}\s", line))


def test_cli_list(models_home: Path, table: _Server, cli, weights_file: Path) -> None:
    rc, out, _ = cli("list")
    assert rc == 0
    assert "NAME" in out and "THRESHOLD" in out and "STATUS" in out
    assert _row(out, registry.DEFAULT_MODEL).startswith("*")
    vgg = _row(out, VGG)
    assert "not downloaded" in vgg and "512" in vgg and "download" in vgg and "1.1" in vgg
    assert f"album models fetch {VGG}" in out
    assert cli()[1] == out  # `album models` alone lists too

    rc, out, _ = cli("import", VGG, str(weights_file))
    assert rc == 0 and str(facenet.weights_path(VGG)) in out
    rc, out, _ = cli("list")
    assert "ready" in _row(out, VGG) and "not downloaded" in _row(out, CASIA)


def test_cli_fetch_resumes_after_interruption(
    models_home: Path, table: _Server, cli, weights_bytes: bytes
) -> None:
    table.files["/vgg.pt"] = weights_bytes
    table.cut["/vgg.pt"] = len(weights_bytes) // 3
    rc, _, err = cli("fetch", VGG)
    assert rc == 2 and "run the command again to resume" in err
    rc, out, err = cli("fetch", VGG)
    assert rc == 0, err
    assert table.requests[1][1]["Range"].startswith("bytes=")
    assert str(facenet.weights_path(VGG)) in out and _sha(weights_bytes) in out
    assert facenet.weights_path(VGG).read_bytes() == weights_bytes
    rc, out, _ = cli("fetch", VGG)
    assert rc == 0 and "already downloaded" in out and len(table.requests) == 2


def test_cli_errors(models_home: Path, table: _Server, cli, tmp_path: Path) -> None:
    rc, _, err = cli("fetch", registry.DEFAULT_MODEL)
    assert rc == 2 and "needs no download" in err
    rc, _, err = cli("fetch", "no-such-model")
    assert rc == 2 and "unknown model" in err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nope" * 10)
    rc, _, err = cli("import", VGG, str(bad))
    assert rc == 2 and err.startswith("album: ") and "left unchanged" in err
    rc, _, err = cli("import", VGG, str(tmp_path / "absent.pt"))
    assert rc == 2 and "is not a file" in err
