"""The errors of People operations (a module of their own so that ``album.people.manual`` and
``album.people.service`` need not import each other)."""

from __future__ import annotations


class PeopleError(ValueError):
    """An operation the user asked for cannot be done (the message says why)."""


class ConstraintError(PeopleError):
    """The operation would put two faces the user (or one photo) keeps apart in one person."""
