"""Is P(same) honest for pairs with real side views? A reliability table on CFP's test people.

Every face of CFP (``album.evaluation.cfp``, as it sits in a photo) is embedded with the model;
pairs are drawn per pose class (frontal-frontal, frontal-side view, side view-side view), all
same-person pairs and as many random different-person pairs (a balanced prior, as the
registry's calibration assumes). A logistic calibration is fitted per class on the ``dev``
people, and the shown-versus-observed table is printed for the ``test`` people, for that fit
and for the model's registry calibration (fitted on LFW, where side views are rare).

    python benchmarks/side_view_calibration.py --cfp ../shared/datasets/cfp-dev
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from album.evaluation.cfp import detect_cfp, embed_cfp, read_cfp
from album.evaluation.splits import person_split
from models.embedder import Embedder
from models.registry import DEFAULT_MODEL, logistic_calibration

CLASSES = {
    "frontal-frontal": (False, False),
    "frontal-side": (False, True),
    "side-side": (True, True),
}


def balanced_pairs(
    emb: np.ndarray,
    profile: np.ndarray,
    person: np.ndarray,
    rows: np.ndarray,
    kind: tuple,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances and truths: every same-person pair of the class, as many different ones."""
    a = rows[profile[rows] == kind[0]]
    b = rows[profile[rows] == kind[1]]
    d = np.linalg.norm(emb[a][:, None] - emb[b][None], axis=2)
    same = person[a][:, None] == person[b][None]
    keep = np.triu(np.ones_like(same), 1) if kind[0] == kind[1] else np.ones_like(same)
    d, same = d[keep], same[keep]
    pos = np.flatnonzero(same)
    neg = rng.choice(np.flatnonzero(~same), min(len(pos), int((~same).sum())), replace=False)
    k = np.concatenate([pos, neg])
    return d[k], same[k]


def table(p: np.ndarray, same: np.ndarray, min_count: int = 20) -> list[str]:
    rows = []
    for lo in np.arange(0.0, 1.0, 0.1):
        m = (p >= lo) & ((p < lo + 0.1) | (lo >= 0.9))
        if m.sum() >= min_count:
            rows.append(
                f"    {lo:.1f}-{lo + 0.1:.1f}  shown {p[m].mean():.2f}  observed "
                f"{same[m].mean():.2f}  pairs {int(m.sum())}"
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfp", type=Path, required=True, help="CFP folder (Data/, Protocol/)")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    data = read_cfp(args.cfp)
    rows = list(range(len(data.images)))
    faces = detect_cfp(data, rows)
    embedder = Embedder(args.model)
    emb = embed_cfp(data, rows, faces, embedder)
    profile = np.array([im.profile for im in data.images])
    person = np.array([im.person for im in data.images])
    half = np.array([person_split(p) for p in person])
    rng = np.random.default_rng(args.seed)
    print(f"model {embedder.name}; CFP faces as in a photo; fitted on dev people, shown: test")
    for name, kind in CLASSES.items():
        dev = np.flatnonzero(faces.found & (half == "dev"))
        test = np.flatnonzero(faces.found & (half == "test"))
        d, s = balanced_pairs(emb, profile, person, dev, kind, rng)
        slope, mid = logistic_calibration(d, s)
        dt, st = balanced_pairs(emb, profile, person, test, kind, rng)
        print(f"{name}: dev fit slope {slope:.2f} midpoint {mid:.4f} ({len(d)} pairs)")
        print("  dev fit on test people:")
        print("\n".join(table(1.0 / (1.0 + np.exp(slope * (dt - mid))), st)))
        print("  registry calibration on test people:")
        print("\n".join(table(np.asarray(embedder.spec.probability_same(dt)), st)))


if __name__ == "__main__":
    main()
