"""Running a network for inference: through OpenVINO where it is installed, else through torch.

The project's networks are torch ports (``dlib_resnet``, ``sface``, MTCNN); torch stays their
home for training and the fallback for everything. For inference on a CPU, OpenVINO fuses each
convolution with its activation and pooling and picks kernels for the CPU it runs on, which
torch's eager mode cannot. Per chip at batch 8 on one core of a 2-core AVX512-BF16 EPYC:
dlib-resnet-v1 2.6 ms against torch's 3.4 ms in bfloat16 (4.8 against 5.7 in float32), SFace
7.5 against 8.2 (13.2 against 20.4); ONNX Runtime 1.32 on the same ports exported to ONNX was
no faster than torch in float32 (5.1 and 19.0 ms), so it is not used. MTCNN, which stays in
float32 (see ``models.detector``), gains a few percent (``album bench engine``).

A network is converted once, from the torch module itself (no ONNX export), and cached
(``models.paths.engine_cache_dir``) under a key made of its weights, its code and the
OpenVINO version: changed weights or code make a new one, and a damaged file is caught by its
checksum and rebuilt. ``$ALBUM_ENGINE`` (``auto``, ``openvino``, ``torch``) overrides the
choice; ``auto`` takes OpenVINO when it imports.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from models.paths import engine_cache_dir

log = logging.getLogger(__name__)

ENGINES = ("auto", "openvino", "torch")
_CACHE_VERSION = 1


def engine_choice(engine: str | None = None) -> str:
    """``engine`` if given, else ``$ALBUM_ENGINE``, else ``auto``; ``auto`` resolves to
    ``openvino`` when it imports, else ``torch``."""
    choice = (engine or os.environ.get("ALBUM_ENGINE") or "auto").lower()
    if choice not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {choice!r}")
    if choice == "auto":
        return "openvino" if openvino_available() else "torch"
    return choice


def openvino_available() -> bool:
    try:
        _openvino()
    except Exception:  # a broken install counts as absent: torch still works
        return False
    return True


def _openvino():
    """The ``openvino`` module, imported without its usage telemetry.

    Importing openvino sends a usage event to its makers (and writes an id under ~/intel)
    unless the user opted out; a photo app must not report its use. openvino falls back to
    a silent stand-in when ``openvino_telemetry`` cannot be imported, so it is made
    unimportable in this process first.
    """
    sys.modules.setdefault("openvino_telemetry", None)
    import openvino

    return openvino


_first_call = threading.Lock()
_numpy_ready = threading.Event()


class OpenVinoNet:
    """A network compiled by OpenVINO, called like its torch module: a float tensor in, a
    tensor (one output) or a tuple of tensors out. Each calling thread has its own infer
    request, so threads run the network at the same time (the scan detects two photos at
    once on a CPU)."""

    def __init__(self, compiled, precision: str, threads: int) -> None:
        self._compiled = compiled
        self._local = threading.local()
        self._outputs = list(compiled.outputs)
        self.precision = precision
        self.threads = threads

    def _request(self):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        return request

    def __call__(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if isinstance(x, torch.Tensor):
            x = x.detach().contiguous().numpy()
        x = np.ascontiguousarray(x)
        if not _numpy_ready.is_set():
            # The bindings set up their numpy access on first use, and two threads doing so
            # at once deadlock (pybind11's call-once against the GIL): the first call goes
            # alone.
            with _first_call:
                result = self._request().infer({0: x})
                _numpy_ready.set()
        else:
            result = self._request().infer({0: x})
        # Outputs live in the request's buffers: copy before the next call reuses them.
        out = tuple(torch.from_numpy(np.array(result[o])) for o in self._outputs)
        return out[0] if len(out) == 1 else out


def compile_network(
    net: torch.nn.Module | Callable[[], torch.nn.Module],
    name: str,
    input_shape: Sequence[int],
    bf16: bool,
    threads: int | None = None,
    engine: str | None = None,
    uint8_images: tuple[float, float] | None = None,
    sources: Callable[[], Sequence[Path]] | None = None,
) -> OpenVinoNet | None:
    """``net`` compiled for inference with the chosen engine, or None where that is torch
    (chosen, or OpenVINO missing or failing: the caller keeps its torch module).

    ``net``: the module, or a function that builds it. ``sources``: the files that define the
    network (weights and code); where given, a conversion cached from the same files is used
    without building the module (building and hashing the fused model's two networks took a
    quarter of a second of every start).

    ``input_shape``: the input's (N, C, H, W), -1 for a size that varies (batch, or height and
    width for a fully convolutional network). ``bf16``: compute in bfloat16 (the caller's
    choice, ``models.embedder.use_bf16``); ``threads``: CPU threads (default torch's count).
    ``uint8_images`` (mean, scale): the compiled network takes uint8 images (N, 3, H, W) and
    computes (pixel - mean) / scale itself, fused with its first layer.
    """
    if engine_choice(engine) != "openvino":
        return None
    threads = threads or torch.get_num_threads()
    try:
        ov = _openvino()
        precision = "bf16" if bf16 else "f32"
        core = ov.Core()
        # From the file where possible, not a model object: OpenVINO maps the weights and keeps
        # only its compiled copy.
        model = str(_cached_or_converted(net, name, input_shape, sources))
        if uint8_images is not None:
            model = _taking_uint8(core.read_model(model), *uint8_images)
        compiled = core.compile_model(
            model,
            "CPU",
            {
                "INFERENCE_NUM_THREADS": threads,
                "INFERENCE_PRECISION_HINT": precision,
                "PERFORMANCE_HINT": "LATENCY",
                # Pinned threads would fight the scan's other stages for one core.
                "ENABLE_CPU_PINNING": False,
                # Kernels kept per input shape (P-Net sees a dozen per photo size); the
                # default keeps thousands.
                "CPU_RUNTIME_CACHE_CAPACITY": 256,
                # Compiled networks kept on disk: a second start compiles 3x faster.
                "CACHE_DIR": str(engine_cache_dir() / "compiled"),
            },
        )
        _give_back_freed_memory()  # the torch module's copies and the hashing's buffers
        return OpenVinoNet(compiled, precision, threads)
    except _BuildError as exc:
        raise exc.__cause__ from None
    except Exception:
        log.warning("OpenVINO could not compile %s; running it with torch", name, exc_info=True)
        return None


def _give_back_freed_memory() -> None:
    """Return freed heap memory to the system (glibc keeps it otherwise: 50 MB after loading
    the fused model here). Elsewhere a no-op."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _taking_uint8(model, mean: float, scale: float):
    """``model`` with uint8 images as input, converted and normalized inside it."""
    ov = _openvino()
    from openvino.preprocess import PrePostProcessor

    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8)
    ppp.input().preprocess().convert_element_type(ov.Type.f32).mean(mean).scale(scale)
    return ppp.build()


