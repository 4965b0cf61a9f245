"""Build a synthetic photo album from LFW, with the truth about every face.

    .venv/bin/python benchmarks/make_album.py OUT --photos 60
    .venv/bin/album bench scan OUT --truth OUT/truth.json

Each photo is 4000x3000 (12 MP), JPEG quality 90, on a generated background (gradients,
shapes, grain), holding 0 to 6 LFW faces whose boxes are 80 to 600 px wide. Faces never overlap.

The true box of a pasted face is MTCNN's box on the unscaled LFW source image (the face nearest
the centre), mapped through the resize and paste. Using the detector's own box convention keeps
IoU a measure of "found at this scale and on this background", not of how two box conventions
differ. Sources where MTCNN sees no central face, or sees a second face inside the pasted region,
are not used, so the truth lists every face in the photo.

truth.json: {"size": [w, h], "photos": {"photo_00000.jpg": [{"identity": "Colin_Powell",
"source": "Colin_Powell/Colin_Powell_0001.jpg", "box": [left, top, right, bottom]}, ...]}}
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("make_album")

# Pasted region around the face box: context (hair, chin) makes the paste look like a head.
CONTEXT = 1.6


@dataclass(frozen=True)
class Source:
    path: Path
    identity: str
    box: tuple[float, float, float, float]  # MTCNN box in the source image


def find_sources(lfw: Path, count: int, rng: random.Random) -> list[Source]:
    """``count`` LFW images with exactly one face in the pasted region, and its MTCNN box."""
    from models.detector import FaceDetector

    files = sorted(lfw.glob("*/*.jpg"))
    if not files:
        raise FileNotFoundError(f"no LFW images under {lfw}")
    detector = FaceDetector(min_face_size=20)
    sources: list[Source] = []
    for path in rng.sample(files, min(len(files), count * 2)):
        im = np.asarray(Image.open(path).convert("RGB"))
        faces = detector.detect(im)
        if not faces:
            continue
        h, w = im.shape[:2]
        main = min(faces, key=lambda f: np.hypot(*(f.box[:2] + f.box[2:] - (w, h)) / 2))
        region = _expand(tuple(main.box), CONTEXT)
        if any(f is not main and _overlaps(tuple(f.box), region) for f in faces):
            continue
        sources.append(Source(path, path.parent.name, tuple(float(v) for v in main.box)))
        if len(sources) == count:
            break
    return sources


def _expand(box: tuple[float, ...], factor: float) -> tuple[float, float, float, float]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * factor / 2
    return cx - half, cy - half, cx + half, cy + half


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A varied, face-free background: gradient, shapes, blur and grain."""
    w, h = size
    small = (w // 8, h // 8)
    nprng = np.random.default_rng(rng.randrange(2**32))
    top = np.array([rng.randint(20, 235) for _ in range(3)], np.float32)
    bottom = np.array([rng.randint(20, 235) for _ in range(3)], np.float32)
    ramp = np.linspace(0, 1, small[1], dtype=np.float32)[:, None, None]
    base = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (small[1], small[0], 3))
    im = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(0, 25)):
        x0, y0 = rng.randrange(small[0]), rng.randrange(small[1])
        x1, y1 = x0 + rng.randint(10, small[0] // 2), y0 + rng.randint(10, small[1] // 2)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = rng.choice((draw.rectangle, draw.ellipse, draw.line))
        if shape is draw.line:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randint(1, 12))
        else:
            shape((x0, y0, x1, y1), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0, 3)))
    im = im.resize(size, Image.Resampling.BICUBIC)
    grain = nprng.normal(0, rng.uniform(1, 6), (h, w // 4, 1)).astype(np.float32)
    arr = np.asarray(im, dtype=np.float32)
    arr += np.repeat(grain, 4, axis=1)[:, :w]  # cheap grain: 4-pixel-wide, still adds bytes
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def paste_face(canvas: Image.Image, source: Source, face_size: int, at: tuple[int, int]) -> list:
    """Paste ``source`` so its face box is ``face_size`` px wide at ``at`` (the region's corner).

    Returns the face's box in canvas pixels.
    """
    im = Image.open(source.path).convert("RGB")
    box = source.box
    k = face_size / (box[2] - box[0])
    region = _expand(box, CONTEXT)
    crop = im.crop(tuple(round(v) for v in region))  # outside the source: black, then masked
    side = round((region[2] - region[0]) * k)
    crop = crop.resize((side, side), Image.Resampling.BICUBIC)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    # Also hide pixels that came from outside the source image.
    inside = Image.new("L", im.size, 255).crop(tuple(round(v) for v in region)).resize((side, side))
    mask = Image.fromarray(np.minimum(np.asarray(mask), np.asarray(inside)))
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, side // 40)))
    canvas.paste(crop, at, mask)
    ox, oy = at[0] - region[0] * k, at[1] - region[1] * k
    return [
        round(box[0] * k + ox, 1),
        round(box[1] * k + oy, 1),
        round(box[2] * k + ox, 1),
        round(box[3] * k + oy, 1),
    ]


def make_album(
    lfw: Path,
    out: Path,
    photos: int,
    size: tuple[int, int] = (4000, 3000),
    faces: tuple[int, int] = (0, 6),
    face_size: tuple[int, int] = (80, 600),
    quality: int = 90,
    seed: int = 0,
    prefix: str = "photo",
) -> dict:
    """Write ``photos`` JPEGs into ``out`` and return the truth (also written to truth.json)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    pool = find_sources(lfw, min(400, max(20, photos * faces[1] // 2)), rng)
    if not pool:
        raise RuntimeError("no usable LFW source image")
    truth: dict = {"size": list(size), "face_size": list(face_size), "photos": {}}
    w, h = size
    for n in range(photos):
        canvas = background(size, rng)
        placed: list[tuple[float, float, float, float]] = []
        records = []
        for _ in range(rng.randint(*faces)):
            source = rng.choice(pool)
            fs = rng.randint(*face_size)
            side = round(fs * CONTEXT * max(1.0, _aspect(source.box)))
            if side >= min(w, h):
                continue
            for _try in range(50):
                at = (rng.randint(0, w - side), rng.randint(0, h - side))
                region = (at[0], at[1], at[0] + side, at[1] + side)
                if not any(_overlaps(region, p) for p in placed):
                    placed.append(region)
                    box = paste_face(canvas, source, fs, at)
                    rel = source.path.relative_to(lfw).as_posix()
                    records.append({"identity": source.identity, "source": rel, "box": box})
                    break
        name = f"{prefix}_{n:05d}.jpg"
        canvas.save(out / name, "JPEG", quality=quality)
        truth["photos"][name] = records
        log.info("%s: %d faces", name, len(records))
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _aspect(box: tuple[float, ...]) -> float:
    return (box[3] - box[1]) / (box[2] - box[0])


def _pair(text: str, sep: str) -> tuple[int, int]:
    a, b = text.split(sep)
    return int(a), int(b)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out", type=Path, help="folder to write the photos and truth.json into")
    p.add_argument("--lfw", type=Path, default=Path("../shared/datasets/lfw"))
    p.add_argument("--photos", type=int, default=60)
    p.add_argument("--size", default="4000x3000", help="photo size WxH (4000x3000)")
    p.add_argument("--faces", default="0-6", help="faces per photo, MIN-MAX (0-6)")
    p.add_argument("--face-size", default="80-600", help="face box width in px, MIN-MAX")
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    truth = make_album(
        args.lfw,
        args.out,
        args.photos,
        _pair(args.size, "x"),
        _pair(args.faces, "-"),
        _pair(args.face_size, "-"),
        args.quality,
        args.seed,
    )
    n = sum(len(v) for v in truth["photos"].values())
    print(f"{len(truth['photos'])} photos, {n} faces -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
