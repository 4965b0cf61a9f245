"""``PeopleService``: the People view's operations on a catalog, every one undoable, and
re-clustering that never overrides the user.

>>> from album.catalog import Catalog
>>> from album.people.service import PeopleService
>>> people = PeopleService(Catalog())
>>> people.recluster()                      # recognise known people, cluster the rest
>>> people.name(people.people()[0].id, "Ada")
>>> people.undo()

Vocabulary (see ARCHITECTURE.md, "Catalog"):

* A **person** is a ``people`` row. A **cluster** is a person made by clustering
  (``origin = 'cluster'``) that carries no user data yet: no name, no confirmed or rejected
  face, not hidden, no cover, not part of a merge. Re-clustering may renumber or drop
  clusters; every other person is kept.
* **Machine** assignments (``automatic``, ``suggested``) are rewritten by re-clustering;
  **user** assignments (``confirmed``, ``rejected``) only by the operations below.

Rules every operation keeps (the property tests check them after random sequences):

* no person holds two cannot-linked faces: two faces of one photo, or a pair the user said
  are different (``constraints``); a user decision that would break this is refused with
  ``ConstraintError``, a machine assignment in the way is dropped;
* re-clustering never changes a confirmed assignment and never loses a name;
* a rejected face never returns to the person who rejected it (also enforced by a trigger).

Operations that show the user a whole cluster (naming it, merging it into someone) confirm
the cluster's automatic faces: the user looked at them and said who they are. Suggested faces
stay suggestions until confirmed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from album.catalog import Catalog, Person
from album.catalog.records import BOX_COLUMNS, stored_yaw
from album.catalog.schema import MACHINE_SOURCES, now
from album.catalog.user_data import MACHINE_CLUSTERS
from album.people.ages import parse_birth_date
from album.people.clustering import ClusterSettings
from album.people.errors import ConstraintError, PeopleError
from album.people.keys import (
    ASSIGN_KEY,
    LEGACY_ASSIGN_KEY,
    METHOD_KEY,
    legacy_fraction,
    threshold_scale,
)
from album.people.offload import cluster  # in a child process when the app asks (the GIL)
from album.people.overview import face_rank
from album.people.recognition import (
    Gallery,
    RecognitionSettings,
)
from album.people.regroup import Snapshot, plan_regroup
from album.people.split import SplitPart, SplitProposal, SubGroup, plan_split
from album.people.undo_log import Undo, UndoLog, user_operation
from album.people.verification import (
    MergeSuggestion,
    Question,
    Verdict,
    merge_suggestions,
    same_person_queue,
    verify,
)

log = logging.getLogger(__name__)

MACHINE = MACHINE_SOURCES
POSITIVE = ("confirmed", "automatic", "suggested")


@dataclass(frozen=True)
class PeopleSettings:
    """method: 'hdbscan' or 'agglomerative'. threshold_scale: the same-person distance as a
    fraction of the model's threshold (1: the model's own), so that a setting keeps its meaning
    when the catalog switches models. Every distance setting (clustering, recognition) is a
    fraction of the resulting threshold. Saved in the catalog's settings as ``people.*`` keys,
    so the app and the command line group one catalog alike."""

    method: str = "hdbscan"
    threshold_scale: float = 1.0
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    recognition: RecognitionSettings = field(default_factory=RecognitionSettings)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> PeopleSettings:
        method = catalog.get_setting(METHOD_KEY, "hdbscan") or "hdbscan"
        rec = RecognitionSettings()
        assign = catalog.get_setting(ASSIGN_KEY)
        if assign is None and catalog.get_setting(LEGACY_ASSIGN_KEY) is not None:
            legacy = catalog.get_setting(LEGACY_ASSIGN_KEY)
            assign = "off" if legacy == "off" else str(legacy_fraction(catalog, legacy))
        if assign:
            rec = replace(rec, assign_below=None if assign == "off" else float(assign))
        return cls(method=method, threshold_scale=threshold_scale(catalog), recognition=rec)


class _Replan(Exception):
    """The user changed people between a re-cluster's snapshot and its write."""


@dataclass(frozen=True)
class PersonSummary:
    person: Person
    faces: int  # faces assigned (confirmed + automatic + suggested)
    confirmed: int
    suggested: int
    cluster: bool  # owned by clustering (no user data yet)

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def label(self) -> str:
        return self.person.name or f"cluster {self.person.id}"


@dataclass(frozen=True)
class FaceLabel:
    face_id: int
    person_id: int
    source: str
    confidence: float | None


@dataclass(frozen=True)
class ReclusterSummary:
    faces: int  # faces with an embedding of the model
    confirmed: int  # faces the user confirmed (untouched)
    assigned: int  # recognised and assigned automatically
    suggested: int  # recognised as a suggestion
    clustered: int  # unknown faces put in a cluster
    alone: int  # unknown faces left alone
    clusters: int  # clusters holding them
    new_clusters: int
    dropped_clusters: int
    seconds: float
    path: str  # clustering path taken ("hdbscan", "graph", "agglomerative")


