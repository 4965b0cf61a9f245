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
"source": "Colin_Powell/Colin_Powell_0001.jpg", "box": [left, top, right, bottom],
"yaw": -4.2}, ...]}}; ``yaw`` is the source face's yaw in degrees (``models.pose``).

Validation albums (any of the options below; without them the album is made as above):

    .venv/bin/python benchmarks/make_album.py OUT --split test --damage --people 30 \
        --photos 120 --faces 1-6 --seed 9

* ``--split dev|test|all``: only LFW people of that half (``album.evaluation.splits``). Tune on
  ``dev``; report on ``test``.
* ``--people N``: a fixed cast of N people with >= 4 LFW images each (up to 16 of them
  looked at, at least 3 usable), every one in several photos, like a family album.
* ``--damage``: per face, independently (seeded): 15% of faces 24-60 px wide, the rest 60 px up
  to the largest size; Gaussian blur on 20% (sigma 1-4% of the face width); in-plane rotation
  of 20% by 10-45 degrees either way (the pasted region turns about the face's centre; the
  true box is the axis-aligned box of the rotated face box). Per photo: JPEG quality 30-90,
  10% grayscale, 10% "tight crops": the photo is one face cut to its box grown by 10% (5% each
  side), 60-300 px wide, like a profile picture, not a 12 MP photo. About 20% of faces are
  drawn from turned sources (|yaw| >= 25 degrees by ``models.pose.yaw_degrees`` on MTCNN's
  landmarks), where the people have such images. A detector that boxes a rotated face upright
  overlaps its true box less: about IoU 0.5 at 45 degrees for a box of the face's own size.

* ``--cfp DIR``: the cast comes from CFP (``album.evaluation.cfp``: 10 frontal photos and 4
  real side views, yaw 60-90 degrees, per person) instead of LFW, people split the same way;
  ``--side-share`` (0.2) of the face slots ask for a side view. Each record then has
  ``profile`` (CFP's label). With ``--people N``; ``--damage`` works as with LFW, its turned
  share replaced by the side-view share.

With any of these options, one person is at most once per photo, and each face takes the
least-used source image of the people not yet in the photo: an image is pasted again only once
every image has been, and people with more images appear more often. Every face record also
has ``damage`` ({"width": px, "blur": sigma px or 0, "rotation": degrees or 0, "grayscale",
"tight_crop", "jpeg_quality"}), and the truth has ``split``, ``seed``, ``people`` (the cast,
or null), ``damage`` (the settings, or null) and ``photo_info`` ({name: {"size",
"jpeg_quality", "grayscale", "tight_crop"}}); tight crops are smaller than ``size``.

What such an album can show: recall and grouping under small, blurred, compressed, grey,
rotated and tightly framed faces, with turned faces among them, on people nothing was tuned
on. What it cannot: LFW's turned faces are mostly moderately turned (|yaw| 25-50 degrees; few
beyond 50, almost no true 90-degree profiles), and LFW images are small (250x250, faces about
110 px), so big pasted faces are upscaled and carry no more detail than 110 px; every damage is
synthetic (no occlusion, lighting, age gap or real camera noise); an identity's sources are
often from one event, and a source image may be pasted more than once when a person has few,
so a group is easier to find than in a real album.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("make_album")

# Pasted region around the face box: context (hair, chin) makes the paste look like a head.
CONTEXT = 1.6
# A tight crop is the face box grown by this fraction of its width and height (half each side).
TIGHT_MARGIN = 0.10
TURNED = 25.0  # |yaw| in degrees from which a source counts as turned (models.pose.FRONTAL)
MIN_IMAGES = 4  # a cast member has at least this many LFW images


@dataclass(frozen=True)
class Source:
    path: Path
    identity: str
    box: tuple[float, float, float, float]  # MTCNN box in the source image
    yaw: float = 0.0  # degrees, the stored yaw (models.pose.estimate_yaw)
    profile: bool = False  # a real side view by the data set's own label (CFP)

    @property
    def turned(self) -> bool:
        return self.profile or abs(self.yaw) >= TURNED


