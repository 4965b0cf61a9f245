"""``album photos [--person P]... [--any] [--only [--no-strangers]] [--without P]...``: the
photos that show these people (only them, or without someone)."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli._people import label, people_service

HELP = "photos showing all of some people (or any), newest first"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--person",
        action="append",
        default=[],
        metavar="NAME_OR_ID",
        help="a person's name or id; repeat for photos showing all of them (none: every photo)",
    )
    p.add_argument("--any", action="store_true", help="photos showing any of the people given")
    p.add_argument(
        "--only",
        action="store_true",
        help="nobody else named or grouped in the photo (strangers in the background allowed)",
    )
    p.add_argument(
        "--no-strangers",
        action="store_true",
        help="with --only: no other face at all, not even one that belongs to no one",
    )
    p.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="NAME_OR_ID",
        help="leave out photos showing this person; repeat for several",
    )
    p.add_argument(
        "--oldest-first",
        action="store_true",
        help="oldest photo first: a person's photos by age (ages shown for birth dates)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from album.catalog.records import display_path
    from album.people.ages import age_text
    from album.people.photos import photos_with

    if args.only and not args.person:
        raise UserError("--only needs --person: the people the photos may show")
    if args.no_strangers and not args.only:
        raise UserError("--no-strangers goes with --only")
    with people_service(args) as svc:
        ids = [svc.find(ref).id for ref in args.person]
        without = [svc.find(ref).id for ref in args.without]
        photos = photos_with(
            svc.catalog,
            ids,
            any_=args.any,
            only=args.only,
            without=without,
            strangers=not args.no_strangers,
        )
        born = {q.id: b for q in svc.catalog.people() if (b := q.birth_date)}
    if args.oldest_first:
        photos.reverse()  # the query gives them newest first

    def age(person, photo) -> str | None:
        return age_text(born.get(person.id), photo.taken) if photo.exif_date else None

    if args.json:
        doc = [
            {
                "path": p.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                "taken": p.taken.isoformat(timespec="seconds"),
                "date_from": "exif" if p.exif_date else "file",
                "people": [
                    {"id": q.id, "name": q.name, **({"age": a} if (a := age(q, p)) else {})}
                    for q in p.people
                ],
            }
            for p in photos
        ]
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    for p in photos:
        when = p.taken.strftime("%Y-%m-%d %H:%M") + (" " if p.exif_date else "*")
        people = (
            ", ".join(label(q) + (f" ({a})" if (a := age(q, p)) else "") for q in p.people) or "-"
        )
        print(f"{when}  {display_path(p.path)}  [{people}]")
    footnote = "; * no EXIF date, the file's date" if any(not p.exif_date for p in photos) else ""
    print(f"{len(photos)} photos{footnote}")
    return 0
