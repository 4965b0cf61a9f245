"""Getting weight files onto disk and reading them back safely.

Generic helpers, nothing model-specific: a resumable, verified HTTP download and a state-dict
reader that never runs pickled code.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import requests
import torch

CHUNK_SIZE = 1 << 20
# Network reads: small, because a read cut short by a dropped connection loses its bytes.
NET_CHUNK_SIZE = 1 << 16

# Formats understood by the state-dict readers.
Format = Literal["torch", "safetensors"]

_TORCH_SUFFIXES = frozenset({".pt", ".pth", ".bin", ".ckpt"})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


class WeightsError(RuntimeError):
    """A weight file could not be downloaded, read or verified; the message says why."""


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_SIZE):
            digest.update(block)
    return digest.hexdigest()


def part_path(dest: Path) -> Path:
    """Where :func:`download` keeps the unfinished file for ``dest``."""
    return dest.with_suffix(dest.suffix + ".part")


# --- download --------------------------------------------------------------------------------


class _Restart(Exception):
    """The server cannot continue the partial file: start again from byte 0."""


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 30,
) -> Path:
    """Download ``url`` to ``dest``, resuming an earlier partial download when there is one.

    Bytes go to ``dest`` + ``.part``; a later call continues it with an HTTP Range request
    (a server that ignores Range is handled by starting over). When complete, the size and
    SHA-256 are checked if given and the file is renamed atomically to ``dest``.
    ``progress(done, total)`` is called as bytes arrive (``total`` None when unknown).
    Raises WeightsError: after a network failure the partial file is kept for resuming; after a
    size or checksum mismatch it is deleted.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    if expected_size is not None and part.exists() and part.stat().st_size > expected_size:
        part.unlink()  # longer than the real file: cannot be a prefix of it
    try:
        _fetch_into(url, part, expected_size, progress, timeout, resume=True)
    except _Restart:
        part.unlink(missing_ok=True)
        try:
            _fetch_into(url, part, expected_size, progress, timeout, resume=False)
        except _Restart as exc:  # pragma: no cover - only with resume=True
            raise WeightsError(f"could not download {url}: {exc}") from None
    _verify_part(url, part, sha256, expected_size)
    os.replace(part, dest)
    return dest


def _fetch_into(
    url: str,
    part: Path,
    expected_size: int | None,
    progress: Callable[[int, int | None], None] | None,
    timeout: float,
    *,
    resume: bool,
) -> None:
    have = part.stat().st_size if resume and part.exists() else 0
    if expected_size is not None and have == expected_size:
        if progress:
            progress(have, expected_size)
        return  # already complete; verified by the caller
    # identity: byte offsets must be those of the file itself, not of a compressed stream.
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = requests.get(url, headers=headers, stream=True, timeout=(timeout, timeout))
    except requests.RequestException as exc:
        raise _network_error(url, part, exc) from exc
    with response:
        body = _body_plan(response, url, part, have)
        if body is None:
            if progress:
                progress(have, have)
            return  # the partial file already holds every byte
        have, total, mode = body
        if total is None:
            total = expected_size
        done = _write_body(response, url, part, mode, have, total, progress)
        if total is not None and done < total:
            raise _network_error(url, part, f"connection closed after {done} of {total} bytes")


def _body_plan(
    response: requests.Response, url: str, part: Path, have: int
) -> tuple[int, int | None, str] | None:
    """How the answer to a request for the bytes from ``have`` on fits the partial file:
    (bytes kept, total size if known, file mode "ab" to append or "wb" to start over), or
    None when the partial file is already complete. Raises _Restart when the server cannot
    continue it, WeightsError for any other failure."""
    if response.status_code == 416 and have:
        match = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == have:
            return None
        raise _Restart("the server cannot continue the partial file")
    if response.status_code == 206 and have:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != have:
            raise _Restart("the server sent a different range than asked for")
        return have, (None if match.group(3) == "*" else int(match.group(3))), "ab"
    if response.status_code == 200:
        # Fresh download, or a server that ignored Range: the body is the whole file.
        length = response.headers.get("Content-Length")
        return 0, (int(length) if length and length.isdigit() else None), "wb"
    message = f"could not download {url}: the server answered HTTP {response.status_code}"
    if response.reason:
        message += f" {response.reason}"
    if have:
        message += f"; the partial file {part} is kept: run the command again to resume"
    raise WeightsError(message)


