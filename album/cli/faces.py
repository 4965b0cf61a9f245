"""``album faces PHOTO``: the faces the catalog holds for one photo."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from album.cli.scan import open_catalog

HELP = "list the faces found in a photo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", type=Path, metavar="PHOTO", help="a scanned photo file")
    p.add_argument(
        "--thumbnails",
        action="store_true",
        help="also make the face thumbnails (in the cache) and print their paths",
    )


def run(args: argparse.Namespace) -> int:
    from album.catalog.records import display_path
    from album.scan.thumbnails import ThumbnailError, Thumbnails

    with open_catalog(args, must_exist=True) as cat:
        photo = cat.photo_by_path(args.photo)
        if photo is None:
            raise UserError(f"{args.photo}: not in the catalog; scan its folder first")
        print(display_path(photo.path))
        size = f"{photo.width}x{photo.height}" if photo.width else "size unknown"
        print(
            f"  {size}, taken {photo.taken_at or 'unknown'}, status {photo.status}"
            + (f" ({photo.error})" if photo.error else "")
        )
        faces = cat.faces_of_photo(photo)
        print(f"  {len(faces)} face{'s' if len(faces) != 1 else ''}")
        names = {p.id: p.name or f"person {p.id}" for p in cat.people()}
        thumbs = Thumbnails(cat) if args.thumbnails else None
        for f in faces:
            left, top, right, bottom = (round(v) for v in f.box)
            labels = [
                f"{names.get(a.person_id, a.person_id)} ({a.source})" for a in cat.assignments(f.id)
            ]
            print(
                f"  face {f.id}  box ({left}, {top}, {right}, {bottom})  score {f.score:.3f}  "
                f"quality {f.quality:.2f}  models {','.join(cat.models_of_face(f.id)) or '-'}"
                + (f"  {'; '.join(labels)}" if labels else "")
            )
            if thumbs is not None:
                try:
                    print(f"    thumbnail {thumbs.face(f)}")
                except ThumbnailError as exc:
                    print(f"    no thumbnail: {exc}")
    return 0
