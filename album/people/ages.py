"""Birth dates and ages: "Emma, 3 years" in a person's timeline and in the photo viewer."""

from __future__ import annotations

from datetime import date, datetime

from album.people.errors import PeopleError

EARLIEST = date(1850, 1, 1)  # older dates are typing mistakes, not photo subjects


def parse_birth_date(text: str, today: date | None = None) -> date:
    """A birth date typed by the user (YYYY-MM-DD); a clear error for anything else."""
    text = text.strip()
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise PeopleError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None
    if born > (today or date.today()):
        raise PeopleError(f"{born.isoformat()} is in the future")
    if born < EARLIEST:
        raise PeopleError(f"{born.isoformat()} is before {EARLIEST.year}")
    return born


def months_between(born: date, when: date) -> int:
    """Whole months from ``born`` to ``when`` (negative before it)."""
    months = (when.year - born.year) * 12 + when.month - born.month
    return months - 1 if when.day < born.day else months


def age_text(born: date | str | None, when: date | datetime) -> str | None:
    """A person's age on ``when`` in words ("3 years", "7 months", "2 weeks", "newborn"), or
    None without a birth date or before it."""
    if born is None:
        return None
    if isinstance(born, str):
        born = date.fromisoformat(born)
    day = when.date() if isinstance(when, datetime) else when
    if day < born:
        return None
    months = months_between(born, day)
    if months >= 24:
        return _plural(months // 12, "year")
    if months >= 1:
        return _plural(months, "month")
    days = (day - born).days
    if days >= 14:
        return _plural(days // 7, "week")
    return _plural(days, "day") if days else "newborn"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"
