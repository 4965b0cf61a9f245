"""``album split PERSON``: a person who is really two or more people, regrouped into
sub-groups; ``--as K=NAME`` sends sub-group K to someone else (one undo step)."""

from __future__ import annotations

import argparse
import json
import shlex

from album.cli import UserError
from album.cli._people import label, people_service

HELP = "regroup a person who is really two or more people into sub-groups"
DESCRIPTION = (
    "Without --as: show the sub-groups. With --as: apply. The faces of one "
    "photo and faces marked 'not the same' are never in one sub-group; 'album undo' "
    "reverts a split."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("person", metavar="PERSON", help="a person's name or id")
    p.add_argument(
        "--groups",
        type=int,
        default=None,
        metavar="N",
        help="exactly N sub-groups (default: as the faces fall)",
    )
    p.add_argument(
        "--as",
        dest="choices",
        action="append",
        default=[],
        metavar="K=NAME",
        help="sub-group K goes to the person called NAME (made if nobody has it), or to a new "
        "unnamed person with K=new; sub-groups not named stay (repeatable)",
    )
    p.add_argument("--model", default=None, help="embedding model (default: the catalog's)")
    p.add_argument("--json", action="store_true", help="print the sub-groups as JSON")


def parse_choices(values: list[str], groups: int) -> dict[int, str]:
    """``["2=Bea", "3=new"]`` -> {1: "Bea", 2: ""} (0-based sub-group, "" a new person)."""
    out: dict[int, str] = {}
    for v in values:
        number, sep, name = v.partition("=")
        if not sep or not number.strip().isdigit() or not name.strip():
            raise UserError(f"--as {v!r}: write K=NAME (or K=new), K a sub-group number")
        k = int(number)
        if not 1 <= k <= groups:
            raise UserError(f"--as {v!r}: there are sub-groups 1 to {groups}")
        if k - 1 in out:
            raise UserError(f"--as: sub-group {k} is given twice")
        out[k - 1] = "" if name.strip().lower() == "new" else name.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from album.people.split import SplitPart

    if args.groups is not None and args.groups < 2:
        raise UserError("--groups: at least 2")
    with people_service(args) as svc:
        person = svc.find(args.person)
        proposal = svc.split_proposal(person.id, args.groups)
        groups = proposal.groups
        if args.choices:
            chosen = parse_choices(args.choices, len(groups))
            parts = [SplitPart(g.faces, chosen.get(i)) for i, g in enumerate(groups)]
            moved = svc.split_apart(person.id, parts)
            print(
                f"{svc.history(1)[0].summary}; {label(person)} keeps "
                f"{len(svc.faces_of(person.id))} faces, "
                + ", ".join(f"{label(p)} has {len(svc.faces_of(p.id))}" for p in moved)
                + " ('album undo' reverts it)"
            )
            return 0
        if args.json:
            print(
                json.dumps(
                    {
                        "person": person.id,
                        "name": person.name,
                        "keep": proposal.keep + 1,
                        "groups": [
                            {
                                "number": i + 1,
                                "faces": list(g.faces),
                                "confirmed": g.confirmed,
                                "photos": g.photos,
                            }
                            for i, g in enumerate(groups)
                        ],
                    }
                )
            )
            return 0
        total = sum(len(g.faces) for g in groups)
        if len(groups) == 1:
            print(
                f"{label(person)}: the {total} faces look like one person; "
                f"'album split {args.person} --groups 2' cuts them in two anyway"
            )
            return 0
        print(f"{label(person)} (id {person.id}): {total} faces in {len(groups)} sub-groups")
        for i, g in enumerate(groups):
            stays = f"  (stays {label(person)})" if i == proposal.keep else ""
            best = " ".join(str(f) for f in g.faces[:6])
            print(
                f"  {i + 1}. {len(g.faces)} faces in {g.photos} photos, {g.confirmed} confirmed"
                f"{stays}; best faces: {best}"
            )
        other = next(i for i in range(len(groups)) if i != proposal.keep) + 1
        print(
            f"Apply with: album split {shlex.quote(args.person)} --as {other}=NAME "
            f"(or {other}=new); sub-groups not named stay"
        )
    return 0
