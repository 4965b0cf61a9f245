"""Shared pieces of the People commands (cluster, people, person, name, merge, reject, verify,
identify, queue, undo, export, import)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from album.cli import UserError


@contextlib.contextmanager
def people_service(args: argparse.Namespace) -> Iterator:
    """The catalog of ``--library`` and a ``PeopleService`` on it; PeopleError -> UserError."""
    from album.cli.scan import open_catalog
    from album.people.errors import PeopleError
    from album.people.service import PeopleService
    from models.registry import UnknownModelError

    with open_catalog(args, must_exist=True) as cat:
        try:
            yield PeopleService(cat, getattr(args, "model", None))
        except PeopleError as exc:
            raise UserError(str(exc)) from None
        except UnknownModelError as exc:
            raise UserError(str(exc)) from None


def face_ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        text = v.strip().lstrip("#")
        if not text.isdigit():
            raise UserError(f"{v!r} is not a face id (see 'album person NAME')")
        out.append(int(text))
    return out


def label(person) -> str:
    return person.name if person.name else f"cluster {person.id}"


def print_change(svc, person) -> None:
    """One line after an operation: what changed, the person's face count, how to undo."""
    print(
        f"{svc.history(1)[0].summary}; {label(person)} has {len(svc.faces_of(person.id))} "
        "faces ('album undo' reverts it)"
    )
