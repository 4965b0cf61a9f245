"""``album identify PHOTO``: who is in this photo (catalogued or not)?"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from album.cli import UserError
from album.cli._people import people_service

HELP = "find the known people in a photo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", type=Path, metavar="PHOTO")
    p.add_argument("--min-face", type=int, default=40, help="smallest face in pixels (40)")
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from album.images import ImageError, load_image
    from album.people.recognition import ASSIGN, SUGGEST
    from models.detector import FaceDetector
    from models.embedder import Embedder
    from models.registry import WeightsMissingError

    try:
        image = load_image(args.photo, max_side=2000).rgb
    except ImageError as exc:
        raise UserError(f"{args.photo}: {exc}") from None
    with people_service(args) as svc:
        try:
            embedder = Embedder(svc.model_id, device=args.device)
        except (WeightsMissingError, KeyError) as exc:
            raise UserError(str(exc)) from None
        detector = FaceDetector(min_face_size=args.min_face, device=embedder.device)
        faces = sorted(detector.detect(image), key=lambda f: float(f.box[0]))
        vectors = embedder.embed(image, faces) if faces else None
        matches = svc.identify(vectors) if faces else []
        names = {p.id: p.name or f"cluster {p.id}" for p in svc.catalog.people()}
        out = []
        for i, (f, m) in enumerate(zip(faces, matches, strict=True), 1):
            box = [round(float(v)) for v in f.box]
            p = float(svc.probability(m.distance)) if m.distance is not None else None
            out.append(
                {
                    "face": i,
                    "box": box,
                    "decision": m.decision,
                    "person": names.get(m.person) if m.person is not None else None,
                    "person_id": m.person,
                    "distance": m.distance,
                    "probability": p,
                }
            )
        if args.json:
            print(json.dumps(out))
            return 0
        print(
            f"{args.photo}: {len(faces)} face{'s' if len(faces) != 1 else ''} "
            f"(model {svc.model_id}, threshold {svc.threshold:.2f})"
        )
        for r in out:
            where = f"box ({', '.join(map(str, r['box']))})"
            if r["decision"] in (ASSIGN, SUGGEST):
                sure = "" if r["decision"] == ASSIGN else " (probably)"
                print(
                    f"  face {r['face']}  {where}  {r['person']}{sure}  "
                    f"distance {r['distance']:.3f}  P(same) {r['probability']:.2f}"
                )
            else:
                near = (
                    f"; nearest known person at {r['distance']:.3f}"
                    if r["distance"] is not None
                    else ""
                )
                print(f"  face {r['face']}  {where}  unknown{near}")
    return 0