@dataclass(frozen=True)
class Damage:
    """What ``--damage`` does; shares are probabilities per face or per photo."""

    small_share: float = 0.15  # faces drawn from ``small`` instead of the normal sizes
    small: tuple[int, int] = (24, 60)  # face box width, px
    jpeg_quality: tuple[int, int] = (30, 90)  # per photo
    blur_share: float = 0.2
    blur: tuple[float, float] = (0.01, 0.04)  # Gaussian sigma as a fraction of the face width
    rotate_share: float = 0.2
    rotation: tuple[float, float] = (10.0, 45.0)  # |angle| in degrees, either direction
    grayscale_share: float = 0.1  # per photo
    tight_share: float = 0.1  # photos that are one tightly cropped face
    tight_width: tuple[int, int] = (60, 300)  # face box width in a tight crop, px
    turned_share: float = 0.2  # face slots that ask for a turned source


def _detector():
    from models.detector import FaceDetector

    return FaceDetector(min_face_size=20)


def detect_source(
    path: Path, detector, identity: str | None = None, profile: bool = False
) -> Source | None:
    """The face nearest the centre of an LFW (or CFP) image, or None when there is none or
    when another face reaches into the region that would be pasted."""
    from models.pose import estimate_yaw

    im = np.asarray(Image.open(path).convert("RGB"))
    faces = detector.detect(im)
    if not faces:
        return None
    h, w = im.shape[:2]
    main = min(faces, key=lambda f: np.hypot(*(f.box[:2] + f.box[2:] - (w, h)) / 2))
    region = _expand(tuple(main.box), CONTEXT)
    if any(f is not main and _overlaps(tuple(f.box), region) for f in faces):
        return None
    box = tuple(float(v) for v in main.box)
    yaw = round(float(estimate_yaw(main.landmarks, main.box)[0]), 1)
    return Source(path, identity or path.parent.name, box, yaw, profile)


def find_sources(lfw: Path, count: int, rng: random.Random, split: str = "all") -> list[Source]:
    """``count`` LFW images of ``split``'s people with exactly one face in the pasted region,
    and its MTCNN box."""
    from album.evaluation.splits import in_split

    files = [f for f in sorted(lfw.glob("*/*.jpg")) if in_split(f.parent.name, split)]
    if not files:
        raise FileNotFoundError(f"no LFW images under {lfw}")
    detector = _detector()
    sources: list[Source] = []
    for path in rng.sample(files, min(len(files), count * 2)):
        source = detect_source(path, detector)
        if source is None:
            continue
        sources.append(source)
        if len(sources) == count:
            break
    return sources


def find_cast(
    lfw: Path, people: int, rng: random.Random, split: str = "all", per_person: int = 16
) -> dict[str, list[Source]]:
    """``people`` random people of ``split`` with >= ``MIN_IMAGES`` LFW images, each with the
    usable sources among up to ``per_person`` of their images (at least 3 usable)."""
    from album.evaluation.splits import in_split

    folders = [d for d in sorted(lfw.iterdir()) if d.is_dir() and in_split(d.name, split)]
    candidates = [d for d in folders if len(list(d.glob("*.jpg"))) >= MIN_IMAGES]
    if not candidates:
        raise FileNotFoundError(f"no LFW person with >= {MIN_IMAGES} images under {lfw}")
    rng.shuffle(candidates)
    detector = _detector()
    cast: dict[str, list[Source]] = {}
    for folder in candidates:
        files = sorted(folder.glob("*.jpg"))
        found = [detect_source(f, detector) for f in rng.sample(files, min(len(files), per_person))]
        usable = [s for s in found if s is not None]
        if len(usable) >= 3:
            cast[folder.name] = usable
            log.info(
                "cast %s: %d sources, %d turned",
                folder.name,
                len(usable),
                sum(s.turned for s in usable),
            )
        if len(cast) == people:
            break
    if len(cast) < people:
        log.warning("only %d people with enough usable images in split", len(cast))
    return cast


def find_cfp_cast(
    cfp: Path, people: int, rng: random.Random, split: str = "all"
) -> dict[str, list[Source]]:
    """``people`` random CFP people of ``split`` with their usable frontal and profile photos
    (at least 3 frontal and 1 profile usable)."""
    from album.evaluation.splits import in_split

    root = cfp / "Data" / "Images"
    folders = [d for d in sorted(root.iterdir()) if d.is_dir() and in_split(d.name, split)]
    if not folders:
        raise FileNotFoundError(f"no CFP person of split {split!r} under {root}")
    rng.shuffle(folders)
    detector = _detector()
    cast: dict[str, list[Source]] = {}
    for folder in folders:
        found = [
            detect_source(f, detector, f"cfp-{folder.name}", pose == "profile")
            for pose in ("frontal", "profile")
            for f in sorted((folder / pose).glob("*.jpg"))
        ]
        usable = [s for s in found if s is not None]
        if sum(not s.profile for s in usable) >= 3 and any(s.profile for s in usable):
            cast[f"cfp-{folder.name}"] = usable
        if len(cast) == people:
            break
    if len(cast) < people:
        log.warning("only %d CFP people with enough usable images in split", len(cast))
    return cast


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


