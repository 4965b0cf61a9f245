"""``album cluster``: recognise known people and group the other faces into clusters."""

from __future__ import annotations

import argparse
import json

from album.cli import UserError
from album.cli._people import people_service


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cluster", help="recognise known people, cluster the other faces")
    p.add_argument(
        "--method",
        choices=["hdbscan", "agglomerative"],
        help="clustering method (default: hdbscan, or the catalog's setting)",
    )
    p.add_argument(
        "--assign-below",
        metavar="D",
        help="distance under which a face is assigned to a person without asking "
        "(default 0.32; 'off': only suggestions); saved in the catalog",
    )
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    from album.people.service import PeopleSettings

    with people_service(args) as svc:
        if args.assign_below is not None:
            value = args.assign_below.strip().lower()
            if value != "off":
                try:
                    float(value)
                except ValueError:
                    raise UserError("--assign-below takes a distance or 'off'") from None
            svc.catalog.set_setting("people.assign_below", value)
        if args.method:
            svc.catalog.set_setting("people.method", args.method)
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
