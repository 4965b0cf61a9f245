"""A fixed split of LFW's people into a tuning half and a held-out half.

Every choice the pipeline makes from data (thresholds, weights, retry rules, clustering
parameters) is tuned on the ``dev`` people only; figures reported as held-out come from the
``test`` people only. The split is by identity, never by image: no person is in both halves.
It is a hash of the person's folder name, so it needs no file, never changes, and extends to
any other labelled set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal

Split = Literal["dev", "test"]
SPLITS: tuple[str, ...] = ("dev", "test", "all")


def person_split(name: str) -> Split:
    """``"dev"`` or ``"test"`` for a person's folder name (about half each)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def in_split(name: str, split: str) -> bool:
    """Whether person ``name`` belongs to ``split`` (``"dev"``, ``"test"`` or ``"all"``)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return split == "all" or person_split(name) == split


def people_in(names: Iterable[str], split: str) -> list[str]:
    """The names of ``names`` that belong to ``split``, in their order."""
    return [n for n in names if in_split(n, split)]
