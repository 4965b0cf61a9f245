"""Who is this face? (1:K identification against the user's confirmed faces.)

A face is compared with the confirmed faces of every person, not with one centroid per person:
a person photographed as a child and as an adult, with and without glasses, is several clouds,
and a centroid may sit between them, near nobody. A person's distance to the face is the mean
of its ``k`` nearest confirmed faces (fewer when the person has fewer: one confirmed photo is
enough to recognise someone).

Decisions, with ``threshold`` the model's same-person distance:

* ``assign``: distance <= ``assign_below`` x threshold and the runner-up is at least
  ``margin`` x threshold further;
* ``suggest``: distance <= ``threshold`` (shown as unconfirmed, for the user to confirm);
* ``unknown``: otherwise; the face goes to clustering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from album.people.knn import knn

ASSIGN, SUGGEST, UNKNOWN = "assign", "suggest", "unknown"


@dataclass(frozen=True)
class Candidate:
    """A person a face may be: mean distance to its ``k`` nearest confirmed faces, and the
    nearest one (a row of the gallery)."""

    person: int
    distance: float
    nearest: int
    nearest_distance: float


@dataclass(frozen=True)
class Match:
    """The decision for one face. ``person`` is None when ``decision`` is 'unknown' and no
    person came near; ``candidates`` lists the people considered, nearest first."""

    decision: str
    person: int | None
    distance: float | None
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class RecognitionSettings:
    """k: confirmed faces averaged per person. assign_below: distance, as a fraction of the
    model's threshold, under which a face is assigned without asking (None: never; only
    suggestions). margin: the runner-up must be this much further (a fraction of the threshold
    too) for an automatic assignment (look-alike siblings get a suggestion instead). Fractions,
    so that one setting means the same for every model.
    shortlist: gallery neighbours examined per face."""

    k: int = 3
    assign_below: float | None = 0.76
    margin: float = 0.12
    shortlist: int = 64


class Gallery:
    """The confirmed faces: ``vectors`` (m, D) unit rows, ``people`` (m,) person ids,
    ``faces`` (m,) face ids (or row numbers)."""

    def __init__(
        self,
        vectors: np.ndarray,
        people: Sequence[int] | np.ndarray,
        faces: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.vectors = (
            np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(people), -1)
            if len(people)
            else np.zeros((0, 0), dtype=np.float32)
        )
        self.people = np.asarray(people, dtype=np.int64)
        self.faces = np.arange(len(self.people)) if faces is None else np.asarray(faces)
        ids, counts = np.unique(self.people, return_counts=True)
        self.counts = dict(zip(ids.tolist(), counts.tolist(), strict=True))

    def __len__(self) -> int:
        return len(self.people)

    def candidates(
        self, queries: np.ndarray, k: int = 3, shortlist: int = 64
    ) -> list[list[Candidate]]:
        """For each query row, the people among its ``shortlist`` nearest gallery faces, by
        the mean distance to their (up to) ``k`` nearest faces, nearest person first.

        A person with fewer than ``k`` faces in the shortlist but more in the gallery has the
        missing distances filled with the shortlist's last distance (a lower bound)."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if len(self) == 0 or len(q) == 0:
            return [[] for _ in range(len(q))]
        idx, dist = knn(self.vectors, min(shortlist, len(self)), queries=q)
        out: list[list[Candidate]] = []
        for row_i, row_d in zip(idx, dist, strict=True):
            ok = row_i >= 0
            row_i, row_d = row_i[ok], row_d[ok]
            bound = float(row_d[-1]) if len(row_d) else np.inf
            full = len(row_i) == len(self)  # the whole gallery was examined
            seen: dict[int, list[tuple[float, int]]] = {}
            for i, d in zip(row_i.tolist(), row_d.tolist(), strict=True):
                seen.setdefault(int(self.people[i]), []).append((d, i))
            cands = []
            for person, hits in seen.items():
                need = min(k, self.counts[person])
                ds = [d for d, _ in hits[:need]]
                if len(ds) < need:
                    ds += [bound if not full else ds[-1]] * (need - len(ds))
                cands.append(Candidate(person, float(np.mean(ds)), hits[0][1], hits[0][0]))
            cands.sort(key=lambda c: c.distance)
            out.append(cands)
        return out


def decide(
    candidates: Sequence[Candidate],
    threshold: float,
    settings: RecognitionSettings | None = None,
    allowed: Callable[[Candidate], bool] | None = None,
) -> Match:
    """The decision for one face from its ranked candidates. ``allowed`` filters out people
    the face may not be (rejected by the user, already in the same photo...)."""
    s = settings or RecognitionSettings()
    cands = tuple(c for c in candidates if allowed is None or allowed(c))
    if not cands:
        return Match(UNKNOWN, None, None, ())
    best = cands[0]
    runner_up = cands[1].distance if len(cands) > 1 else np.inf
    if (
        s.assign_below is not None
        and best.distance <= s.assign_below * threshold
        and runner_up - best.distance >= s.margin * threshold
    ):
        return Match(ASSIGN, best.person, best.distance, cands)
    if best.distance <= threshold:
        return Match(SUGGEST, best.person, best.distance, cands)
    return Match(UNKNOWN, None, best.distance, cands)


def identify(
    queries: np.ndarray,
    gallery: Gallery,
    threshold: float,
    settings: RecognitionSettings | None = None,
) -> list[Match]:
    """Decisions for each query row against ``gallery`` (no exclusions)."""
    s = settings or RecognitionSettings()
    return [decide(c, threshold, s) for c in gallery.candidates(queries, s.k, s.shortlist)]
