"""How well "Split…" takes apart two people merged into one, and how long it takes.

    .venv/bin/python benchmarks/split_person.py --data ../shared/datasets/lfw --split test
    .venv/bin/python benchmarks/split_person.py --cfp ../shared/datasets/cfp-dev --split test

Pairs of LFW people with at least 10 images (of one half of the people, ``--split``) are
merged on purpose: the hardest pairs (the people whose mean faces are nearest, look-alikes
a grouping could merge) and random ones. Each merged pair is split with
``album.people.split.plan_split`` and scored by the BCubed F of its best use (every
sub-group named as the person most of its faces are). Then a 2,000-face person is made in a
real catalog (the faces of the largest people, merged) and ``PeopleService.split_proposal``
is timed on it, reads from SQLite included. ``--cfp``: CFP's people instead (10 frontal photos
and 4 real side views each), and how much of a person's own side views a split offers apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album.catalog import Catalog
from album.evaluation.cfp_faces import load_cfp_faces
from album.evaluation.cluster_scores import best_split_f
from album.evaluation.lfw_faces import load_lfw_faces
from album.people import PeopleService
from album.people.split import SPLIT_HEIGHT, plan_split
from album.people.synthetic import fill_catalog
from models.registry import get_spec


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/datasets/lfw"))
    p.add_argument("--split", default="test", choices=("dev", "test", "all"))
    p.add_argument("--model", default=None, help="embedding model (default: the default)")
    p.add_argument("--pairs", type=int, default=40, help="hardest pairs, and as many random")
    p.add_argument("--faces", type=int, default=2000, help="faces of the person timed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--height",
        type=float,
        nargs="+",
        default=[SPLIT_HEIGHT],
        help="split heights to compare, as shares of the model's threshold (tuning: dev split)",
    )
    p.add_argument(
        "--cfp",
        type=Path,
        metavar="DIR",
        help="CFP's people instead of LFW's (10 frontal photos and 4 real side views each)",
    )
    p.add_argument(
        "--ignore-pose",
        action="store_true",
        help="let side views shape the cut like any face (for comparison)",
    )
    args = p.parse_args()

    if args.cfp:
        cfp = load_cfp_faces(args.cfp, args.split, args.model)  # embedded once, cached
        faces, side = cfp.faces, cfp.profile
        model, x, labels = faces.model, faces.embeddings, faces.labels
        yaw = faces.yaw
        what = f"CFP people ({args.split} split, {int(side.sum())} real side views)"
    else:
        faces = load_lfw_faces(args.data, min_images=10, model=args.model, split=args.split)
        model, x, labels = faces.model, faces.embeddings, faces.labels
        side = np.zeros(len(x), dtype=bool)
        yaw = faces.yaw if faces.yaw is not None else np.zeros(len(x))
        what = f"people with >= 10 images ({args.split} split)"
    people = np.unique(labels)
    centres = np.stack([x[labels == i].mean(0) for i in people])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    d = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    upper = np.triu_indices(len(people), 1)
    order = np.argsort(d[upper])
    hardest = [(upper[0][i], upper[1][i]) for i in order[: args.pairs]]
    rng = np.random.default_rng(args.seed)
    rand = [tuple(rng.choice(len(people), 2, replace=False)) for _ in range(args.pairs)]
    if args.ignore_pose:
        yaw = np.zeros(len(x))
    print(f"model {model}; {len(people)} {what}, {len(x)} faces")
    threshold = get_spec(model).threshold
    for height in args.height:
        print(f"split height {height} x the model's threshold {threshold}")
        for title, pairs in (("hardest", hardest), ("random", rand)):
            scores, groups = [], []
            for a, b in pairs:
                rows = np.flatnonzero((labels == people[a]) | (labels == people[b]))
                sub = plan_split(x[rows], threshold=threshold, height=height, yaw=yaw[rows])
                scores.append(best_split_f(sub, labels[rows]))
                groups.append(int(sub.max()) + 1)
            s = np.array(scores)
            print(
                f"  {title:<8} {len(pairs)} merged pairs (mean faces "
                f"{np.mean([d[a, b] for a, b in pairs]) / threshold:.2f} x threshold apart): "
                f"best-split BCubed F mean {s.mean():.3f}, min {s.min():.3f}, >= 0.95 in "
                f"{int((s >= 0.95).sum())}; sub-groups offered: mean {np.mean(groups):.1f}, "
                f"max {max(groups)}"
            )
        # One person alone: how much of them a split offers apart from their main group.
        apart, cut, sides_apart = [], 0, []
        for i in people:
            rows = np.flatnonzero(labels == i)
            sub = plan_split(x[rows], threshold=threshold, height=height, yaw=yaw[rows])
            apart.append(float((sub != 0).mean()))
            cut += int(np.bincount(sub).min() >= max(2, 0.2 * len(rows))) if sub.max() else 0
            if side[rows].any():
                sides_apart.append(float((sub[side[rows]] != 0).mean()))
        print(
            f"  one person alone ({len(people)} people): share offered apart mean "
            f"{np.mean(apart):.3f}, max {np.max(apart):.3f}; cut in two groups of >= 20%: {cut}"
            + (
                f"; their side views offered apart: {np.mean(sides_apart):.3f}"
                if sides_apart
                else ""
            )
        )

    if args.cfp:
        return 0
    big = np.argsort([-(labels == i).sum() for i in people])
    rows = np.concatenate([np.flatnonzero(labels == people[i]) for i in big])[: args.faces]
    with tempfile.TemporaryDirectory() as tmp, Catalog(Path(tmp) / "split.db") as cat:
        ids = fill_catalog(cat, x[rows], np.arange(len(rows)), model_id=faces.model)
        svc = PeopleService(cat, faces.model)
        svc.recluster()
        pids = sorted({svc.person_of(f).person_id for f in ids if svc.person_of(f)})
        for pid in pids[1:]:
            svc.merge(pid, pids[0])
        n = len(svc.faces_of(pids[0]))
        times = []
        for _ in range(3):
            t = time.perf_counter()
            proposal = svc.split_proposal(pids[0])
            times.append(time.perf_counter() - t)
        print(
            f"one person of {n} faces ({len(pids)} groups merged, {len(np.unique(labels[rows]))} "
            f"people): split proposal in {min(times):.2f}-{max(times):.2f} s (3 runs), "
            f"{len(proposal.groups)} sub-groups"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
