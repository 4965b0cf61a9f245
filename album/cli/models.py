"""``album models``: list the face-recognition models, download or import their weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from models import registry
from models.paths import models_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare ``album models list|fetch|import``."""
    parser = subparsers.add_parser(
        "models",
        help="list the face models, download or import their weights",
        description="List the face-recognition models, or get the weights of those that are "
        "downloaded on request.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    sub.add_parser("list", help="show every model and whether it is ready (the default)")
    fetch = sub.add_parser(
        "fetch",
        help="download a model's weights (resumes an interrupted download)",
        description="Download a model's published weights, verify them and store them. "
        "An interrupted download is resumed when the command is run again.",
    )
    fetch.add_argument("name", metavar="NAME", help="model name, as shown by `album models list`")
    fetch.add_argument("--force", action="store_true", help="download again even if present")
    imp = sub.add_parser(
        "import",
        help="install a model's weights from a file you already have",
        description="Verify a local copy of a model's published weights and copy it into the "
        "models folder. Your file is left where it is, unchanged.",
    )
    imp.add_argument("name", metavar="NAME", help="model name, as shown by `album models list`")
    imp.add_argument(
        "file", metavar="FILE", type=Path, help="the weights file (.pt or .safetensors)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from models import facenet  # loads torch: only when a models command runs

    action = args.models_command or "list"
    if action == "list":
        return _list()
    name = args.name
    if name not in facenet.SOURCES:
        raise UserError(_not_downloadable(name))
    if action == "fetch":
        return _fetch(name, args.force)
    return _import(name, args.file)


def _not_downloadable(name: str) -> str:
    from models import facenet

    known = ", ".join(sorted(facenet.SOURCES))
    try:
        spec = registry.get_spec(name)
    except registry.UnknownModelError:
        return f"unknown model {name!r}; models with downloadable weights: {known}"
    return (
        f"{spec.name} needs no download (its weights come with the app or from training); "
        f"models with downloadable weights: {known}"
    )


def _status(spec: registry.EmbedderSpec) -> str:
    from models import facenet

    if spec.name in facenet.SOURCES:
        return "ready" if facenet.is_available(spec.name) else "not downloaded"
    if spec.origin == "trained":
        ready = (registry.trained_dir() / f"{spec.name}.safetensors").is_file()
        return "ready" if ready else "missing"
    if spec.parts:
        states = [_status(registry.get_spec(name)) for name, _ in spec.parts]
        return "ready" if all(s == "ready" for s in states) else "missing"
    if spec.name == "dlib-resnet-v1":
        from models.dlib_resnet import default_weights_path

        try:
            return "ready" if default_weights_path().is_file() else "missing"
        except FileNotFoundError:
            return "missing"
    if spec.name == "sface":
        from models.sface import find_onnx

        return "ready" if find_onnx() is not None else "missing"
    return "ready"


def _list() -> int:
    rows = [("", "NAME", "DIM", "THRESHOLD", "STATUS", "ORIGIN", "DESCRIPTION")]
    for spec in registry.list_specs():
        rows.append(
            (
                "*" if spec.name == registry.DEFAULT_MODEL else "",
                spec.name,
                str(spec.embedding_size),
                f"{spec.threshold:.3g}",
                _status(spec),
                spec.origin,
                spec.description,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    print(f"\n* default model. Weights folder: {models_dir()}")
    missing = [s.name for s in registry.list_specs() if _status(s) == "not downloaded"]
    if missing:
        print(
            f"Get missing weights with `album models fetch {missing[0]}`, or "
            f"`album models import {missing[0]} FILE` for a file you already have."
        )
    return 0


def _fetch(name: str, force: bool) -> int:
    from tqdm import tqdm

    from models import facenet
    from models.weights import WeightsError

    if not force and facenet.is_available(name):
        print(f"{name} is already downloaded (use --force to download it again); checking it...")
    src = facenet.SOURCES[name]
    bars: list[tqdm] = []  # created on the first progress report: none when nothing downloads

    def progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(
                tqdm(desc=src.filename, total=total, unit="B", unit_scale=True, unit_divisor=1024)
            )
        bar = bars[0]
        if total is not None and bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    try:
        path = facenet.fetch(name, progress, force=force)
    except WeightsError as exc:
        raise UserError(str(exc)) from exc
    finally:
        for bar in bars:
            bar.close()
    return _report(name, path)


def _import(name: str, file: Path) -> int:
    from models import facenet
    from models.weights import WeightsError

    try:
        path = facenet.import_weights(name, file)
    except WeightsError as exc:
        raise UserError(f"{exc}\nNothing was installed; {file} was left unchanged.") from exc
    return _report(name, path)


def _report(name: str, path: Path) -> int:
    from models import facenet

    record = facenet.stored(name)
    print(f"{name}: stored {path}")
    if record is not None:
        print(f"SHA-256 {record.sha256} ({record.size} bytes)")
    return 0
