"""``album cluster``: recognise known people and group the other faces into clusters."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli._people import people_service
from album.people.keys import ASSIGN_KEY, METHOD_KEY, THRESHOLD_KEY

HELP = "recognise known people, cluster the other faces"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        choices=["hdbscan", "agglomerative"],
        help="clustering method (default: hdbscan, or the catalog's setting)",
    )
    p.add_argument(
        "--assign-below",
        metavar="F",
        help="assign a face to a person without asking below this fraction of the "
        "same-person threshold (default 0.76; 'off': only suggestions); saved in the catalog",
    )
    p.add_argument(
        "--threshold",
        metavar="F",
        type=float,
        help="same-person threshold as a fraction of the model's (default 1; the app's "
        "Settings set the same value); saved in the catalog",
    )
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    from album.people.settings import PeopleSettings

    with people_service(args) as svc:
        if args.assign_below is not None:
            value = args.assign_below.strip().lower()
            if value != "off":
                try:
                    ok = 0 < float(value) <= 1.5
                except ValueError:
                    ok = False
                if not ok:
                    raise UserError("--assign-below takes a fraction (0 to 1.5) or 'off'")
            svc.catalog.set_setting(ASSIGN_KEY, value)
        if args.threshold is not None:
            if not 0.5 <= args.threshold <= 1.5:
                raise UserError("--threshold takes a fraction of the model's, from 0.5 to 1.5")
            svc.catalog.set_setting(THRESHOLD_KEY, f"{args.threshold:.2f}")
        if args.method:
            svc.catalog.set_setting(METHOD_KEY, args.method)
        svc.settings = replace(PeopleSettings.from_catalog(svc.catalog))
        if not svc.catalog.embeddings(svc.model_id)[0].size:
            raise UserError(f"no faces embedded with {svc.model_id}; run 'album scan DIR' first")
        r = svc.recluster()
        if args.json:
            print(json.dumps(asdict(r)))
            return 0
        print(f"faces        {r.faces} ({r.confirmed} confirmed by you, untouched)")
        print(f"recognised   {r.assigned} assigned, {r.suggested} suggested (to confirm)")
        print(
            f"clustered    {r.clustered} faces in {r.clusters} clusters ({r.new_clusters} new, "
            f"{r.dropped_clusters} gone); {r.alone} faces alone"
        )
        print(f"time         {r.seconds:.1f} s ({r.path or '-'})")
        print("'album people' lists them; 'album name CLUSTER NAME' names one")
    return 0
