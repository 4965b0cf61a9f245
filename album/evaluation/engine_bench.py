"""Throughput of the face engine: detection on 1600 px photos, embedding at batch 1 and 32."""

from __future__ import annotations

import random
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.detector import FaceDetector
from models.embedder import Embedder


@dataclass
class EngineFigures:
    device: str
    engine: str
    threads: int
    detect_photos_per_s: float
    faces_per_photo: float
    embed_faces_per_s_batch1: float
    embed_faces_per_s_batch32: float
    embed_flip: bool
    peak_rss_mb: float


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def synthetic_photos(
    lfw: Path, count: int, size=(1600, 1200), faces=(2, 6), seed=0
) -> list[np.ndarray]:
    """Photos of ``size`` with LFW heads pasted at random places and sizes (80-300 px)."""
    rng = random.Random(seed)
    files = sorted(lfw.glob("*/*.jpg"))
    if not files:
        raise FileNotFoundError(f"no LFW images under {lfw}")
    photos = []
    for _ in range(count):
        w, h = size
        top = np.array([rng.randint(40, 215) for _ in range(3)], dtype=np.float32)
        bottom = np.array([rng.randint(40, 215) for _ in range(3)], dtype=np.float32)
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        canvas = Image.fromarray(
            np.broadcast_to(top * (1 - ramp) + bottom * ramp, (h, w, 3)).astype(np.uint8)
        )
        for _ in range(rng.randint(*faces)):
            side = rng.randint(80, 300)
            head = Image.open(rng.choice(files)).convert("RGB").crop((50, 40, 200, 210))
            head = head.resize((side, round(side * 170 / 150)))
            canvas.paste(head, (rng.randint(0, w - side), rng.randint(0, h - head.height)))
        photos.append(np.asarray(canvas))
    return photos


def _rate(fn, items: int, min_seconds: float = 3.0) -> float:
    fn()  # warm-up
    done, start = 0, time.perf_counter()
    while True:
        fn()
        done += items
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def run_engine_bench(
    lfw: Path,
    model: str,
    device: str | None,
    photos: int = 8,
    flip: bool | None = None,
    engine: str | None = None,
) -> EngineFigures:
    import torch

    embedder = Embedder(model, device=device, flip=flip, engine=engine)
    detector = FaceDetector(device=embedder.device, engine=engine)
    images = synthetic_photos(lfw, photos)
    found: list[int] = []

    def detect_all() -> None:
        found.clear()
        found.extend(len(detector.detect(im)) for im in images)

    det_rate = _rate(detect_all, len(images))
    faces = [f for im in images[:2] for f in detector.detect(im)]
    chips = embedder.chips(images[0], faces[:1])
    chips32 = np.concatenate([embedder.chips(im, detector.detect(im)) for im in images])
    chips32 = np.resize(chips32, (32, *chips32.shape[1:]))
    e1 = _rate(lambda: embedder.embed_chips(chips), 1)
    e32 = _rate(lambda: embedder.embed_chips(chips32), 32)
    return EngineFigures(
        device=str(embedder.device),
        engine=f"detector {detector.engine}, embedder {embedder.engine}",
        threads=torch.get_num_threads(),
        detect_photos_per_s=det_rate,
        faces_per_photo=float(np.mean(found)),
        embed_faces_per_s_batch1=e1,
        embed_faces_per_s_batch32=e32,
        embed_flip=embedder.flip,
        peak_rss_mb=peak_rss_mb(),
    )
