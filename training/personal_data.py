"""What the user taught, in the form personal training reads it.

:func:`personal_data` reads the catalog's stored embeddings of the model in use, the
confirmed faces per person and every decision that says who differs or who is the same
(rejections, "not the same person" and "same person" answers, two faces in one photo) into
:class:`PersonalData`; :func:`relations` turns some of its rows into the positive and
negative masks the head is trained with (:class:`Relations`). See :mod:`training.personal`
for the whole recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class PersonalTrainingError(ValueError):
    """The catalog cannot support a run yet; the message says, in words, what to do."""


@dataclass
class PersonalData:
    """Stored embeddings and the user's decisions, as rows of ``embeddings``."""

    model: str
    face_ids: np.ndarray  # (N,)
    embeddings: np.ndarray  # (N, D) unit vectors of ``model``
    labels: np.ndarray  # (N,) index into ``people`` for confirmed faces, else -1
    people: list[tuple[int, str]]  # (person id, display name)
    rejected: list[tuple[int, int]] = field(default_factory=list)  # (row, label): not this one
    cannot: list[tuple[int, int]] = field(default_factory=list)  # (row, row): answered "no"
    must: list[tuple[int, int]] = field(default_factory=list)  # (row, row): answered "yes"
    same_photo: list[tuple[int, int]] = field(default_factory=list)  # (row, row): one photo

    def trainable_people(self) -> list[int]:
        """Labels with two or more confirmed faces (the ones a triplet can anchor on)."""
        counts = np.bincount(self.labels[self.labels >= 0], minlength=len(self.people))
        return [int(i) for i in np.flatnonzero(counts >= 2)]


def personal_data(catalog, model: str | None = None) -> PersonalData:
    """Read what training needs from an open ``album.catalog.Catalog`` (read only)."""
    from models.registry import DEFAULT_MODEL

    model = model or catalog.model or DEFAULT_MODEL
    with catalog.read():
        ids, emb = catalog.embeddings(model)
        people = {p.id: p for p in catalog.people()}
        assignments = catalog.assignments()
        constraints = catalog.constraints()
        photo_rows = catalog.faces_by_photo()
    row = {int(f): i for i, f in enumerate(ids)}

    def active(pid: int) -> int:
        seen = {pid}
        while pid in people and people[pid].merged_into is not None:
            pid = int(people[pid].merged_into)
            if pid in seen:
                break
            seen.add(pid)
        return pid

    confirmed: dict[int, list[int]] = {}
    for a in assignments:
        if a.source == "confirmed" and a.face_id in row:
            confirmed.setdefault(active(a.person_id), []).append(row[a.face_id])
    order = sorted(confirmed)
    label_of = {pid: i for i, pid in enumerate(order)}
    labels = np.full(len(ids), -1, dtype=np.int64)
    for pid, rows in confirmed.items():
        labels[rows] = label_of[pid]
    names = []
    for pid in order:
        p = people.get(pid)
        names.append((pid, p.name if p is not None and p.name else f"person {pid}"))
    rejected = [
        (row[a.face_id], label_of[active(a.person_id)])
        for a in assignments
        if a.source == "rejected" and a.face_id in row and active(a.person_id) in label_of
    ]
    cannot, must = [], []
    for c in constraints:
        if c.face_a in row and c.face_b in row:
            (must if c.kind == "must-link" else cannot).append((row[c.face_a], row[c.face_b]))
    same_photo = []
    by_photo: dict[str, list[int]] = {}
    for h, fid in photo_rows:
        if fid in row:
            by_photo.setdefault(h, []).append(row[fid])
    for rows in by_photo.values():
        same_photo += [(a, b) for i, a in enumerate(rows) for b in rows[i + 1 :]]
    return PersonalData(
        model, ids, np.asarray(emb, np.float32), labels, names, rejected, cannot, must, same_photo
    )


@dataclass
class Relations:
    """The training view of some rows: who is the same (``pos``), who is known to differ
    (``neg``), over ``rows`` (indices into :class:`PersonalData`)."""

    rows: np.ndarray
    pos: np.ndarray  # (n, n) bool
    neg: np.ndarray  # (n, n) bool


def relations(
    data: PersonalData,
    exclude: set[int] = frozenset(),
    cannot: list[tuple[int, int]] | None = None,
    must: list[tuple[int, int]] | None = None,
) -> Relations:
    """Positives and negatives among the confirmed faces not in ``exclude`` and the faces the
    user's decisions tie to them. A face cannot-linked to, sharing a photo with, or rejected
    from one of person P's faces is a negative for every face of P."""
    cannot = data.cannot if cannot is None else cannot
    must = data.must if must is None else must
    labels = data.labels.copy()
    labels[list(exclude)] = -1
    # A "same person" answer ties an unlabelled face to a confirmed one: it joins that person.
    extra_pos = []
    for a, b in must:
        if a in exclude or b in exclude:
            continue
        if labels[a] >= 0 and labels[b] < 0:
            labels[b] = labels[a]
        elif labels[b] >= 0 and labels[a] < 0:
            labels[a] = labels[b]
        elif labels[a] < 0 and labels[b] < 0:
            extra_pos.append((a, b))
    diff_pairs = [
        (a, b)
        for a, b in [*cannot, *data.same_photo]
        if a not in exclude and b not in exclude and (labels[a] >= 0 or labels[b] >= 0)
    ]
    rejected = [(f, lab) for f, lab in data.rejected if f not in exclude]
    involved = set(np.flatnonzero(labels >= 0).tolist())
    for a, b in [*diff_pairs, *extra_pos]:
        involved |= {a, b}
    involved |= {f for f, _ in rejected}
    rows = np.array(sorted(involved), dtype=np.int64)
    at = {int(r): i for i, r in enumerate(rows)}
    lab = labels[rows]
    known = lab >= 0
    same = lab[:, None] == lab[None, :]
    pos = same & known[:, None] & known[None, :]
    np.fill_diagonal(pos, False)
    neg = ~same & known[:, None] & known[None, :]
    members = {int(c): np.flatnonzero(lab == c) for c in np.unique(lab[known])}

    def differ(i: int, others: np.ndarray) -> None:
        neg[i, others] = True
        neg[others, i] = True

    for a, b in diff_pairs:
        i, j = at[a], at[b]
        differ(i, np.array([j]))
        if lab[i] >= 0:
            differ(j, members[int(lab[i])])
        if lab[j] >= 0:
            differ(i, members[int(lab[j])])
    for f, c in rejected:
        if c in members:
            differ(at[f], members[c])
    for a, b in extra_pos:
        pos[at[a], at[b]] = pos[at[b], at[a]] = True
    neg &= ~pos
    return Relations(rows, pos, neg)