def network_key(net: torch.nn.Module, input_shape: Sequence[int]) -> str:
    """What the converted model depends on: the weights, the module's code, the input shape,
    and the OpenVINO and cache versions."""
    ov = _openvino()

    h = hashlib.sha256()
    h.update(json.dumps([_CACHE_VERSION, ov.__version__, list(input_shape)]).encode())
    h.update(type(net).__qualname__.encode())
    # The code: every source file defining one of its layers (torch's own: its version).
    files = {sys.modules[type(m).__module__].__file__ for m in net.modules()}
    for path in sorted(f for f in files if f):
        if "torch" in Path(path).parts:
            h.update(torch.__version__.encode())
        else:
            h.update(Path(path).read_bytes())
    for key, tensor in sorted(net.state_dict().items()):
        h.update(key.encode())
        h.update(tensor.detach().to(torch.float32).contiguous().cpu().numpy().data)
    return h.hexdigest()


def source_key(name: str, sources: Sequence[Path], input_shape: Sequence[int]) -> str:
    """What a conversion depends on, read from the stat of the files that define the network
    (as Python's own bytecode cache does: a reinstalled or edited file has a new mtime). The
    converted files themselves are still checked by their SHA-256."""
    ov = _openvino()
    stats = []
    for path in sources:
        st = Path(path).stat()
        stats.append([str(Path(path).resolve()), st.st_size, st.st_mtime_ns])
    key = [_CACHE_VERSION, ov.__version__, name, list(input_shape), stats]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _cached_or_converted(
    net: torch.nn.Module | Callable[[], torch.nn.Module],
    name: str,
    input_shape: Sequence[int],
    sources: Callable[[], Sequence[Path]] | None,
) -> Path:
    """The cached model converted from ``sources``' files, else ``net`` converted now."""
    key = None
    if sources is not None:
        try:
            key = source_key(name, sources(), input_shape)
        except Exception:  # a missing file: building the module says what is wrong
            key = None
    if key is not None:
        for meta_path in sorted(engine_cache_dir().glob(f"{name}-*.json")):
            xml = _verified(meta_path, source=key)
            if xml is not None:
                return xml
    try:
        module = net if isinstance(net, torch.nn.Module) else net()
    except Exception as exc:
        raise _BuildError from exc
    return _converted(module, name, input_shape, source=key)