def _write_body(
    response: requests.Response,
    url: str,
    part: Path,
    mode: str,
    done: int,
    total: int | None,
    progress: Callable[[int, int | None], None] | None,
) -> int:
    """Stream the response body into ``part`` (opened with ``mode``), reporting progress from
    ``done`` bytes on; returns the bytes the file then holds."""
    if progress:
        progress(done, total)
    try:
        with open(part, mode) as f:
            for block in response.iter_content(NET_CHUNK_SIZE):
                f.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
            f.flush()
            os.fsync(f.fileno())
    except requests.RequestException as exc:
        raise _network_error(url, part, exc) from exc
    except OSError as exc:
        raise WeightsError(
            f"could not write {part}: {exc}. The partial file is kept; free some space "
            "or fix the problem, then run the command again to resume."
        ) from exc
    return done


def _network_error(url: str, part: Path, cause: object) -> WeightsError:
    size = part.stat().st_size if part.exists() else 0
    if isinstance(cause, requests.exceptions.ChunkedEncodingError):
        cause = "the connection was cut before the end of the file"
    elif isinstance(cause, requests.exceptions.Timeout) or "timed out" in str(cause):
        # (requests reports a read timeout while streaming as a ConnectionError)
        cause = "the server stopped answering (timed out)"
    elif isinstance(cause, requests.exceptions.ConnectionError):
        # urllib3's text nests three exception reprs; the OS error at its core is what helps.
        core = re.search(r"\[Errno -?\d+\] [^'\")]+", str(cause))
        cause = f"cannot connect: {core.group(0) if core else cause}"
    kept = (
        f"The partial file {part} ({size} bytes) is kept; run the command again to resume."
        if size
        else "Check the network connection and run the command again."
    )
    return WeightsError(f"download of {url} failed: {cause}. {kept}")


def _verify_part(url: str, part: Path, sha256: str | None, expected_size: int | None) -> None:
    size = part.stat().st_size
    if expected_size is not None and size != expected_size:
        part.unlink()
        raise WeightsError(
            f"download of {url} has the wrong size: expected {expected_size} bytes, got {size}; "
            "the downloaded file was deleted"
        )
    if sha256 is not None:
        got = sha256_file(part)
        if got.lower() != sha256.lower():
            part.unlink()
            raise WeightsError(
                f"checksum mismatch for {url}: expected SHA-256 {sha256.lower()}, got {got}; "
                "the downloaded file was deleted"
            )


# --- reading state dicts ---------------------------------------------------------------------


def sniff_format(head: bytes) -> Format | None:
    """Tell a file's format from its first bytes (at least 9), or None when unrecognised."""
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
        return "torch"  # torch.save's zip container, or its legacy pickle stream
    if len(head) >= 9 and head[8:9] == b"{":
        (header_len,) = struct.unpack("<Q", head[:8])
        if 0 < header_len < 100_000_000:
            return "safetensors"
    return None


def format_from_suffix(path: str | Path) -> Format | None:
    """``safetensors`` for ``.safetensors``, ``torch`` for ``.pt``/``.pth``/``.bin``/``.ckpt``,
    else None (detect from content)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".safetensors":
        return "safetensors"
    return "torch" if suffix in _TORCH_SUFFIXES else None


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` or ``.pt``/``.pth`` without running pickled code.

    Other suffixes are recognised by content. A top-level ``{"state_dict": ...}`` is unwrapped.
    Raises WeightsError when the file cannot be read or holds no state dict.
    """
    path = Path(path)
    fmt = format_from_suffix(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc}") from exc
    return state_dict_from_bytes(data, fmt, source=str(path))


def state_dict_from_bytes(
    data: bytes, fmt: Format | None = None, *, source: str = "weights file"
) -> dict[str, torch.Tensor]:
    """Like :func:`load_state_dict` for a file's content; ``fmt`` None means detect it."""
    fmt = fmt or sniff_format(data[:16])
    if fmt is None:
        raise WeightsError(f"{source} is neither a PyTorch (.pt/.pth) nor a safetensors file")
    try:
        if fmt == "safetensors":
            from safetensors.torch import load as load_safetensors

            obj: object = load_safetensors(data)
        else:
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to parse means "not a usable weights file"
        kind = "safetensors" if fmt == "safetensors" else "PyTorch"
        raise WeightsError(
            f"{source} is not a readable {kind} weights file (it was not loaded: only plain "
            f"tensors are accepted, never pickled code): {type(exc).__name__}: "
            f"{_first_line(exc)}"
        ) from exc
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"{source} does not contain a state dict (a mapping of tensors)")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(
            f"{source} is not a plain state dict: {len(bad)} entries are not tensors "
            f"(e.g. {bad[0]!r})"
        )
    return dict(obj)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
