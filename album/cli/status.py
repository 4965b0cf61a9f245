"""``album status [--errors]``: what the catalog holds, and which files could not be read."""

from __future__ import annotations

import argparse
import json

from album.cli.scan import open_catalog

HELP = "photos, faces and errors in the catalog"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--errors",
        action="store_true",
        help="list the files that could not be read, with the reason",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from album.catalog.records import display_path
    from album.scan.model_switch import switch_offer

    with open_catalog(args, must_exist=True) as cat:
        c = cat.counts()
        offer = switch_offer(cat)
        runs = cat.scan_runs(limit=1)
        errors = cat.errors() if args.errors else []
        if args.json:
            out = {
                "catalog": str(cat.path),
                "schema": cat.version,
                "model": cat.model,
                "folders": [f.path for f in cat.folders()],
                "photos": c.photos,
                "done": c.photos_done,
                "errors": c.photos_error,
                "missing": c.photos_missing,
                "faces": c.faces,
                "faces_missing": c.faces_missing,
                "people": c.people,
                "embeddings": c.embeddings,
                "better_model": offer.proposed if offer else None,
            }
            if args.errors:
                out["error_files"] = [
                    {"path": display_path(p.path), "reason": p.error} for p in errors
                ]
            print(json.dumps(out))
            return 0
        print(f"catalog    {cat.path} (schema {cat.version})")
        print(f"model      {cat.model or '-'}")
        print(f"folders    {c.folders}")
        for f in cat.folders():
            print(f"           {display_path(f.path)}  (last scan {f.last_scan_at or 'never'})")
        print(
            f"photos     {c.photos} ({c.photos_done} done, {c.photos_error} errors, "
            f"{c.photos_missing} missing)"
        )
        embedded = ", ".join(f"{m} {n}" for m, n in sorted(c.embeddings.items())) or "none"
        print(f"faces      {c.faces} ({c.faces_missing} in missing photos); embeddings: {embedded}")
        print(f"people     {c.people}")
        if runs:
            r = runs[0]
            print(
                f"last run   #{r.id} {r.kind} {r.status} {r.started_at}: "
                f"{r.photos_done}/{r.photos_total} photos, {r.faces_found} faces, "
                f"{r.errors} errors"
            )
        if args.errors:
            print(f"\n{len(errors)} files could not be read:")
            for p in errors:
                print(f"  {display_path(p.path)}: {p.error}")
        elif c.photos_error:
            print("'album status --errors' lists the files that could not be read")
        if offer:
            print(f"\n{offer.words()}\nTo switch: album reembed --model {offer.proposed}")
    return 0