class _BuildError(Exception):
    """Building the torch module failed: the caller's error (missing weights), not the
    engine's."""


def _verified(meta_path: Path, **expected: str) -> Path | None:
    """The model ``meta_path`` describes, if its metadata holds ``expected`` and its files
    their checksums."""
    try:
        meta = json.loads(meta_path.read_text())
        xml, weights = meta_path.with_suffix(".xml"), meta_path.with_suffix(".bin")
        if all(meta.get(k) == v for k, v in expected.items()) and all(
            meta[p.suffix] == _sha256(p) for p in (xml, weights)
        ):
            return xml
    except (OSError, ValueError, KeyError):
        pass
    return None


def _sha256(path: Path) -> str:
    with open(path, "rb") as fp:
        return hashlib.file_digest(fp, "sha256").hexdigest()


def _converted(
    net: torch.nn.Module, name: str, input_shape: Sequence[int], source: str | None = None
) -> Path:
    """The cached OpenVINO model of ``net`` (its .xml; the weights sit beside it in .bin),
    converted and written first when missing, stale or damaged. ``source``: the key of the
    files it was built from (``source_key``), recorded for the next start."""
    ov = _openvino()

    key = network_key(net, input_shape)
    folder = engine_cache_dir()
    stem = f"{name}-{key[:16]}"
    xml, weights, meta_path = (folder / f"{stem}{ext}" for ext in (".xml", ".bin", ".json"))
    if _verified(meta_path, key=key) is not None:
        if source is not None:  # the same network, now known by its files too
            meta = json.loads(meta_path.read_text()) | {"source": source}
            _write_meta(meta_path, meta)
        return xml
    log.info("converting %s for OpenVINO (once)", name)
    folder.mkdir(parents=True, exist_ok=True)
    example = torch.zeros([1 if d < 0 else d for d in input_shape])
    if len(input_shape) == 4 and input_shape[2] < 0:
        example = torch.zeros(1, input_shape[1], 64, 64)
    was_training = net.training
    net.eval()
    # Tracing warns about shapes read as constants: the chips' sizes are fixed, and a size
    # that varies is declared in ``input_shape``.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ov.convert_model(
            net, example_input=example, input=[ov.PartialShape(list(input_shape))]
        )
    net.train(was_training)
    # Written under a temporary name and renamed, the metadata last: a crash leaves files the
    # checksums refuse, never a half-written model that is trusted.
    tmp = folder / f"{stem}.{os.getpid()}.tmp.xml"
    ov.save_model(model, str(tmp), compress_to_fp16=False)
    os.replace(tmp.with_suffix(".bin"), weights)
    os.replace(tmp, xml)
    meta = {"name": name, "key": key, ".xml": _sha256(xml), ".bin": _sha256(weights)}
    _write_meta(meta_path, meta | ({"source": source} if source else {}))
    _drop_stale(folder, name, stem)
    return xml


def _write_meta(path: Path, meta: dict) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, path)


def _drop_stale(folder: Path, name: str, keep: str) -> None:
    """Remove earlier conversions of ``name`` (other weights, code or OpenVINO versions) and
    every compiled blob: OpenVINO names them by a hash that says nothing of their network,
    so the old network's would stay forever (40 MB for SFace); the others are compiled again
    once, in about a second."""
    stale = re.compile(re.escape(name) + r"-[0-9a-f]{16}")
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        if stem != keep and stale.fullmatch(stem) and path.suffix in (".xml", ".bin", ".json"):
            path.unlink(missing_ok=True)
    for blob in (folder / "compiled").glob("*.blob"):
        with contextlib.suppress(OSError):  # another process may be reading it
            blob.unlink()