def paste_face(
    canvas: Image.Image,
    source: Source,
    face_size: int,
    at: tuple[int, int],
    angle: float = 0.0,
    blur: float = 0.0,
) -> list:
    """Paste ``source`` so its face box is ``face_size`` px wide at ``at`` (the region's corner),
    turned by ``angle`` degrees (counter-clockwise) about the face's centre and blurred with a
    Gaussian of ``blur`` px (sigma, in canvas pixels).

    Returns the face's box in canvas pixels: for a turned face, the axis-aligned box of the
    turned face box. The round mask keeps a turned region inside its square.
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
    if angle:
        crop = crop.rotate(angle, Image.Resampling.BICUBIC)
        mask = mask.rotate(angle, Image.Resampling.BICUBIC)
    if blur > 0:
        crop = crop.filter(ImageFilter.GaussianBlur(blur))
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, side // 40)))
    canvas.paste(crop, at, mask)
    ox, oy = at[0] - region[0] * k, at[1] - region[1] * k
    out = [box[0] * k + ox, box[1] * k + oy, box[2] * k + ox, box[3] * k + oy]
    if angle:
        out = _rotated_box(out, (at[0] + side / 2, at[1] + side / 2), angle)
    return [round(v, 1) for v in out]


def _rotated_box(box: list[float], centre: tuple[float, float], angle: float) -> list[float]:
    """Axis-aligned box of ``box`` turned by ``angle`` degrees counter-clockwise (as
    ``Image.rotate`` turns the picture; y points down) about ``centre``."""
    t = np.radians(angle)
    c, s = np.cos(t), np.sin(t)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])):
        dx, dy = x - centre[0], y - centre[1]
        xs.append(centre[0] + dx * c + dy * s)
        ys.append(centre[1] - dx * s + dy * c)
    return [float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))]


def tight_crop(source: Source, face_size: int, blur: float = 0.0) -> tuple[Image.Image, list]:
    """A photo that is only the face: the source's box grown by ``TIGHT_MARGIN`` (clipped to
    the source image), scaled so the face box is ``face_size`` px wide. Returns the photo and
    the face's box in its pixels."""
    im = Image.open(source.path).convert("RGB")
    box = source.box
    bw, bh = box[2] - box[0], box[3] - box[1]
    mx, my = bw * TIGHT_MARGIN / 2, bh * TIGHT_MARGIN / 2
    crop_box = (
        max(0, round(box[0] - mx)),
        max(0, round(box[1] - my)),
        min(im.width, round(box[2] + mx)),
        min(im.height, round(box[3] + my)),
    )
    k = face_size / bw
    size = (round((crop_box[2] - crop_box[0]) * k), round((crop_box[3] - crop_box[1]) * k))
    photo = im.crop(crop_box).resize(size, Image.Resampling.BICUBIC)
    if blur > 0:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    out = [
        min(max((box[0] - crop_box[0]) * k, 0.0), size[0]),
        min(max((box[1] - crop_box[1]) * k, 0.0), size[1]),
        min(max((box[2] - crop_box[0]) * k, 0.0), size[0]),
        min(max((box[3] - crop_box[1]) * k, 0.0), size[1]),
    ]
    return photo, [round(v, 1) for v in out]


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
    split: str = "all",
    damage: Damage | None = None,
    people: int | None = None,
    per_person: int = 16,
    cfp: Path | None = None,
    side_share: float = 0.2,
) -> dict:
    """Write ``photos`` JPEGs into ``out`` and return the truth (also written to truth.json).

    ``size`` and ``face_size`` (face box width) are in pixels. ``split``, ``damage`` and
    ``people`` make a validation album (module docstring); ``per_person``: images looked at per
    cast member. ``cfp``: take the cast from this CFP folder instead (``side_share`` of the
    face slots ask for a side view).
    """
    if split != "all" or damage is not None or people is not None or cfp is not None:
        return _make_validation_album(
            cfp or lfw,
            out,
            photos,
            size,
            faces,
            face_size,
            quality,
            seed,
            prefix,
            split,
            damage,
            people,
            per_person,
            cfp is not None,
            side_share,
        )
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
            at = _free_spot(placed, side, size, rng)
            if at is not None:
                box = paste_face(canvas, source, fs, at)
                rel = source.path.relative_to(lfw).as_posix()
                records.append(
                    {"identity": source.identity, "source": rel, "box": box, "yaw": source.yaw}
                )
        name = f"{prefix}_{n:05d}.jpg"
        canvas.save(out / name, "JPEG", quality=quality)
        truth["photos"][name] = records
        log.info("%s: %d faces", name, len(records))
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _make_validation_album(
    lfw: Path,
    out: Path,
    photos: int,
    size: tuple[int, int],
    faces: tuple[int, int],
    face_size: tuple[int, int],
    quality: int,
    seed: int,
    prefix: str,
    split: str,
    damage: Damage | None,
    people: int | None,
    per_person: int,
    from_cfp: bool = False,
    side_share: float = 0.2,
) -> dict:
    """``lfw`` is the CFP folder when ``from_cfp``."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    if from_cfp:
        pool = find_cfp_cast(lfw, people or 30, rng, split)
        if damage is not None:
            damage = replace(damage, turned_share=side_share)
    elif people is not None:
        pool = find_cast(lfw, people, rng, split, per_person)
    else:
        pool = {}
        for s in find_sources(lfw, min(400, max(20, photos * faces[1] // 2)), rng, split):
            pool.setdefault(s.identity, []).append(s)
    if not pool:
        raise RuntimeError("no usable LFW source image")
    truth: dict = {
        "size": list(size),
        "face_size": list(face_size),
        "split": split,
        "seed": seed,
        "people": sorted(pool) if people is not None or from_cfp else None,
        "source": "cfp" if from_cfp else "lfw",
        "damage": _as_json(asdict(damage)) if damage is not None else None,
        "photos": {},
        "photo_info": {},
    }
    uses: dict[Path, int] = {}
    side_wanted = side_share if from_cfp else None
    w, h = size
    for n in range(photos):
        name = f"{prefix}_{n:05d}.jpg"
        q = rng.randint(*damage.jpeg_quality) if damage else quality
        gray = bool(damage) and rng.random() < damage.grayscale_share
        tight = bool(damage) and rng.random() < damage.tight_share
        records = []
        if tight:
            assert damage is not None
            source = _pick(pool, set(), _want_turned(damage, rng, side_wanted), uses, rng)
            assert source is not None
            uses[source.path] = uses.get(source.path, 0) + 1
            fs = rng.randint(*damage.tight_width)
            blur = _blur(damage, fs, rng)
            canvas, box = tight_crop(source, fs, blur)
            records.append(_record(lfw, source, box, fs, blur, 0.0, gray, q, tight))
        else:
            canvas = background(size, rng)
            placed: list[tuple[float, float, float, float]] = []
            present: set[str] = set()
            for _ in range(min(rng.randint(*faces), len(pool))):
                source = _pick(pool, present, _want_turned(damage, rng, side_wanted), uses, rng)
                if source is None:
                    break
                if damage and rng.random() < damage.small_share:
                    fs = rng.randint(*damage.small)
                elif damage:
                    fs = rng.randint(damage.small[1], face_size[1])
                else:
                    fs = rng.randint(*face_size)
                blur = _blur(damage, fs, rng)
                angle = 0.0
                if damage and rng.random() < damage.rotate_share:
                    angle = round(rng.uniform(*damage.rotation) * rng.choice((-1, 1)), 1)
                side = round(fs * CONTEXT * max(1.0, _aspect(source.box)))
                if side >= min(w, h):
                    continue
                at = _free_spot(placed, side, size, rng)
                if at is not None:
                    present.add(source.identity)
                    uses[source.path] = uses.get(source.path, 0) + 1
                    box = paste_face(canvas, source, fs, at, angle, blur)
                    records.append(_record(lfw, source, box, fs, blur, angle, gray, q, tight))
        if gray:
            canvas = ImageOps.grayscale(canvas)
        canvas.save(out / name, "JPEG", quality=q)
        truth["photos"][name] = records
        truth["photo_info"][name] = {
            "size": list(canvas.size),
            "jpeg_quality": q,
            "grayscale": gray,
            "tight_crop": tight,
        }
        log.info("%s: %d faces", name, len(records))
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _free_spot(
    placed: list[tuple[float, float, float, float]],
    side: int,
    size: tuple[int, int],
    rng: random.Random,
    tries: int = 50,
) -> tuple[int, int] | None:
    """A random top-left corner for a ``side``-pixel square that overlaps nothing in
    ``placed`` (which it joins), or None after ``tries`` misses."""
    w, h = size
    for _try in range(tries):
        at = (rng.randint(0, w - side), rng.randint(0, h - side))
        region = (at[0], at[1], at[0] + side, at[1] + side)
        if not any(_overlaps(region, p) for p in placed):
            placed.append(region)
            return at
    return None


def _as_json(d: dict) -> dict:
    """``d`` as it reads back from JSON (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _want_turned(
    damage: Damage | None, rng: random.Random, share: float | None = None
) -> bool | None:
    """Whether a face slot asks for a turned source (``share`` of the slots, else the
    damage's); None (no preference) with neither."""
    if share is None and damage is None:
        return None
    return rng.random() < (share if share is not None else damage.turned_share)


def _blur(damage: Damage | None, face_size: int, rng: random.Random) -> float:
    if damage is None or rng.random() >= damage.blur_share:
        return 0.0
    return round(face_size * rng.uniform(*damage.blur), 2)


def _pick(
    pool: dict[str, list[Source]],
    present: set[str],
    turned: bool | None,
    uses: dict[Path, int],
    rng: random.Random,
) -> Source | None:
    """The least-used source (ties at random) of the people not in ``present``, of the wanted
    pose when there is one: an image is pasted again only once every image has been, and
    people with more images appear more often."""
    sources = [s for person, group in pool.items() if person not in present for s in group]
    if turned is not None:
        sources = [s for s in sources if s.turned == turned] or sources
    if not sources:
        return None
    least = min(uses.get(s.path, 0) for s in sources)
    return rng.choice([s for s in sources if uses.get(s.path, 0) == least])


def _record(
    lfw: Path,
    source: Source,
    box: list,
    width: int,
    blur: float,
    angle: float,
    gray: bool,
    jpeg_quality: int,
    tight: bool,
) -> dict:
    return {
        "identity": source.identity,
        "source": source.path.relative_to(lfw).as_posix(),
        "box": box,
        "yaw": source.yaw,
        "profile": source.profile,
        "damage": {
            "width": width,
            "blur": blur,
            "rotation": angle,
            "grayscale": gray,
            "tight_crop": tight,
            "jpeg_quality": jpeg_quality,
        },
    }


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
    p.add_argument(
        "--split", choices=["dev", "test", "all"], default="all", help="LFW people to use (all)"
    )
    p.add_argument("--damage", action="store_true", help="realistic damage (see above)")
    p.add_argument("--people", type=int, default=None, help="a fixed cast of N people")
    p.add_argument(
        "--cfp", type=Path, default=None, help="take the cast from this CFP folder (side views)"
    )
    p.add_argument(
        "--side-share", type=float, default=0.2, help="face slots asking for a side view (CFP)"
    )
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
        split=args.split,
        damage=Damage() if args.damage else None,
        people=args.people,
        cfp=args.cfp,
        side_share=args.side_share,
    )
    records = [r for v in truth["photos"].values() for r in v]
    n = len(records)
    print(f"{len(truth['photos'])} photos, {n} faces -> {args.out}")
    if args.cfp is not None:
        sides = sum(r["profile"] for r in records)
        print(f"CFP people of {args.split}: side views {sides} ({sides / max(n, 1):.0%})")
    if args.split != "all" or args.damage or args.people is not None:
        turned = sum(abs(r["yaw"]) >= TURNED for r in records)
        small = sum(r["damage"]["width"] <= Damage.small[1] for r in records)
        print(
            f"split {args.split}, {len({r['identity'] for r in records})} people; "
            f"turned (|yaw| >= {TURNED:g}) {turned} ({turned / max(n, 1):.0%}), "
            f"<= {Damage.small[1]} px {small} ({small / max(n, 1):.0%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
