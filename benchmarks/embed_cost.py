"""What each embedder costs per face, at batch 1 and 32, measured in one run.

    .venv/bin/python benchmarks/embed_cost.py ../shared/datasets/lfw
    .venv/bin/python benchmarks/embed_cost.py ../shared/datasets/lfw --device cuda

On the CPU the figure is process CPU time with one torch thread (other jobs on the machine
disturb it far less than wall time), the models taking turns round after round; faces/s is
then per core. On a GPU it is wall time after a synchronize. Each model embeds as the app does
(mirrored chip included where the model adds it; ``NAME:noflip`` measures a model without it).
Chips are real LFW faces.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

MODELS = ("dlib-resnet-v1", "sface", "dlib+sface")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lfw", type=Path, help="LFW folder (faces to embed)")
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import numpy as np
    import torch
    from PIL import Image

    from models.detector import FaceDetector
    from models.embedder import Embedder

    cpu = args.device == "cpu"
    if cpu:
        torch.set_num_threads(1)
    files = sorted(args.lfw.glob("*/*_0001.jpg"))[:32]
    detector = FaceDetector(device=args.device)
    images = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    faces = [detector.detect(im)[:1] for im in images]
    embedders = {
        m: Embedder(m.split(":")[0], device=args.device, flip=False if ":noflip" in m else None)
        for m in args.models
    }
    chips = {
        m: np.concatenate([e.chips(im, f) for im, f in zip(images, faces, strict=True)])
        for m, e in embedders.items()
    }

    def clock() -> float:
        if cpu:
            return time.process_time()
        torch.cuda.synchronize()
        return time.perf_counter()

    spent = {(m, b): [] for m in args.models for b in (1, 32)}
    for m in args.models:  # warm-up
        embedders[m].embed_chips(chips[m][:32])
    for _ in range(args.rounds):
        for m in args.models:
            for batch in (1, 32):
                start = clock()
                for i in range(0, 32, batch):
                    embedders[m].embed_chips(chips[m][i : i + batch])
                spent[(m, batch)].append((clock() - start) / 32)
    unit = "per core (CPU time, 1 thread)" if cpu else f"wall time on {args.device}"
    print(f"embedding cost per face, median of {args.rounds} rounds, {unit}")
    base = args.models[0]
    for batch in (1, 32):
        for m in args.models:
            s = float(np.median(spent[(m, batch)]))
            ratio = s / float(np.median(spent[(base, batch)]))
            print(
                f"  batch {batch:2d}  {m:16s} {1000 * s:7.2f} ms/face  {1 / s:7.1f} faces/s  "
                f"{ratio:4.2f}x {base}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
