"""Cluster 100,000 faces: seconds, peak memory and BCubed F of the default clustering.

    .venv/bin/python benchmarks/cluster_scale.py --data ../shared/datasets/lfw [--faces 100000]

The faces are real: the LFW embeddings of ``album eval cluster`` (people with >= 10 images,
4,324 faces of 158 people, cached after the first run), copied into as many "families" as
needed. Each family is the whole set turned by its own random rotation of the embedding space,
so it keeps LFW's real same-person spread and look-alikes, while different families are
different people; every copy gets a small perturbation (renormalized). 100,000 faces are 23
whole families and part of a 24th: 3,658 identities.

Prints the clustering's wall time (kNN graph, HDBSCAN, merging, attaching), peak RSS of the
process, and pairwise / BCubed scores against the true identities. ``--json`` writes them.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def scaled_faces(
    x: np.ndarray, labels: np.ndarray, faces: int, noise: float = 0.003, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``faces`` unit vectors and labels from rotated, perturbed copies of (x, labels)."""
    rng = np.random.default_rng(seed)
    families = -(-faces // len(x))
    out, lab = [], []
    for f in range(families):
        rot = np.eye(x.shape[1]) if f == 0 else random_rotation(x.shape[1], rng)
        y = x @ rot.T + noise * rng.standard_normal(x.shape)
        out.append((y / np.linalg.norm(y, axis=1, keepdims=True)).astype(np.float32))
        lab.append(labels + f * (labels.max() + 1))
    return np.concatenate(out)[:faces], np.concatenate(lab)[:faces]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def service_run(x: np.ndarray, quality: np.ndarray) -> dict:
    """Fill a temporary catalog (one face per photo) and time ``PeopleService.recluster``."""
    import tempfile

    from album.catalog import Catalog
    from album.people.service import PeopleService
    from album.people.synthetic import fill_catalog

    with tempfile.TemporaryDirectory() as tmp, Catalog(Path(tmp) / "scale.db") as cat:
        t = time.perf_counter()
        fill_catalog(cat, x, np.arange(len(x)), quality=quality)
        filled = time.perf_counter() - t
        t = time.perf_counter()
        r = PeopleService(cat).recluster()
        return {
            "fill_seconds": filled,
            "recluster_seconds": time.perf_counter() - t,
            "clusters": r.clusters,
            "peak_rss_mb": peak_rss_mb(),
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "lfw")
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--min-images", type=int, default=10)
    ap.add_argument("--method", default="hdbscan", choices=["hdbscan", "agglomerative"])
    ap.add_argument(
        "--noise",
        type=float,
        default=0.003,
        help="per-dimension perturbation of each copy (0.003: about 0.03 in distance)",
    )
    ap.add_argument(
        "--service",
        action="store_true",
        help="also store the faces in a temporary catalog and time a full "
        "PeopleService.recluster() (load, recognise, cluster, write)",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from album.evaluation.cluster_scores import score_clustering
    from album.evaluation.lfw_faces import load_lfw_faces
    from album.people.clustering import ClusterReport, cluster
    from models.registry import get_spec

    base = load_lfw_faces(args.data, args.min_images)
    model = base.model
    x, truth = scaled_faces(base.embeddings, base.labels, args.faces, args.noise)
    quality = np.resize(base.quality, len(x))
    del base
    t = time.perf_counter()
    import hdbscan  # noqa: F401  (imported once per process; timed apart)

    import_seconds = time.perf_counter() - t
    rss_before = peak_rss_mb()
    report = ClusterReport()
    start = time.perf_counter()
    threshold = get_spec(model).threshold  # the faces' model's own
    labels = cluster(x, quality, method=args.method, threshold=threshold, report=report)
    seconds = time.perf_counter() - start
    rss = peak_rss_mb()
    s = score_clustering(truth, labels)
    times = ", ".join(f"{k} {v:.1f}" for k, v in report.times.items())
    print(f"faces            {len(x)} ({len(np.unique(truth))} identities), {model}")
    print(
        f"clustering       {seconds:.1f} s ({report.path} path; {times}); importing "
        f"hdbscan took {import_seconds:.1f} s more"
    )
    print(f"peak RSS         {rss:.0f} MiB (before clustering {rss_before:.0f} MiB)")
    print(
        f"pairwise         P {s.pairwise_precision:.4f}  R {s.pairwise_recall:.4f}  "
        f"F {s.pairwise_f:.4f}"
    )
    print(
        f"BCubed           P {s.bcubed_precision:.4f}  R {s.bcubed_recall:.4f}  F {s.bcubed_f:.4f}"
    )
    print(
        f"clusters         {s.clusters} (+{s.singletons} faces alone) for {s.identities} identities"
    )
    figures = {}
    if args.service:
        figures = service_run(x, quality)
        print(
            f"recluster        {figures['recluster_seconds']:.1f} s for a catalog of "
            f"{len(x)} faces (storing them took {figures['fill_seconds']:.0f} s); "
            f"peak RSS {figures['peak_rss_mb']:.0f} MiB"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "faces": len(x),
                    "seconds": seconds,
                    "import_seconds": import_seconds,
                    "peak_rss_mb": rss,
                    "path": report.path,
                    "times": report.times,
                    **s.as_dict(),
                    "service": figures,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
