"""``album eval cluster``: clustering quality on LFW through the whole pipeline."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from album.cli import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="LFW folder (one folder per person)")
    p.add_argument(
        "--min-images",
        type=int,
        default=10,
        help="people with at least this many images (10: 158 people, 4,324 faces)",
    )
    p.add_argument(
        "--split",
        choices=("all", "dev", "test"),
        default="all",
        help="people of one half of LFW only (album.evaluation.splits): tune on dev, "
        "report test (all)",
    )
    p.add_argument("--model", default=None, help="embedder name (see 'album models list')")
    p.add_argument("--method", choices=["hdbscan", "agglomerative"], default="hdbscan")
    p.add_argument(
        "--path",
        choices=["auto", "hdbscan", "graph"],
        default="auto",
        help="HDBSCAN on the vectors (hdbscan) or on the kNN graph (graph, used "
        "above 5,000 faces); default: by size",
    )
    p.add_argument(
        "--merge",
        type=float,
        default=None,
        help="average-linkage cut as a fraction of the threshold (default 0.85)",
    )
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")


def run_cluster(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from album.evaluation.cluster_scores import score_clustering
    from album.evaluation.lfw_faces import load_lfw_faces
    from album.people.clustering import ClusterReport, ClusterSettings, cluster
    from models.registry import DEFAULT_MODEL, WeightsMissingError, get_spec

    if not args.data.is_dir():
        raise UserError(f"{args.data}: not found; point --data at the LFW folder")
    model = args.model or DEFAULT_MODEL
    try:
        spec = get_spec(model)
        bars: list = []  # made on the first progress report: a cached run shows none

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(tqdm(total=total, desc="detect + embed", unit="step", leave=False))
            bars[0].n = done
            bars[0].refresh()

        faces = load_lfw_faces(
            args.data, args.min_images, model, args.device, progress=progress, split=args.split
        )
        for bar in bars:
            bar.close()
    except (WeightsMissingError, KeyError) as exc:
        raise UserError(str(exc)) from None
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    settings = ClusterSettings()
    if args.merge is not None:
        settings = replace(settings, merge=args.merge)
    report = ClusterReport()
    start = time.perf_counter()
    labels = cluster(
        faces.embeddings,
        faces.quality,
        method=args.method,
        threshold=spec.threshold,
        settings=settings,
        report=report,
        path=None if args.path == "auto" else args.path,
        yaw=faces.yaw,
    )
    seconds = time.perf_counter() - start
    s = score_clustering(faces.labels, labels)
    print(f"model          {model} (threshold {spec.threshold:.2f})")
    no_face = "unknown (cache from before splits)" if faces.no_face < 0 else faces.no_face
    print(
        f"faces          {s.faces} of {s.identities} people with >= {args.min_images} images, "
        f"split {args.split} ({no_face} without a detected face)"
    )
    print(
        f"method         {args.method} ({report.path} path), merge {settings.merge:g}, "
        f"{seconds:.1f} s"
    )
    print(
        f"pairwise       P {s.pairwise_precision:.4f}  R {s.pairwise_recall:.4f}  "
        f"F {s.pairwise_f:.4f}"
    )
    print(f"BCubed         P {s.bcubed_precision:.4f}  R {s.bcubed_recall:.4f}  F {s.bcubed_f:.4f}")
    print(
        f"clusters       {s.clusters} (+{s.singletons} faces alone) for {s.identities} identities"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "model": model,
                    "method": args.method,
                    "path": report.path,
                    "min_images": args.min_images,
                    "split": args.split,
                    "faces": s.faces,
                    "seconds": seconds,
                    "pairwise_precision": s.pairwise_precision,
                    "pairwise_recall": s.pairwise_recall,
                    "pairwise_f": s.pairwise_f,
                    "bcubed_precision": s.bcubed_precision,
                    "bcubed_recall": s.bcubed_recall,
                    "bcubed_f": s.bcubed_f,
                    "clusters": s.clusters,
                    "singletons": s.singletons,
                    "identities": s.identities,
                },
                indent=2,
            )
            + "\n"
        )
    return 0
