"""What the detector's retries and its second look at small photos cost: CPU seconds of
detection on an album, with and without them, in one run (alternating, so all see the same
machine).

    .venv/bin/python benchmarks/make_album.py /tmp/album --photos 48
    .venv/bin/python benchmarks/detect_cost.py /tmp/album
    .venv/bin/python benchmarks/detect_cost.py /tmp/album --side 480   # small photos

Photos are decoded once at the scan's detection size (1000 px); the figure is process CPU time
with one torch thread, which other jobs on the machine disturb far less than wall time. "plain"
is MTCNN alone (``retry_angles=()``; tilted faces still get their upright second look);
"retries" adds the turned retries of faceless photos; "scan's" is the scanner's detector,
which also gives photos under 640 px YuNet's look (``models.yunet``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("album", type=Path, help="folder of photos (e.g. from make_album.py)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--side", type=int, default=1000, help="detection size (the scan's)")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from album.images import load_image
    from models.detector import FaceDetector

    torch.set_num_threads(1)
    files = sorted(f for f in args.album.iterdir() if f.suffix.lower() in (".jpg", ".jpeg"))
    if not files:
        p.error(f"no JPEG photos in {args.album}")
    images = [np.ascontiguousarray(load_image(f, max_side=args.side).rgb) for f in files]
    detectors = {
        "plain": FaceDetector(min_face_size=20, max_side=args.side, retry_angles=(), small_side=0),
        "retries": FaceDetector(min_face_size=20, max_side=args.side, small_side=0),
        "scan's": FaceDetector(min_face_size=20, max_side=args.side),
    }
    seconds = dict.fromkeys(detectors, 0.0)
    found = dict.fromkeys(detectors, 0)
    empty = dict.fromkeys(detectors, 0)
    for _ in range(args.rounds):
        for name, det in detectors.items():
            start = time.process_time()
            faces = [det.detect(im) for im in images]
            seconds[name] += time.process_time() - start
            found[name] = sum(len(f) for f in faces)
            empty[name] = sum(not f for f in faces)
    per = {k: 1000 * v / (args.rounds * len(images)) for k, v in seconds.items()}
    print(f"photos           {len(images)} at {args.side} px, {args.rounds} rounds")
    for name in detectors:
        print(
            f"{name:<16} {per[name]:.0f} ms CPU per photo; {found[name]} faces, "
            f"{empty[name]} photos without one"
        )
    print(f"retries cost     {100 * (per['retries'] / per['plain'] - 1):+.1f}% detection time")
    second = 100 * (per["scan's"] / per["retries"] - 1)
    print(f"second look cost {second:+.1f}% detection time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
