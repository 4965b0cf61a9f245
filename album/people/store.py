"""The people store: every query and low-level write of people, assignments and constraints
that the people operations make, and the rules they keep (``album.catalog.user_data``).
The only place (with ``album.people.group_store``) where the people service speaks SQL.

A ``PeopleStore`` is the base of ``PeopleService`` (``album.people.service``); the writes
here run inside a user operation (``album.people.undo_log``), which saves what they change.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from album.catalog import Catalog, Person
from album.catalog.schema import MACHINE_SOURCES, now
from album.catalog.user_data import MACHINE_CLUSTERS
from album.people.errors import ConstraintError, PeopleError
from album.people.overview import PersonOverview, people_overview
from album.people.settings import PeopleSettings
from album.people.undo_log import Undo, UndoLog

MACHINE = MACHINE_SOURCES
POSITIVE = ("confirmed", "automatic", "suggested")


@dataclass(frozen=True)
class FaceLabel:
    face_id: int
    person_id: int
    source: str
    confidence: float | None


class PeopleStore(UndoLog):
    """People queries and low-level writes on ``catalog`` for embeddings of ``model_id``
    (default: the catalog's model, else the app's default model)."""

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
    ) -> list[PersonOverview]:
        """Active people, named ones first (by name), then clusters by size."""
        rows = people_overview(self.catalog, include_hidden, include_empty)
        if named_only:
            rows = [r for r in rows if r.name]
        rows.sort(key=lambda r: (r.name is None, (r.name or "").lower(), -r.faces, r.id))
        return rows

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

    def _savepoint(self):
        """A nested transaction: a step that fails inside an operation undoes only itself."""
        return self.db.atomic()

    def _constraint(self, a: int, b: int, kind: str) -> None:
        self.db.execute(
            "INSERT INTO constraints (face_a, face_b, kind, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (face_a, face_b) DO UPDATE SET kind = excluded.kind",
            (min(a, b), max(a, b), kind, now()),
        )

    def _rejected(self, person_id: int) -> list[int]:
        """The faces the user said are not person ``person_id``."""
        return [
            r[0]
            for r in self._q(
                "SELECT face_id FROM assignments WHERE person_id = ? AND source = 'rejected'",
                (person_id,),
            )
        ]

    def _face_facts(self, face_ids: Sequence[int]) -> dict[int, tuple[str, float | None, float]]:
        """face -> (photo content hash, stored yaw, quality)."""
        ids = list(face_ids)
        facts: dict[int, tuple] = {}
        for s in range(0, len(ids), 900):
            chunk = ids[s : s + 900]
            for f, photo, yaw, quality in self._q(
                f"SELECT id, content_hash, yaw, quality FROM faces WHERE id IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            ):
                facts[f] = (photo, yaw, quality)
        return facts

    def _must_links(self) -> list[tuple[int, int]]:
        """Pairs of faces the user said are one person."""
        return self._q("SELECT face_a, face_b FROM constraints WHERE kind = 'must-link'")

    def _insert_face(self, undo: Undo, face, box: tuple[float, ...]) -> int:
        """Store a hand-marked face (``album.people.manual.ManualFace``) with its embedding;
        returns its id. Undo deletes it again."""
        from album.scan.writer import face_key, vector_blob

        lm = json.dumps([[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks])
        t = now()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO faces (content_hash, face_key, box_left, box_top, "
            "box_right, box_bottom, landmarks, score, quality, scan_run_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (face.content_hash, face_key(box), *box, lm, float(face.score), float(face.quality), t),
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
        return fid
