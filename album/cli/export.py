"""``album export``: folders per person (copies or links), CSV/JSON, XMP sidecars."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli import UserError
from album.cli._people import people_service

HELP = "export people: folders, CSV/JSON, XMP sidecars (originals are never changed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by-person",
        type=Path,
        metavar="DIR",
        help="a folder per named person with the photos showing them",
    )
    p.add_argument(
        "--link",
        choices=["copy", "hardlink", "symlink"],
        default="copy",
        help="with --by-person: copy the photos (default) or link them",
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="one row per labelled face")
    p.add_argument("--json", type=Path, metavar="FILE", help="people and their faces")
    p.add_argument(
        "--xmp",
        type=Path,
        metavar="DIR",
        help="XMP sidecars with MWG face regions, mirroring the photos' paths",
    )
    p.add_argument(
        "--xmp-name",
        choices=["ext", "base"],
        default="ext",
        help="sidecar names: photo.jpg.xmp (ext, digiKam) or photo.xmp (base, Adobe)",
    )
    p.add_argument(
        "--confirmed-only",
        action="store_true",
        help="only faces you confirmed (not the machine's assignments)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="with --xmp: replace sidecars that another program wrote",
    )


def run(args: argparse.Namespace) -> int:
    from album.people import export as ex

    if not (args.by_person or args.csv or args.json or args.xmp):
        raise UserError("say what to export: --by-person DIR, --csv FILE, --json FILE or --xmp DIR")
    with people_service(args) as svc:
        cat = svc.catalog
        try:
            if args.by_person:
                s = ex.export_by_person(
                    cat, args.by_person, args.link, confirmed_only=args.confirmed_only
                )
                print(
                    f"{args.by_person}: {s.people} people, {s.photos} photos, {s.files} "
                    f"files {'copied' if args.link == 'copy' else 'linked'}, "
                    f"{s.skipped} already there or skipped"
                )
            if args.csv:
                print(f"{args.csv}: {ex.export_csv(cat, args.csv)} faces")
            if args.json:
                print(f"{args.json}: {ex.export_json(cat, args.json)} people")
            if args.xmp:
                s = ex.export_xmp(cat, args.xmp, args.xmp_name, args.confirmed_only, args.overwrite)
                print(
                    f"{args.xmp}: {s.files} sidecars for {s.photos} photos of {s.people} "
                    f"people ({s.skipped} skipped)"
                )
        except ex.ExportError as exc:
            raise UserError(str(exc)) from None
    return 0
