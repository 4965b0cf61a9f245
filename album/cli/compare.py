"""``album compare A B``: are the people in two photos the same?"""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError

HELP = "compare the faces of two photos"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", type=Path, help="first photo")
    p.add_argument("b", type=Path, help="second photo")
    p.add_argument("--model", default=None, help="embedder name (see 'album models list')")
    p.add_argument("--min-face", type=int, default=40, help="smallest face in pixels (40)")


def _describe(label: str, path: Path, faces: list) -> None:
    print(f"{label}: {path} - {len(faces)} face{'s' if len(faces) != 1 else ''}")
    for i, f in enumerate(faces):
        left, top, right, bottom = (round(float(v)) for v in f.box)
        print(f"  {label}{i + 1}  box ({left}, {top}, {right}, {bottom})  score {f.score:.3f}")


def run(args: argparse.Namespace) -> int:
    from album.images import ImageError, load_image
    from models.detector import FaceDetector
    from models.embedder import Embedder, distance
    from models.registry import DEFAULT_MODEL, WeightsMissingError

    images = []
    for path in (args.a, args.b):
        try:
            images.append(load_image(path, max_side=2400).rgb)
        except ImageError as exc:
            raise UserError(f"{path}: {exc}") from None
    try:
        embedder = Embedder(args.model or DEFAULT_MODEL, device=args.device)
    except (WeightsMissingError, KeyError) as exc:
        raise UserError(str(exc)) from None
    detector = FaceDetector(min_face_size=args.min_face, device=embedder.device)
    faces = [detector.detect(im) for im in images]
    _describe("A", args.a, faces[0])
    _describe("B", args.b, faces[1])
    if not faces[0] or not faces[1]:
        print("no comparison: a photo has no face")
        return 1
    ea, eb = (embedder.embed(im, fs) for im, fs in zip(images, faces, strict=True))
    spec = embedder.spec
    print(f"model {spec.name}, threshold {spec.threshold:.3f} (same person below it)")
    for i, va in enumerate(ea):
        for j, vb in enumerate(eb):
            d = distance(va, vb)
            verdict = "same person" if d < spec.threshold else "different people"
            p = float(spec.probability_same(d))
            print(f"  A{i + 1} - B{j + 1}  distance {d:.3f}  {verdict}  (P(same) {p:.2f})")
    return 0