class PeopleService(UndoLog):
    """People operations on ``catalog`` for embeddings of ``model_id`` (default: the
    catalog's model, else the app's default model)."""

    def __init__(
        self, catalog: Catalog, model_id: str | None = None, settings: PeopleSettings | None = None
    ) -> None:
        from models.registry import DEFAULT_MODEL

        self.catalog = catalog
        self.db = catalog.db
        self.model_id = model_id or catalog.model or DEFAULT_MODEL
        self.settings = settings or PeopleSettings.from_catalog(catalog)
        self._spec = None

    # --- the model -----------------------------------------------------------------------------

    @property
    def spec(self):
        """The model's registry entry (threshold, calibration)."""
        if self._spec is None:
            from models.registry import get_spec

            self._spec = get_spec(self.model_id)
        return self._spec

    @property
    def threshold(self) -> float:
        return float(self.spec.threshold) * self.settings.threshold_scale

    def probability(self, d: float | np.ndarray) -> float | np.ndarray:
        return self.spec.probability_same(d)

    # --- reading -------------------------------------------------------------------------------

    def _q(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    def person(self, person_id: int) -> Person:
        p = self.catalog.person(int(person_id))
        if p is None:
            raise PeopleError(f"no person {person_id}")
        return p

    def active(self, person_id: int) -> Person:
        """The person, following merges to the one it now lives in."""
        p = self.person(person_id)
        seen = {p.id}
        while p.merged_into is not None and p.merged_into not in seen:
            p = self.person(p.merged_into)
            seen.add(p.id)
        return p

    def find(self, ref: str | int) -> Person:
        """A person by id (``12``, ``#12``) or by name (case-insensitive)."""
        text = str(ref).strip()
        if text.lstrip("#").isdigit():
            return self.active(int(text.lstrip("#")))
        by_name = self.by_name(text)
        if by_name is None:
            raise PeopleError(f"no person named {text!r}")
        return by_name

    def by_name(self, name: str) -> Person | None:
        rows = self._q(
            "SELECT id FROM people WHERE merged_into IS NULL AND name = ? "
            "COLLATE NOCASE ORDER BY id",
            (name.strip(),),
        )
        return self.person(rows[0][0]) if rows else None

    def cluster_ids(self) -> set[int]:
        return {r[0] for r in self._q(MACHINE_CLUSTERS)}

    def people(
        self, include_hidden: bool = False, include_empty: bool = False, named_only: bool = False
    ) -> list[PersonSummary]:
        """Active people, named ones first (by name), then clusters by size."""
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for pid, source, n in self._q(
            "SELECT person_id, source, COUNT(*) FROM assignments "
            "WHERE source != 'rejected' GROUP BY person_id, source"
        ):
            c = counts[pid]
            c[0] += n
            c[1] += n if source == "confirmed" else 0
            c[2] += n if source == "suggested" else 0
        clusters = self.cluster_ids()
        out = []
        for p in self.catalog.people():
            if p.merged_into is not None or (p.hidden and not include_hidden):
                continue
            if named_only and not p.name:
                continue
            total, confirmed, suggested = counts.get(p.id, (0, 0, 0))
            if total == 0 and not include_empty and not p.name:
                continue
            out.append(PersonSummary(p, total, confirmed, suggested, p.id in clusters))
        out.sort(
            key=lambda s: (
                s.person.name is None,
                (s.person.name or "").lower(),
                -s.faces,
                s.person.id,
            )
        )
        return out

    def faces_of(self, person_id: int, sources: Sequence[str] = POSITIVE) -> list[FaceLabel]:
        marks = ",".join("?" * len(sources))
        return [
            FaceLabel(*r)
            for r in self._q(
                f"SELECT face_id, person_id, source, confidence FROM assignments "
                f"WHERE person_id = ? AND source IN ({marks}) ORDER BY source, confidence, face_id",
                (person_id, *sources),
            )
        ]

    def person_of(self, face_id: int) -> FaceLabel | None:
        """The face's positive assignment, if any."""
        rows = self._q(
            "SELECT face_id, person_id, source, confidence FROM assignments "
            "WHERE face_id = ? AND source != 'rejected'",
            (face_id,),
        )
        return FaceLabel(*rows[0]) if rows else None

    def _vectors(self, face_ids: Sequence[int]) -> np.ndarray:
        out = []
        for f in face_ids:
            v = self.catalog.embedding(int(f), self.model_id)
            if v is None:
                raise PeopleError(f"face {f} has no {self.model_id} embedding")
            out.append(v)
        return np.stack(out) if out else np.zeros((0, 0), np.float32)

    def _require_faces(self, face_ids: Iterable[int]) -> list[int]:
        ids = list(dict.fromkeys(int(f) for f in face_ids))
        if not ids:
            raise PeopleError("no face given")
        found = {
            r[0]
            for r in self._q(f"SELECT id FROM faces WHERE id IN ({','.join('?' * len(ids))})", ids)
        }
        missing = [f for f in ids if f not in found]
        if missing:
            raise PeopleError(f"no face {', '.join(map(str, missing))}")
        return ids

    # --- constraints helpers -------------------------------------------------------------------

    def _photos(self, face_ids: Iterable[int]) -> dict[int, str]:
        ids = list(set(face_ids))
        out: dict[int, str] = {}
        for s in range(0, len(ids), 900):
            chunk = ids[s : s + 900]
            out.update(
                self._q(
                    f"SELECT id, content_hash FROM faces WHERE id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return out

    def _cannot_partners(self, face_ids: Iterable[int]) -> dict[int, set[int]]:
        ids = list(set(face_ids))
        out: dict[int, set[int]] = defaultdict(set)
        for s in range(0, len(ids), 400):
            chunk = ids[s : s + 400]
            marks = ",".join("?" * len(chunk))
            for a, b in self._q(
                f"SELECT face_a, face_b FROM constraints WHERE kind = "
                f"'cannot-link' AND (face_a IN ({marks}) OR face_b IN ({marks}))",
                chunk + chunk,
            ):
                out[a].add(b)
                out[b].add(a)
        return out

    def _positive(self, person_id: int) -> dict[int, str]:
        return dict(
            self._q(
                "SELECT face_id, source FROM assignments WHERE person_id = ? "
                "AND source != 'rejected'",
                (person_id,),
            )
        )

    def _plan_join(self, person_id: int, joining: dict[int, str]) -> tuple[set[int], set[int]]:
        """Faces ``joining`` person ``person_id`` with the given sources: which existing
        machine members and which joining machine faces must be dropped so that the person
        holds no cannot-linked pair. Raises ConstraintError for a pair of user decisions."""
        existing = {f: s for f, s in self._positive(person_id).items() if f not in joining}
        everyone = {**existing, **joining}
        photos = self._photos(everyone)
        partners = self._cannot_partners(joining)
        by_photo: dict[str, list[int]] = defaultdict(list)
        for f in everyone:
            by_photo[photos[f]].append(f)
        drop_existing: set[int] = set()
        drop_joining: set[int] = set()
        for f in joining:
            rivals = {g for g in by_photo[photos[f]] if g != f}
            rivals |= partners.get(f, set()) & everyone.keys()
            for g in rivals:
                if f in drop_joining or g in drop_existing or g in drop_joining:
                    continue
                f_user = joining[f] == "confirmed"
                g_user = everyone[g] == "confirmed"
                if f_user and g_user:
                    why = (
                        "are in the same photo"
                        if photos[f] == photos[g]
                        else "were marked as different people"
                    )
                    raise ConstraintError(
                        f"faces {min(f, g)} and {max(f, g)} {why}; they cannot both be "
                        f"{self._label(person_id)} (move or reject one first)"
                    )
                if not f_user:
                    drop_joining.add(f)
                elif g in existing:
                    drop_existing.add(g)
                else:
                    drop_joining.add(g)
        return drop_existing, drop_joining

    def _label(self, person_id: int) -> str:
        p = self.catalog.person(person_id)
        return p.name if p and p.name else f"cluster {person_id}"

    def _new_person(self, undo: Undo, name: str | None = None, origin: str = "user") -> int:
        t = now()
        pid = self.db.execute(
            "INSERT INTO people (name, origin, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (name, origin, t, t),
        ).lastrowid
        undo.new_people.append(pid)
        return pid

    def _repair(self, person_ids: Iterable[int]) -> int:
        """Drop machine assignments that put two cannot-linked faces (one photo, or marked
        different) in one of these people; user decisions stay. Returns how many."""
        dropped = 0
        for pid in person_ids:
            members = self._positive(pid)
            photos = self._photos(members)
            partners = self._cannot_partners(members)
            # User decisions first, then machine ones by face id: a later clash gives way.
            order = sorted(members, key=lambda f: (members[f] != "confirmed", f))
            kept: list[int] = []
            kept_photos: set[str] = set()
            for f in order:
                clash = photos[f] in kept_photos or partners.get(f, set()) & set(kept)
                if clash and members[f] != "confirmed":
                    self.db.execute(
                        "DELETE FROM assignments WHERE face_id = ? AND person_id = ?"
                        " AND source IN ('automatic', 'suggested')",
                        (f, pid),
                    )
                    dropped += 1
                    continue
                kept.append(f)
                kept_photos.add(photos[f])
        return dropped

    # --- low-level writes (inside an operation) ------------------------------------------------

    def _set_positive(
        self,
        undo: Undo,
        face_id: int,
        person_id: int,
        source: str,
        confidence: float | None = None,
    ) -> None:
        """Make ``person_id`` the face's one positive assignment with ``source``."""
        self._save_faces(undo, [face_id])
        self.db.execute(
            "DELETE FROM assignments WHERE face_id = ? AND source != 'rejected'", (face_id,)
        )
        if source in MACHINE:
            self.db.execute(
                "INSERT INTO assignments (face_id, person_id, source, confidence, "
                "updated_at) VALUES (?, ?, ?, ?, ?)",
                (face_id, person_id, source, confidence, now()),
            )
        else:
            self.db.execute(
                "INSERT INTO assignments (face_id, person_id, source, confidence, updated_at) "
                "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (face_id, person_id) DO UPDATE "
                "SET source = excluded.source, confidence = NULL, "
                "updated_at = excluded.updated_at",
                (face_id, person_id, source, now()),
            )

    def _drop_positive(self, undo: Undo, face_ids: Iterable[int], person_id: int) -> None:
        face_ids = list(face_ids)
        self._save_faces(undo, face_ids)
        for f in face_ids:
            self.db.execute(
                "DELETE FROM assignments WHERE face_id = ? AND person_id = ? "
                "AND source != 'rejected'",
                (f, person_id),
            )

    def _reject(self, undo: Undo, face_id: int, person_id: int) -> None:
        self._save_faces(undo, [face_id])
        self.db.execute(
            "INSERT INTO assignments (face_id, person_id, source, updated_at) VALUES "
            "(?, ?, 'rejected', ?) ON CONFLICT (face_id, person_id) DO UPDATE SET "
            "source = 'rejected', confidence = NULL, updated_at = excluded.updated_at",
            (face_id, person_id, now()),
        )
        p = self.catalog.person(person_id)
        if p is not None and p.cover_face_id == face_id:
            self._save_people(undo, [person_id])
            self.db.execute("UPDATE people SET cover_face_id = NULL WHERE id = ?", (person_id,))

    def _join(
        self, undo: Undo, person_id: int, joining: dict[int, str], reject_from_old: bool = False
    ) -> int:
        """Give each face of ``joining`` the assignment (person, source), dropping machine
        assignments in the way; returns how many joined."""
        drop_existing, drop_joining = self._plan_join(person_id, joining)
        self._drop_positive(undo, drop_existing, person_id)
        joined = 0
        for f, source in joining.items():
            if f in drop_joining:
                continue
            old = self.person_of(f)
            if reject_from_old and old is not None and old.person_id != person_id:
                self._reject(undo, f, old.person_id)
            self._set_positive(undo, f, person_id, source)
            joined += 1
        return joined

    def _touch(self, undo: Undo, person_id: int, **values: object) -> None:
        self._save_people(undo, [person_id])
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(
            f"UPDATE people SET {sets}, updated_at = ? WHERE id = ?",
            (*values.values(), now(), person_id),
        )

    # --- operations (undoable) -----------------------------------------------------------------

    @user_operation
    def name(self, person_id: int, name: str) -> Person:
        """Name a person or cluster. A name another person already has merges this one into
        that person. Naming an unnamed cluster confirms its automatic faces."""
        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        p = self.active(person_id)
        other = self.by_name(name)
        if other is not None and other.id != p.id:
            return self.merge(p.id, other.id)
        with self._operation("name") as undo:
            old = p.name
            self._touch(undo, p.id, name=name)
            confirmed = 0
            if old is None:
                auto = {f: "confirmed" for f, s in self._positive(p.id).items() if s == "automatic"}
                confirmed = self._join(undo, p.id, auto)
            undo.summary = (
                f"named cluster {p.id} {name!r}"
                + (f" ({confirmed} faces confirmed)" if confirmed else "")
                if old is None
                else f"renamed {old!r} to {name!r}"
            )
        return self.person(p.id)

    def rename(self, person_id: int, name: str) -> Person:
        """Same as ``name`` (a name in use merges into its holder)."""
        return self.name(person_id, name)

    @user_operation
    def merge(self, source_id: int, target_id: int) -> Person:
        """Merge person ``source_id`` into ``target_id``. Refused if a confirmed face of one is
        in the same photo as, or marked different from, a confirmed face of the other. An
        unnamed source's automatic faces become confirmed (the user vouched for the cluster)."""
        src, dst = self.active(source_id), self.active(target_id)
        if src.id == dst.id:
            raise PeopleError(
                f"{self._label(src.id)} and {self._label(dst.id)} are already one person"
            )
        with self._operation("merge") as undo:
            moved = self._merge_into(undo, src, dst)
            undo.summary = (
                f"merged {self._label(src.id)} into {self._label(dst.id)} ({moved} faces)"
            )
        return self.person(dst.id)

    def _merge_into(self, undo: Undo, src: Person, dst: Person) -> int:
        """Move ``src``'s faces and rejections to ``dst`` and mark it merged; returns how many
        faces moved (see ``merge``)."""
        joining = {}
        for f, s in self._positive(src.id).items():
            joining[f] = (
                "confirmed" if s == "confirmed" or (s == "automatic" and src.name is None) else s
            )
        moved = self._join(undo, dst.id, joining)
        # Faces the source's user rejected are not the target either (unless confirmed).
        for (f,) in self._q(
            "SELECT face_id FROM assignments WHERE person_id = ? AND source = 'rejected'", (src.id,)
        ):
            mine = self.person_of(f)
            if mine is None or mine.person_id != dst.id or mine.source != "confirmed":
                if mine is not None and mine.person_id == dst.id:
                    self._drop_positive(undo, [f], dst.id)
                self._reject(undo, f, dst.id)
        self._drop_positive(undo, list(self._positive(src.id)), src.id)
        self._touch(undo, src.id, merged_into=dst.id)
        if dst.birth_date is None and src.birth_date is not None:
            self._touch(undo, dst.id, birth_date=src.birth_date)
        if dst.cover_face_id is None and src.cover_face_id is not None:
            members = self._positive(dst.id)
            if src.cover_face_id in members:
                self._touch(undo, dst.id, cover_face_id=src.cover_face_id)
        return moved

    @user_operation
    def split(self, person_id: int, face_ids: Iterable[int], name: str | None = None) -> Person:
        """Take faces out of a person into a new person (or the person called ``name``)."""
        p = self.active(person_id)
        faces = self._require_faces(face_ids)
        members = self._positive(p.id)
        strangers = [f for f in faces if f not in members]
        if strangers:
            raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
        target = self.by_name(name) if name else None
        if target is not None and target.id == p.id:
            raise PeopleError(f"the faces are already {name}")
        with self._operation("split") as undo:
            tid = (
                target.id
                if target is not None
                else self._new_person(undo, name.strip() if name else None)
            )
            self._join(undo, tid, {f: "confirmed" for f in faces}, reject_from_old=True)
            undo.summary = (
                f"split {len(faces)} faces from {self._label(p.id)} into {self._label(tid)}"
            )
        return self.person(tid)

    def split_proposal(self, person_id: int, groups: int | None = None) -> SplitProposal:
        """The person's faces regrouped into sub-groups (``album.people.split``), for a person
        who is really two or more people. ``groups``: exactly this many sizeable sub-groups."""
        p = self.active(person_id)
        members = self._positive(p.id)
        if len(members) < 2:
            n = len(members)
            raise PeopleError(
                f"{self._label(p.id)} has {n} face{'' if n == 1 else 's'}: nothing to split"
            )
        ids = sorted(members)
        row = {f: i for i, f in enumerate(ids)}
        facts: dict[int, tuple] = {}
        for s in range(0, len(ids), 900):
            chunk = ids[s : s + 900]
            for f, photo, yaw, quality in self._q(
                f"SELECT id, content_hash, yaw, quality FROM faces WHERE id IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            ):
                facts[f] = (photo, yaw, quality)
        by_photo: dict[str, list[int]] = defaultdict(list)
        for f in ids:
            by_photo[facts[f][0]].append(row[f])
        cannot = [(a, b) for rows in by_photo.values() for a in rows for b in rows if a < b]
        for a, partners in self._cannot_partners(ids).items():
            cannot += [(row[a], row[b]) for b in partners if a in row and b in row and a < b]
        must = [
            (row[a], row[b])
            for a, b in self._q("SELECT face_a, face_b FROM constraints WHERE kind = 'must-link'")
            if a in row and b in row
        ]
        yaw = np.array([facts[f][1] or 0.0 for f in ids], dtype=np.float64)
        labels = plan_split(
            self._vectors(ids), cannot, must, self.threshold, groups=groups, yaw=yaw
        )
        out = []
        for c in range(int(labels.max()) + 1):
            faces = [ids[i] for i in np.flatnonzero(labels == c)]
            faces.sort(key=lambda f: face_rank(members[f], facts[f][1], facts[f][2], f))
            out.append(
                SubGroup(
                    tuple(faces),
                    sum(members[f] == "confirmed" for f in faces),
                    len({facts[f][0] for f in faces}),
                )
            )
        keep = max(range(len(out)), key=lambda i: (out[i].confirmed, len(out[i].faces), -i))
        return SplitProposal(p.id, tuple(out), keep)

    @user_operation
    def split_apart(self, person_id: int, parts: Sequence[SplitPart]) -> list[Person]:
        """Apply the user's choices for sub-groups of a person in one undoable step: each
        part stays, becomes a new person or goes to a named one (its faces confirmed there and
        rejected here). Returns the people the faces went to."""
        p = self.active(person_id)
        members = self._positive(p.id)
        seen: set[int] = set()
        for part in parts:
            faces = self._require_faces(part.faces)
            strangers = [f for f in faces if f not in members]
            if strangers:
                raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
            if seen & set(faces):
                raise PeopleError(f"face {min(seen & set(faces))} is in two sub-groups")
            seen |= set(faces)
        moving = [
            part
            for part in parts
            if part.to is not None and (not part.to.strip() or self._other(p.id, part.to))
        ]
        if not moving:
            raise PeopleError(f"every sub-group stays with {self._label(p.id)}: nothing to do")
        label = self._label(p.id)
        targets: list[int] = []
        with self._operation("split") as undo:
            for part in moving:
                name = (part.to or "").strip()
                target = self.by_name(name) if name else None
                tid = target.id if target is not None else self._new_person(undo, name or None)
                self._join(undo, tid, {f: "confirmed" for f in part.faces}, reject_from_old=True)
                targets.append(tid)
            moved = sum(len(part.faces) for part in moving)
            undo.summary = f"split {moved} faces of {label} into " + ", ".join(
                dict.fromkeys(self._label(t) for t in targets)
            )
        return [self.person(t) for t in dict.fromkeys(targets)]

    def _other(self, person_id: int, name: str) -> bool:
        """Whether ``name`` is someone other than person ``person_id``."""
        found = self.by_name(name.strip())
        return found is None or found.id != person_id

    @user_operation
    def move(self, face_ids: Iterable[int], person_id: int) -> Person:
        """These faces are this person: confirmed there, rejected from where they were."""
        faces = self._require_faces(face_ids)
        p = self.active(person_id)
        with self._operation("move") as undo:
            self._join(undo, p.id, {f: "confirmed" for f in faces}, reject_from_old=True)
            undo.summary = f"moved {len(faces)} faces to {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def enroll(self, face_id: int, name: str) -> Person:
        """One-shot enrollment: this face is ``name`` (a new person unless the name exists)."""
        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        existing = self.by_name(name)
        if existing is not None:
            return self.move([face_id], existing.id)
        faces = self._require_faces([face_id])
        with self._operation("enroll") as undo:
            pid = self._new_person(undo, name)
            self._join(undo, pid, {faces[0]: "confirmed"}, reject_from_old=True)
            undo.summary = f"face {faces[0]} is {name!r} (new person)"
        return self.person(pid)

    def add_manual_face(self, photo_id: int, box, name: str, embedder=None, detector=None) -> int:
        """A face the scan missed, drawn by hand as ``box`` (original photo pixels) on photo
        ``photo_id``, stored and confirmed as ``name`` (an existing person of that name, else
        a new one) in one undoable operation; returns its face id. Loads the models (slow):
        ``measure_face`` and ``add_face`` split the engine's part from the catalog's."""
        from album.people.manual import measure_face

        if not name.strip():
            raise PeopleError("a name cannot be empty")
        face = measure_face(self.catalog, photo_id, box, self.model_id, embedder, detector)
        return self.add_face(face, name)

    @user_operation
    def add_face(self, face, name: str) -> int:
        """Store a measured hand-marked face (``album.people.manual.ManualFace``) as a face of
        its photo's content with its embedding, and confirm it as ``name``; returns its id.
        Confirmed, it carries user data, so rescans keep it. Undo deletes it again."""
        from album.scan.writer import face_key, iou, vector_blob

        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        if face.model_id != self.model_id:
            raise PeopleError(
                f"the face was embedded with {face.model_id!r}, not {self.model_id!r}"
            )
        box = tuple(round(float(v), 1) for v in face.box)
        for f in self.catalog.faces_of_photo(face.photo_id):
            if iou(f.box, box) >= 0.5:
                raise PeopleError(f"face {f.id} is already there")
        existing = self.by_name(name)
        lm = json.dumps([[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks])
        t = now()
        with self._operation("add face") as undo:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO faces (content_hash, face_key, box_left, box_top, "
                "box_right, box_bottom, landmarks, score, quality, scan_run_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    face.content_hash,
                    face_key(box),
                    *box,
                    lm,
                    float(face.score),
                    float(face.quality),
                    t,
                ),
            )
            if cur.rowcount != 1:
                raise PeopleError("that face is already there")
            fid = cur.lastrowid
            undo.new_faces.append(fid)
            self.db.execute(
                "INSERT INTO embeddings (face_id, model_id, vector, dim, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (fid, self.model_id, vector_blob(face.vector), int(face.vector.shape[-1]), t),
            )
            pid = existing.id if existing is not None else self._new_person(undo, name)
            self._join(undo, pid, {fid: "confirmed"})
            undo.summary = f"marked face {fid} by hand as {name!r}" + (
                "" if existing is not None else " (new person)"
            )
        return fid

    @user_operation
    def label_faces(
        self, pairs: Iterable[tuple[int, str]], action: str = "import"
    ) -> tuple[int, list[str]]:
        """Name many faces at once (e.g. from XMP sidecars), as one undoable operation: each
        face is confirmed as the person of that name (created if needed). Faces that would
        clash with a confirmed face are skipped. Returns (faces named, problems)."""
        problems: list[str] = []
        done = 0
        with self._operation(action) as undo:
            people: dict[str, int] = {}
            for face_id, name in pairs:
                name = name.strip()
                key = name.lower()
                if not name or self.catalog.face(face_id) is None:
                    continue
                if key not in people:
                    existing = self.by_name(name)
                    people[key] = existing.id if existing else self._new_person(undo, name)
                cur = self.person_of(face_id)
                if cur is not None and cur.person_id == people[key] and cur.source == "confirmed":
                    continue
                try:
                    with self.db.atomic():
                        self._join(undo, people[key], {face_id: "confirmed"}, reject_from_old=True)
                    done += 1
                except ConstraintError as exc:
                    problems.append(f"face {face_id} as {name}: {exc}")
            undo.summary = f"{action}: {done} faces named"
        return done, problems

    @user_operation
    def reject(self, face_ids: Iterable[int], person_id: int | None = None) -> int:
        """Not this person: each face is rejected from ``person_id`` (default: the person it
        is assigned to now). Returns how many rejections were recorded."""
        faces = self._require_faces(face_ids)
        target = self.active(person_id).id if person_id is not None else None
        with self._operation("reject") as undo:
            n = 0
            names = set()
            for f in faces:
                pid = target
                if pid is None:
                    cur = self.person_of(f)
                    if cur is None:
                        continue
                    pid = cur.person_id
                self._reject(undo, f, pid)
                names.add(self._label(pid))
                n += 1
            if n == 0:
                raise PeopleError("none of these faces belongs to anybody")
            undo.summary = (
                f"{n} face{'s' if n != 1 else ''} marked as not {', '.join(sorted(names))}"
            )
        return n

    @user_operation
    def hide(self, person_id: int, hidden: bool = True) -> Person:
        p = self.active(person_id)
        with self._operation("hide" if hidden else "unhide") as undo:
            self._touch(undo, p.id, hidden=int(hidden))
            undo.summary = f"{'hid' if hidden else 'showed'} {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def set_birth_date(self, person_id: int, born: str | date | None) -> Person:
        """Give a person a birth date (YYYY-MM-DD; None clears it): ages in their timeline,
        and a face in a photo taken before it is never grouped as them."""
        p = self.active(person_id)
        value = None
        if born is not None:
            value = (born if isinstance(born, date) else parse_birth_date(born)).isoformat()
        if value == p.birth_date:
            return p
        with self._operation("birth date") as undo:
            self._touch(undo, p.id, birth_date=value)
            undo.summary = (
                f"{self._label(p.id)} born {value}"
                if value
                else f"{self._label(p.id)}: no birth date"
            )
        return self.person(p.id)

    @user_operation
    def set_cover(self, person_id: int, face_id: int) -> Person:
        p = self.active(person_id)
        if face_id not in self._positive(p.id):
            raise PeopleError(f"face {face_id} is not {self._label(p.id)}")
        with self._operation("cover") as undo:
            self._touch(undo, p.id, cover_face_id=int(face_id))
            undo.summary = f"face {face_id} is the cover of {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def confirm(self, person_id: int, face_ids: Iterable[int] | None = None) -> int:
        """Confirm a person's suggested and automatic faces (all, or those given)."""
        p = self.active(person_id)
        members = self._positive(p.id)
        wanted = members.keys() if face_ids is None else self._require_faces(face_ids)
        strangers = [f for f in wanted if f not in members]
        if strangers:
            raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
        todo = {f: "confirmed" for f in wanted if members[f] != "confirmed"}
        if not todo:
            return 0
        with self._operation("confirm") as undo:
            n = self._join(undo, p.id, todo)
            undo.summary = f"confirmed {n} faces of {self._label(p.id)}"
        return n

    @user_operation
    def answer(self, face_a: int, face_b: int, same: bool, leaving: int | None = None) -> None:
        """The user's answer to "same person?" for two faces: stored as a must-link or
        cannot-link constraint and applied at once (people merged, a face taken out).

        ``leaving``: on "different" for two faces of one person, the face that leaves it (the
        face the question was about); by default the one that fits the person worse."""
        a, b = sorted(self._require_faces([face_a, face_b]))
        if leaving is not None and leaving not in (a, b):
            raise PeopleError(f"face {leaving} is not one of the two faces answered about")
        if a == b:
            raise PeopleError("a face is always the same person as itself")
        pa, pb = self.person_of(a), self.person_of(b)
        with self._operation("answer") as undo:
            self._save_constraint(undo, a, b)
            if same:
                if self._photos([a, b])[a] == self._photos([a, b])[b]:
                    raise ConstraintError(f"faces {a} and {b} are in the same photo")
                self._constraint(a, b, "must-link")
                undo.summary = f"faces {a} and {b}: same person"
                self._apply_same(undo, a, b, pa, pb)
            else:
                if pa and pb and pa.person_id == pb.person_id:
                    if pa.source == "confirmed" and pb.source == "confirmed":
                        raise ConstraintError(
                            f"faces {a} and {b} are both confirmed as "
                            f"{self._label(pa.person_id)}; move or reject one first"
                        )
                    if pa.source == "confirmed":
                        out = b
                    elif pb.source == "confirmed":
                        out = a
                    elif leaving is not None:
                        out = leaving
                    else:  # the face that fits the person worse leaves
                        out = self._farther(pa.person_id, a, b)
                    if leaving is not None:
                        # "Not this person": re-grouping keeps it away from all their faces,
                        # not only from the one it was shown beside.
                        self._reject(undo, out, pa.person_id)
                    else:
                        self._drop_positive(undo, [out], pa.person_id)
                self._constraint(a, b, "cannot-link")
                undo.summary = f"faces {a} and {b}: different people"

    def _farther(self, person_id: int, a: int, b: int) -> int:
        """Of faces ``a`` and ``b`` of a person, the one further (on average) from the
        person's other faces; ``b`` when the person has no other face."""
        others = [f for f in self._positive(person_id) if f not in (a, b)][:200]
        if not others:
            return b
        ref = self._vectors(others)
        va, vb = self._vectors([a, b])
        da = float(np.linalg.norm(ref - va, axis=1).mean())
        db = float(np.linalg.norm(ref - vb, axis=1).mean())
        return a if da > db else b

    def _constraint(self, a: int, b: int, kind: str) -> None:
        self.db.execute(
            "INSERT INTO constraints (face_a, face_b, kind, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (face_a, face_b) DO UPDATE SET kind = excluded.kind",
            (min(a, b), max(a, b), kind, now()),
        )

    def _apply_same(
        self, undo: Undo, a: int, b: int, pa: FaceLabel | None, pb: FaceLabel | None
    ) -> None:
        if pa and pb and pa.person_id == pb.person_id:
            return
        if pa is None and pb is None:
            pid = self._new_person(undo, None, origin="cluster")
            self._join(undo, pid, {a: "automatic", b: "automatic"})
            return

        # Join the other face (and its cluster) to the side with user data, else the bigger.
        def weight(p: FaceLabel | None) -> tuple:
            if p is None:
                return (-1, -1)
            person = self.person(p.person_id)
            return (
                int(person.name is not None or p.person_id not in self.cluster_ids()),
                len(self._positive(p.person_id)),
            )

        keep, other, other_face = (pa, pb, b) if weight(pa) >= weight(pb) else (pb, pa, a)
        assert keep is not None
        if other is None:
            source = "confirmed" if keep.source == "confirmed" else "automatic"
            self._join(undo, keep.person_id, {other_face: source})
        elif other.person_id in self.cluster_ids():
            joining = {f: s for f, s in self._positive(other.person_id).items()}
            joining[other_face] = "confirmed" if keep.source == "confirmed" else "automatic"
            self._join(undo, keep.person_id, joining)
        else:
            self._merge_into(undo, self.person(other.person_id), self.person(keep.person_id))

    # --- verification, identification, questions -----------------------------------------------

    def verify(self, face_a: int, face_b: int) -> Verdict:
        va, vb = self._vectors([face_a, face_b])
        return verify(va, vb, self.spec)

    def gallery(self) -> Gallery:
        """Confirmed faces of active people, with their vectors."""
        rows = self._q(
            "SELECT a.face_id, a.person_id, e.vector FROM assignments a "
            "JOIN people p ON p.id = a.person_id JOIN embeddings e ON e.face_id = a.face_id "
            "AND e.model_id = ? WHERE a.source = 'confirmed' AND p.merged_into IS NULL "
            "ORDER BY a.face_id",
            (self.model_id,),
        )
        if not rows:
            return Gallery(np.zeros((0, 0), np.float32), [], [])
        vecs = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows])
        return Gallery(vecs, [r[1] for r in rows], [r[0] for r in rows])

    def identify(self, vectors: np.ndarray) -> list:
        """Recognition decisions (``album.people.recognition.Match``) for embeddings of faces
        that need not be in the catalog."""
        from album.people.recognition import identify

        return identify(
            np.atleast_2d(vectors), self.gallery(), self.threshold, self.settings.recognition
        )

    def _state(self):
        """Every embedded face: ids, vectors, person labels (-1: none), confirmed mask."""
        ids, x = self.catalog.embeddings(self.model_id)
        pos = dict(self._q("SELECT face_id, person_id FROM assignments WHERE source != 'rejected'"))
        conf = {r[0] for r in self._q("SELECT face_id FROM assignments WHERE source = 'confirmed'")}
        labels = np.array([pos.get(int(f), -1) for f in ids], dtype=np.int64)
        fixed = np.array([int(f) in conf for f in ids], dtype=bool)
        return ids, x, labels, fixed

    def _forbidden_people(self, ids: np.ndarray, labels: np.ndarray) -> set[tuple[int, int]]:
        """Pairs of people known to be different: a cannot-link or a shared photo."""
        person = {int(f): int(p) for f, p in zip(ids, labels, strict=True) if p >= 0}
        out = set()
        for a, b in self._q("SELECT face_a, face_b FROM constraints WHERE kind = 'cannot-link'"):
            pa, pb = person.get(a), person.get(b)
            if pa is not None and pb is not None and pa != pb:
                out.add((min(pa, pb), max(pa, pb)))
        for (members,) in self._q(
            "SELECT group_concat(a.person_id) FROM assignments a JOIN faces f "
            "ON f.id = a.face_id WHERE a.source != 'rejected' GROUP BY f.content_hash "
            "HAVING COUNT(*) > 1"
        ):
            ps = sorted({int(v) for v in members.split(",")})
            out.update((p, q) for i, p in enumerate(ps) for q in ps[i + 1 :])
        return out

    def _birth_dates(self) -> tuple[dict[int, str], dict[int, str]]:
        """(person -> birth date, face -> the date of its earliest photo) for the people with a
        birth date; the faces' dates are read only when someone has one."""
        born = dict(
            self._q(
                "SELECT id, birth_date FROM people WHERE birth_date IS NOT NULL "
                "AND merged_into IS NULL"
            )
        )
        if not born:
            return {}, {}
        taken = dict(
            self._q(
                "SELECT f.id, MIN(substr(ph.taken_at, 1, 10)) FROM faces f JOIN photos ph "
                "ON ph.content_hash = f.content_hash WHERE ph.taken_at IS NOT NULL GROUP BY f.id"
            )
        )
        return born, taken

    def _pose(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quality and yaw (degrees) of the faces ``ids``, in their order."""
        rows = {
            f: (q, stored_yaw(y, lm, box))
            for f, q, y, lm, *box in self._q(
                f"SELECT id, quality, yaw, landmarks, {BOX_COLUMNS} FROM faces"
            )
        }
        pairs = [rows.get(int(f), (1.0, 0.0)) for f in ids]
        return (
            np.array([q for q, _ in pairs], dtype=np.float64),
            np.array([y for _, y in pairs], dtype=np.float64),
        )

    def queue(self, limit: int = 20, calibrated: bool = True) -> list[tuple[Question, int, int]]:
        """The most useful "same person?" questions: (question, face a id, face b id).
        ``calibrated``: False ranks and shows the model's raw probabilities (for fitting the
        calibration, ``album eval calibration``)."""
        ids, x, labels, fixed = self._state()
        if len(ids) < 2:
            return []
        pos = {int(f): i for i, f in enumerate(ids)}
        answered = [
            (pos[a], pos[b])
            for a, b in self._q("SELECT face_a, face_b FROM constraints")
            if a in pos and b in pos
        ]
        quality, yaw = self._pose(ids)
        qs = same_person_queue(
            x,
            labels,
            self.threshold,
            self.probability,
            fixed=fixed,
            answered=answered,
            forbidden=self._forbidden_people(ids, labels),
            limit=limit,
            yaw=yaw,
            quality=quality,
            calibration=self.spec.question_calibration if calibrated else None,
        )
        return [(q, int(ids[q.a]), int(ids[q.b])) for q in qs]

    def merge_suggestions(self, limit: int = 20) -> list[tuple[MergeSuggestion, int, int]]:
        """Pairs of people who may be one, closest first: (suggestion, face a, face b);
        ``suggestion.a`` / ``.b`` are person ids."""
        ids, x, labels, _ = self._state()
        if len(ids) < 2:
            return []
        sugg = merge_suggestions(
            x,
            labels,
            self.threshold,
            self.probability,
            forbidden=self._forbidden_people(ids, labels),
        )
        return [(m, int(ids[m.face_a]), int(ids[m.face_b])) for m in sugg[:limit]]

    # --- re-clustering -------------------------------------------------------------------------

    def recluster(self, method: str | None = None) -> ReclusterSummary:
        """Recognise unconfirmed faces against confirmed ones, cluster the rest, and rewrite
        the machine assignments. Confirmed and rejected assignments, names and every other
        user decision are left as they are; clusters keep their ids where their faces stay
        together.

        A writer job (``album.catalog.lock``): raises ``CatalogLockedError`` while a scan or
        another re-cluster runs. The plan comes from one consistent snapshot and is computed
        outside any transaction, so the user keeps working meanwhile; if the user changed
        something by the time it is written, it is planned once more, and a second change
        only makes the write leave alone what the user touched."""
        from album.catalog.lock import writer_job

        start = time.perf_counter()
        with writer_job(self.catalog, "re-cluster", str(self.catalog.path)):
            try:
                try:
                    return self._recluster(method, start, replan=True)
                except _Replan:
                    log.info("re-cluster: the user changed people meanwhile; planning again")
                    return self._recluster(method, start, replan=False)
            finally:
                self.catalog.end_read()  # a snapshot an error left open

    def _user_version(self) -> tuple[int, int]:
        """Changes whenever a user operation is done or undone (the undo log only grows)."""
        row = self._q("SELECT COALESCE(MAX(id), 0), COUNT(undone_at) FROM people_log")[0]
        return int(row[0]), int(row[1])

    def _snapshot(self) -> Snapshot:
        """What re-grouping reads (inside ``begin_read``: one moment of the catalog)."""
        ids, x = self.catalog.embeddings(self.model_id)
        photo = dict(self._q("SELECT id, content_hash FROM faces"))
        quality, yaw = {}, {}
        for f, q, y, lm, *box in self._q(
            f"SELECT id, quality, yaw, landmarks, {BOX_COLUMNS} FROM faces"
        ):
            quality[f], yaw[f] = q, stored_yaw(y, lm, box)
        active = {r[0] for r in self._q("SELECT id FROM people WHERE merged_into IS NULL")}
        confirmed: dict[int, int] = {}
        rejected: set[tuple[int, int]] = set()
        machine_before: dict[int, int] = {}
        for f, p, s in self._q("SELECT face_id, person_id, source FROM assignments"):
            if s == "confirmed":
                confirmed[f] = p
            elif s == "rejected":
                rejected.add((f, p))
            else:
                machine_before[f] = p
        return Snapshot(
            ids,
            x,
            photo,
            quality,
            yaw,
            active,
            confirmed,
            rejected,
            machine_before,
            self._q("SELECT face_a, face_b, kind FROM constraints"),
            *self._birth_dates(),
        )

    def _recluster(self, method: str | None, start: float, replan: bool) -> ReclusterSummary:
        # The snapshot: every read up to end_read() sees the catalog at one moment.
        self.catalog.begin_read()
        version = self._user_version()
        snapshot_clusters = self.cluster_ids()
        snap = self._snapshot()
        self.catalog.end_read()
        plan = plan_regroup(
            snap,
            self.threshold,
            self.settings.recognition,
            self.settings.cluster,
            method or self.settings.method,
            cluster,
        )
        recognised, mapping = plan.recognised, dict(plan.mapping)

        # The write, in one transaction taken up front. The user may have worked since the
        # snapshot: then plan again (once); the second time, write around the user's changes.
        # Triggers already drop machine rows for faces confirmed or rejected meanwhile.
        new_clusters = 0
        t = now()
        with self.catalog.write():
            changed = self._user_version() != version
            if changed and replan:
                raise _Replan
            # Only people that are still clusters (no user data: named, merged, confirmed or
            # rejected faces, hidden, cover) may be dropped, so no ON DELETE CASCADE can take
            # a user decision; and only those of the snapshot, not one made meanwhile.
            old_clusters = snapshot_clusters & self.cluster_ids()
            alive = {r[0] for r in self._q("SELECT id FROM people WHERE merged_into IS NULL")}
            self.db.execute("DELETE FROM assignments WHERE source IN ('automatic', 'suggested')")
            rows = [(f, p, s, d, t) for f, (p, s, d) in recognised.items() if p in alive]
            for c in sorted(set(plan.clustered.values())):
                if mapping.get(c) not in alive:  # new, or its person was merged or removed
                    mapping[c] = self.db.execute(
                        "INSERT INTO people (name, origin, created_at, updated_at) "
                        "VALUES (NULL, 'cluster', ?, ?)",
                        (t, t),
                    ).lastrowid
                    new_clusters += 1
            for f, c in plan.clustered.items():
                if (f, mapping[c]) not in plan.blocked:
                    rows.append((f, mapping[c], "automatic", None, t))
            # Faces a scan (or purge) deleted since the snapshot are skipped.
            self.db.conn.executemany(
                "INSERT INTO assignments (face_id, person_id, source, confidence, updated_at) "
                "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)",
                [(*r, r[0]) for r in rows],
            )
            if changed:  # constraints or confirmed faces added meanwhile: the machine gives way
                self._repair({r[1] for r in rows})
            dropped = [p for p in old_clusters if p not in mapping.values()]
            for s in range(0, len(dropped), 900):
                chunk = dropped[s : s + 900]
                self.db.execute(
                    f"DELETE FROM people WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            self.catalog.set_setting("people.clustered_at", t)
            self.catalog.set_setting("people.cluster_model", self.model_id)
        index = {int(f) for f in snap.ids}
        return ReclusterSummary(
            faces=len(snap.ids),
            confirmed=sum(1 for f in snap.confirmed if f in index),
            assigned=sum(1 for v in recognised.values() if v[1] == "automatic"),
            suggested=sum(1 for v in recognised.values() if v[1] == "suggested"),
            clustered=len(plan.clustered),
            alone=plan.unknown - len(plan.clustered),
            clusters=plan.clusters,
            new_clusters=new_clusters,
            dropped_clusters=len(dropped),
            seconds=time.perf_counter() - start,
            path=plan.report.path,
        )
