"""``album person NAME``: one person's faces, and every operation on a person."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli._people import face_ids, label, people_service

HELP = "show or change one person (name or id)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("person", metavar="NAME", help="a person's name or id (clusters: their id)")
    p.add_argument("--rename", metavar="NEW", help="rename (a name in use merges into its owner)")
    p.add_argument(
        "--confirm", nargs="*", metavar="FACE", help="confirm suggested faces (all, or those given)"
    )
    p.add_argument(
        "--add", nargs="+", metavar="FACE", help="move these faces to this person (confirmed)"
    )
    p.add_argument(
        "--split",
        nargs="+",
        metavar="FACE",
        help="take these faces out into a new person (or --into NAME)",
    )
    p.add_argument("--into", metavar="NAME", help="with --split: the person they go to")
    p.add_argument("--hide", action="store_true", help="hide from the People view")
    p.add_argument("--show", action="store_true", help="show again")
    p.add_argument("--cover", metavar="FACE", help="face shown as the person's cover")
    p.add_argument(
        "--born",
        metavar="YYYY-MM-DD",
        help="birth date (ages in the timeline; no earlier photo is grouped as them); "
        "'none' clears it",
    )
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from album.catalog.records import display_path

    with people_service(args) as svc:
        person = svc.find(args.person)
        changed = None
        if args.rename:
            person = svc.rename(person.id, args.rename)
            changed = f"now {label(person)}"
        if args.confirm is not None:
            n = svc.confirm(person.id, face_ids(args.confirm) if args.confirm else None)
            changed = f"{n} faces confirmed"
        if args.add:
            person = svc.move(face_ids(args.add), person.id)
            changed = f"{len(args.add)} faces moved to {label(person)}"
        if args.split:
            new = svc.split(person.id, face_ids(args.split), args.into)
            changed = f"{len(args.split)} faces split into {label(new)} (id {new.id})"
        elif args.into:
            raise UserError("--into goes with --split")
        if args.hide or args.show:
            if args.hide and args.show:
                raise UserError("--hide or --show, not both")
            person = svc.hide(person.id, args.hide)
            changed = "hidden" if args.hide else "shown"
        if args.cover:
            person = svc.set_cover(person.id, face_ids([args.cover])[0])
            changed = f"cover face {args.cover}"
        if args.born:
            born = None if args.born.strip().lower() == "none" else args.born
            person = svc.set_birth_date(person.id, born)
            changed = f"born {person.birth_date}" if person.birth_date else "no birth date"
        faces = svc.faces_of(person.id)
        rejected = svc.faces_of(person.id, ("rejected",))
        if args.json:
            print(
                json.dumps(
                    {
                        "id": person.id,
                        "name": person.name,
                        "hidden": person.hidden,
                        "cover_face": person.cover_face_id,
                        "birth_date": person.birth_date,
                        "faces": [
                            {"face": f.face_id, "source": f.source, "confidence": f.confidence}
                            for f in faces
                        ],
                        "rejected": [f.face_id for f in rejected],
                    }
                )
            )
            return 0
        if changed:
            print(f"{label(person)}: {changed}  ('album undo' reverts it)")
        print(
            f"{label(person)} (id {person.id}){' hidden' if person.hidden else ''}: "
            f"{len(faces)} faces, {len(rejected)} rejected"
            + (f", cover face {person.cover_face_id}" if person.cover_face_id else "")
            + (f", born {person.birth_date}" if person.birth_date else "")
        )
        for f in faces:
            stored = svc.catalog.face_path(f.face_id)
            path = display_path(stored) if stored else "-"
            conf = f" d={f.confidence:.2f}" if f.confidence is not None else ""
            print(f"  face {f.face_id:>7}  {f.source:<9}{conf:<8} {path}")
    return 0
