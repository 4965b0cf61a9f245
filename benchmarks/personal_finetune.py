"""Does "Improve recognition from my labels" pay off? A simulated user on a family album.

    .venv/bin/python benchmarks/personal_finetune.py --split test --people 15 --ks 2,5,10

1. A validation album of LFW people of one split (``album.evaluation.splits``: tune on ``dev``,
   report on ``test``), made by ``benchmarks/make_album.py`` (``--damage``: small, blurred,
   turned, grey, JPEG-damaged faces; 2000x1500 photos with 1 to 6 faces), cast from people with
   at least ``--min-images`` LFW images so that an unlabelled face is seldom a copy of a
   confirmed one; scanned into a catalog with the app's own scanner. Both are kept in
   ``--work`` and reused.
2. For each k: a copy of the catalog where the user confirmed k faces of every person (drawn at
   random among their detected faces) and the app re-grouped; then
   ``training.personal.personal_fine_tune`` (timed: this is the user's wait), and, when the
   model is kept, ``adopt`` (switch + re-group with it).
3. Scored on the unlabelled faces of the cast (detected faces the user did not confirm):
   identification accuracy (1:K against the confirmed faces, the k=3 nearest as the app's
   recognition does) and BCubed F of the app's grouping, before and after. A head that was not
   kept leaves the album as it was; the head's own figure is reported beside for transparency.

``--repeats N`` plays N users per k (other random confirmed faces); ``--oracle`` adds the
bound of a head trained on the truth of every scored face; ``--general-lfw`` uses LFW's View 1
test pairs as the general check (the first run embeds them, 3-4 min; cached). Figures go to
stdout and, with ``--json``, to a file. Measured figures: ``training/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

log = logging.getLogger("personal_finetune")


def make_scanned_album(args: argparse.Namespace) -> tuple[Path, Path, dict]:
    """The album folder, its scanned catalog and its truth (made once per setting)."""
    import make_album

    folder = args.work / f"album-{args.split}-{args.people}x{args.photos}-seed{args.seed}"
    if not (folder / "truth.json").is_file():
        # A cast of people with many images: confirmed and unlabelled faces come from
        # different source photos (make_album reuses a source only once all are used).
        make_album.MIN_IMAGES = args.min_images
        make_album.make_album(
            args.lfw,
            folder,
            args.photos,
            size=(2000, 1500),
            faces=(1, 6),
            seed=args.seed,
            split=args.split,
            damage=make_album.Damage(),
            people=args.people,
            per_person=40,
        )
    truth = json.loads((folder / "truth.json").read_text())
    db = folder.with_suffix(".db")
    if not db.is_file():
        from album.cli import main as album_main

        tmp = db.with_suffix(".tmp.db")
        tmp.unlink(missing_ok=True)
        if album_main(["--library", str(tmp), "scan", str(folder)]) != 0:
            raise RuntimeError("scan failed")
        os.replace(tmp, db)
    return folder, db, truth


def simulate_user(db: Path, folder: Path, truth: dict, k: int, seed: int, repeat: int = 0):
    """Confirm k random faces of every cast member (as the app's person page does) and let
    the app re-group. Returns (face -> identity of the scored unlabelled faces, confirmed)."""
    from album.catalog import Catalog
    from album.evaluation.queue_sim import match_album
    from album.people.service import PeopleService

    rng = random.Random(seed * 100_000 + repeat * 1000 + k)
    with Catalog(db) as cat:
        match = match_album(cat, folder, truth)
        ids, _ = cat.embeddings(cat.model)
        embedded = set(ids.tolist())
        by_person: dict[str, list[int]] = {}
        for face, who in sorted(match.identity.items()):
            if who is not None and face in embedded:
                by_person.setdefault(who, []).append(face)
        svc = PeopleService(cat)
        confirmed: set[int] = set()
        for who, faces in sorted(by_person.items()):
            if len(faces) <= k:  # nothing would be left to score
                continue
            chosen = rng.sample(faces, k)
            person = svc.enroll(chosen[0], who)
            svc.move(chosen[1:], person.id)
            confirmed |= set(chosen)
        svc.recluster()
    scored = {
        f: who
        for who, faces in by_person.items()
        for f in faces
        if f not in confirmed and len(faces) > k
    }
    return scored, confirmed, match.records


def measure(db: Path, scored: dict[int, str], matrix: np.ndarray | None = None) -> dict:
    """Identification accuracy and BCubed F on the scored faces, with the catalog's model;
    ``matrix``: the identification a head would give (the grouping is the catalog's)."""
    from album.catalog import Catalog
    from album.evaluation.cluster_scores import score_clustering
    from album.evaluation.queue_sim import current_labels
    from album.people.service import PeopleService
    from training.head import apply_matrix
    from training.personal_data import personal_data
    from training.personal_heldout import identify

    with Catalog(db) as cat:
        data = personal_data(cat)
        svc = PeopleService(cat)
        faces = sorted(scored)
        labels = current_labels(svc, faces)
    emb = data.embeddings if matrix is None else apply_matrix(data.embeddings, matrix)
    row = {int(f): i for i, f in enumerate(data.face_ids)}
    gallery = np.flatnonzero(data.labels >= 0)
    names = {i: n for i, (_, n) in enumerate(data.people)}
    rows = np.array([row[f] for f in faces])
    pred = identify(emb[gallery], data.labels[gallery], emb[rows])
    truth = [scored[f] for f in faces]
    right = [names[int(p)] == t for p, t in zip(pred, truth, strict=True)]
    bc = score_clustering(np.array(truth), labels)
    return {
        "faces": len(faces),
        "identification": sum(right) / len(faces),
        "errors": len(faces) - sum(right),
        "bcubed_f": bc.bcubed_f,
        "wrong": [f for f, ok in zip(faces, right, strict=True) if not ok],
    }


def oracle_identification(db: Path, scored: dict[int, str], settings) -> float:
    """What the best head could do: trained on the truth of every face, the scored ones
    included (cheating), then scored the same way. An upper bound for a linear head."""
    from album.catalog import Catalog
    from models.registry import DEFAULT_MODEL, get_spec
    from training.head import apply_matrix
    from training.personal_data import personal_data, relations
    from training.personal_fit import fit_head, margin_for
    from training.personal_heldout import identify

    with Catalog(db) as cat:
        data = personal_data(cat)
        threshold = get_spec(cat.model or DEFAULT_MODEL).threshold
    names = [n for _, n in data.people]
    row = {int(f): i for i, f in enumerate(data.face_ids)}
    gallery = np.flatnonzero(data.labels >= 0)
    cheat = data.labels.copy()
    for f, who in scored.items():
        cheat[row[f]] = names.index(who)
    data.labels = cheat
    m, _ = fit_head(
        data.embeddings, relations(data), margin_for(threshold, settings.margin_scale), settings
    )
    emb = apply_matrix(data.embeddings, m)
    faces = sorted(scored)
    rows = np.array([row[f] for f in faces])
    pred = identify(emb[gallery], cheat[gallery], emb[rows])
    return float(np.mean([names[int(p)] == scored[f] for p, f in zip(pred, faces, strict=True)]))


DAMAGE = {
    "small (<= 60 px)": lambda r: r["damage"]["width"] <= 60,
    "blurred": lambda r: r["damage"]["blur"] > 0,
    "rotated": lambda r: r["damage"]["rotation"] != 0,
    "turned (|yaw| >= 25)": lambda r: abs(r["yaw"]) >= 25,
    "grey": lambda r: r["damage"]["grayscale"],
    "JPEG q < 50": lambda r: r["damage"]["jpeg_quality"] < 50,
}


def damage_counts(faces, records: dict[int, dict]) -> dict[str, int]:
    return {
        k: sum(bool(test(records[f])) for f in faces if f in records) for k, test in DAMAGE.items()
    }


def run_k(
    args, folder: Path, base_db: Path, truth: dict, k: int, settings, repeat: int = 0
) -> dict:
    from training.personal import adopt, personal_fine_tune

    db = args.work / f"k{k}-{os.getpid()}.db"
    shutil.copyfile(base_db, db)
    try:
        scored, confirmed, records = simulate_user(db, folder, truth, k, args.seed, repeat)
        before = measure(db, scored)
        oracle = oracle_identification(db, scored, settings) if args.oracle else None
        start = time.perf_counter()
        result = personal_fine_tune(
            db,
            f"bench-personal-k{k}",
            settings=settings,
            lfw=args.lfw if args.general_lfw else None,
        )
        seconds = time.perf_counter() - start
        head = measure(db, scored, result.matrix)
        adopt_seconds = 0.0
        if result.kept and not args.no_adopt:
            t = time.perf_counter()
            adopt(db, result)
            adopt_seconds = time.perf_counter() - t
            after = measure(db, scored)
        else:
            after = before
        return {
            "k": k,
            "repeat": repeat,
            "people": result.people,
            "confirmed": len(confirmed),
            "before": before,
            "after": after,
            "head_identification": head["identification"],
            "oracle_identification": oracle,
            "damage_of_errors": damage_counts(before["wrong"], records),
            "damage_of_all": damage_counts(list(scored), records),
            "kept": result.kept,
            "summary": result.summary(),
            "held_out": result.figures()["held_out"],
            "general": result.figures()["general"],
            "train_seconds": seconds,
            "adopt_seconds": adopt_seconds,
        }
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        backups = db.parent / "backups"
        if backups.is_dir():
            for f in backups.glob(f"{db.stem}-*"):
                f.unlink()


def main(argv: list[str] | None = None) -> int:
    from training.personal_fit import PersonalSettings

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lfw", type=Path, default=Path("../shared/datasets/lfw"))
    p.add_argument("--split", choices=("dev", "test"), default="test")
    p.add_argument("--people", type=int, default=15)
    p.add_argument("--photos", type=int, default=150)
    p.add_argument("--min-images", type=int, default=20, help="LFW images per cast member")
    p.add_argument("--ks", default="2,5,10", help="confirmed faces per person (2,5,10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, help="where the album and catalogs go (kept, reused)")
    p.add_argument(
        "--general-lfw", action="store_true", help="general check on LFW pairs (else album pairs)"
    )
    tunable = [f for f in fields(PersonalSettings) if f.name != "seed"]
    for f in tunable:
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    p.add_argument("--repeats", type=int, default=1, help="simulated users per k (seeds)")
    p.add_argument(
        "--no-adopt", action="store_true", help="do not re-group with a kept model (tuning)"
    )
    p.add_argument(
        "--oracle", action="store_true", help="also the bound: a head trained on the truth"
    )
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    args.work = args.work or Path(tempfile.gettempdir()) / "album-personal-bench"
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ALBUM_MODELS_DIR", str(args.work / "models"))
    settings = PersonalSettings(**{f.name: getattr(args, f.name) for f in tunable})
    folder, db, truth = make_scanned_album(args)
    rows = []
    print(f"album {folder.name} ({args.split} people), settings {asdict(settings)}")
    print(
        f"{'k':>3} {'faces':>6} {'ident before':>13} {'after':>7} {'errors':>9} "
        f"{'BCubed F before':>16} {'after':>7} {'kept':>5} {'train s':>8}"
    )
    for k in [int(x) for x in args.ks.split(",")]:
        runs = []
        for repeat in range(args.repeats):
            r = run_k(args, folder, db, truth, k, settings, repeat)
            runs.append(r)
            b, a = r["before"], r["after"]
            print(
                f"{k:>3} {b['faces']:>6} {100 * b['identification']:>12.1f}% "
                f"{100 * a['identification']:>6.1f}% {b['errors']:>3}->{a['errors']:<3} "
                f"{100 * b['bcubed_f']:>15.1f}% {100 * a['bcubed_f']:>6.1f}% "
                f"{'yes' if r['kept'] else 'no':>5} {r['train_seconds']:>8.1f}"
            )
            head = 100 * r["head_identification"]
            print(f"    the head alone (kept or not): {head:.1f}%. {r['summary']}")
        before = sum(r["before"]["errors"] for r in runs)
        after = sum(r["after"]["errors"] for r in runs)
        head = sum(round(r["before"]["faces"] * (1 - r["head_identification"])) for r in runs)
        faces = sum(r["before"]["faces"] for r in runs)
        cut = (before - after) / before if before else 0.0
        if args.oracle:
            bound = sum(
                round(r["before"]["faces"] * (1 - r["oracle_identification"])) for r in runs
            )
            print(f"  k={k}: a head trained on the truth of every face (cheating) errs on {bound}")
        wrong = {d: sum(r["damage_of_errors"][d] for r in runs) for d in DAMAGE}
        every = {d: sum(r["damage_of_all"][d] for r in runs) for d in DAMAGE}
        print(
            "  base errors by damage: "
            + ", ".join(
                f"{d} {wrong[d]}/{before} (of all faces {every[d] / faces:.0%})" for d in DAMAGE
            )
        )
        print(
            f"  k={k}, {len(runs)} users: errors {before} -> {after} of {faces} faces "
            f"({100 * cut:+.0f}% fewer; the head alone {head}); kept "
            f"{sum(r['kept'] for r in runs)} of {len(runs)}; train "
            f"{max(r['train_seconds'] for r in runs):.1f} s at most"
        )
        rows.append(
            {
                "k": k,
                "runs": runs,
                "errors_before": before,
                "errors_after": after,
                "errors_head": head,
                "faces": faces,
                "error_reduction": cut,
            }
        )
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
