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
from collections.abc import Sequence
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


class OpenVinoNet:
    """A network compiled by OpenVINO, called like its torch module: a float tensor in, a
    tensor (one output) or a tuple of tensors out. Calls from several threads take turns (one
    infer request per network)."""

    def __init__(self, compiled, precision: str, threads: int) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()
        self._outputs = list(compiled.outputs)
        self.precision = precision
        self.threads = threads

    def __call__(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if isinstance(x, torch.Tensor):
            x = x.detach().contiguous().numpy()
        arr = np.ascontiguousarray(x)
        with self._lock:
            result = self._request.infer({0: arr})
            # Outputs live in the request's buffers: copy before the next call reuses them.
            out = tuple(torch.from_numpy(np.array(result[o])) for o in self._outputs)
        return out[0] if len(out) == 1 else out


def compile_network(
    net: torch.nn.Module,
    name: str,
    input_shape: Sequence[int],
    bf16: bool,
    threads: int | None = None,
    engine: str | None = None,
    uint8_images: tuple[float, float] | None = None,
) -> OpenVinoNet | None:
    """``net`` compiled for inference with the chosen engine, or None where that is torch
    (chosen, or OpenVINO missing or failing: the caller keeps its torch module).

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
        model = str(_converted(net, name, input_shape))
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


def _sha256(path: Path) -> str:
    with open(path, "rb") as fp:
        return hashlib.file_digest(fp, "sha256").hexdigest()


def _converted(net: torch.nn.Module, name: str, input_shape: Sequence[int]) -> Path:
    """The cached OpenVINO model of ``net`` (its .xml; the weights sit beside it in .bin),
    converted and written first when missing, stale or damaged."""
    ov = _openvino()

    key = network_key(net, input_shape)
    folder = engine_cache_dir()
    stem = f"{name}-{key[:16]}"
    xml, weights, meta_path = (folder / f"{stem}{ext}" for ext in (".xml", ".bin", ".json"))
    try:
        meta = json.loads(meta_path.read_text())
        if meta["key"] == key and all(meta[p.suffix] == _sha256(p) for p in (xml, weights)):
            return xml
    except (OSError, ValueError, KeyError):
        pass
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
    meta_tmp = meta_path.with_suffix(f".{os.getpid()}.tmp")
    meta_tmp.write_text(json.dumps(meta))
    os.replace(meta_tmp, meta_path)
    _drop_stale(folder, name, stem)
    return xml


def _drop_stale(folder: Path, name: str, keep: str) -> None:
    """Remove earlier conversions of ``name`` (other weights, code or OpenVINO versions)."""
    stale = re.compile(re.escape(name) + r"-[0-9a-f]{16}")
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        if stem != keep and stale.fullmatch(stem) and path.suffix in (".xml", ".bin", ".json"):
            path.unlink(missing_ok=True)
