"""The undo log of people operations: each user operation writes, in its own transaction,
the before-images of what it changes (``people_log``); ``undo`` puts them back, newest first.
The base of the people store (``album.people.store.PeopleStore``), which provides
``catalog``, ``db``, ``_q``, ``_label`` and ``_repair``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from album.catalog.schema import MACHINE_SOURCES, now

if TYPE_CHECKING:
    from album.catalog import Catalog


@dataclass(frozen=True)
class LogEntry:
    id: int
    action: str
    summary: str
    created_at: str
    undone_at: str | None


@dataclass
class Undo:
    """Before-images of what one operation changes."""

    people: dict[int, dict] = field(default_factory=dict)
    new_people: list[int] = field(default_factory=list)
    new_faces: list[int] = field(default_factory=list)  # hand-marked faces (deleted on undo)
    faces: dict[int, list[dict]] = field(default_factory=dict)
    constraints: dict[str, dict | None] = field(default_factory=dict)
    summary: str = ""

    def as_json(self) -> str:
        return json.dumps(
            {
                "people": list(self.people.values()),
                "new_people": self.new_people,
                "new_faces": self.new_faces,
                "faces": {str(k): v for k, v in self.faces.items()},
                "constraints": self.constraints,
            }
        )


_Op = TypeVar("_Op", bound=Callable[..., Any])


def user_operation(method: _Op) -> _Op:
    """Run a whole user operation, its checks included, in one write transaction taken up
    front: a concurrent scan or re-cluster makes it wait instead of fail, and what it checked
    is still true when it writes. Nested operations (``name`` merging) share the transaction."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.catalog.write():
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


class UndoLog:
    """History and undo of the people operations (see the module's docstring)."""

    catalog: Catalog
    db: Any

    def _q(self, sql: str, params: Any = ()) -> list[tuple]:
        raise NotImplementedError

    def _repair(self, person_ids: Iterable[int]) -> int:
        raise NotImplementedError

    @contextmanager
    def _operation(self, action: str) -> Iterator[Undo]:
        undo = Undo()
        with self.catalog.write():
            yield undo
            self.db.execute(
                "INSERT INTO people_log (action, summary, undo, created_at) VALUES (?, ?, ?, ?)",
                (action, undo.summary or action, undo.as_json(), now()),
            )

    def _save_people(self, undo: Undo, ids: Iterable[int]) -> None:
        for pid in ids:
            if pid in undo.people or pid in undo.new_people:
                continue
            rows = list(self.db.query("SELECT * FROM people WHERE id = ?", (pid,)))
            if rows:
                undo.people[pid] = rows[0]

    def _save_faces(self, undo: Undo, face_ids: Iterable[int]) -> None:
        todo = [f for f in set(face_ids) if f not in undo.faces]
        for s in range(0, len(todo), 900):
            chunk = todo[s : s + 900]
            rows: dict[int, list[dict]] = {f: [] for f in chunk}
            for r in self.db.query(
                f"SELECT face_id, person_id, source, confidence, updated_at FROM assignments "
                f"WHERE face_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                rows[r["face_id"]].append(r)
            undo.faces.update(rows)

    def _save_constraint(self, undo: Undo, a: int, b: int) -> None:
        key = f"{a},{b}"
        if key not in undo.constraints:
            rows = list(
                self.db.query("SELECT * FROM constraints WHERE face_a = ? AND face_b = ?", (a, b))
            )
            undo.constraints[key] = rows[0] if rows else None

    def history(self, limit: int = 20, include_undone: bool = False) -> list[LogEntry]:
        where = "" if include_undone else "WHERE undone_at IS NULL"
        return [
            LogEntry(*r)
            for r in self._q(
                f"SELECT id, action, summary, created_at, undone_at FROM people_log {where} "
                f"ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        ]

    @user_operation
    def undo(self) -> LogEntry | None:
        """Undo the latest operation not yet undone (last first); None when there is none."""
        rows = self._q(
            "SELECT id, action, summary, undo, created_at FROM people_log "
            "WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return None
        entry_id, action, summary, blob, created = rows[0]
        data = json.loads(blob)
        t = now()
        with self.db.atomic():
            for key, row in data["constraints"].items():
                a, b = (int(v) for v in key.split(","))
                self.db.execute("DELETE FROM constraints WHERE face_a = ? AND face_b = ?", (a, b))
                if row is not None:
                    self.db.execute(
                        "INSERT INTO constraints (id, face_a, face_b, kind, "
                        "created_at) VALUES (:id, :face_a, :face_b, :kind, "
                        ":created_at)",
                        row,
                    )
            faces = [int(f) for f in data["faces"]]
            for s in range(0, len(faces), 900):
                chunk = faces[s : s + 900]
                self.db.execute(
                    f"DELETE FROM assignments WHERE face_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            for row in data["people"]:
                self.db.execute(
                    "INSERT INTO people (id, name, hidden, cover_face_id, merged_into, origin, "
                    "birth_date, created_at, updated_at) VALUES (:id, :name, :hidden, "
                    ":cover_face_id, :merged_into, :origin, :birth_date, :created_at, "
                    ":updated_at) ON CONFLICT (id) DO UPDATE "
                    "SET name = excluded.name, hidden = excluded.hidden, "
                    "cover_face_id = excluded.cover_face_id, merged_into = excluded.merged_into, "
                    "origin = excluded.origin, birth_date = excluded.birth_date, "
                    "updated_at = excluded.updated_at",
                    {"birth_date": None, **row},  # entries older than birth dates lack it
                )
            for pid in data["new_people"]:
                self.db.execute(
                    "UPDATE people SET merged_into = NULL WHERE merged_into = ?", (pid,)
                )
                self.db.execute("DELETE FROM assignments WHERE person_id = ?", (pid,))
                self.db.execute("DELETE FROM people WHERE id = ?", (pid,))
            rows_back = [r for rs in data["faces"].values() for r in rs]
            rows_back.sort(key=lambda r: r["source"] in MACHINE_SOURCES)  # user decisions first
            existing = {r[0] for r in self._q("SELECT id FROM people")}
            for r in rows_back:
                if r["person_id"] not in existing:
                    continue  # a cluster that re-clustering has since dropped
                self.db.execute(
                    "INSERT OR IGNORE INTO assignments (face_id, person_id, source, confidence, "
                    "updated_at) VALUES (:face_id, :person_id, :source, :confidence, "
                    ":updated_at)",
                    r,
                )
            # Re-clustering since the operation may have given these people other faces that
            # clash with the restored ones: the machine's assignments give way.
            self._repair({r["person_id"] for r in rows_back if r["person_id"] in existing})
            for fid in data.get("new_faces", []):
                self.db.execute(
                    "UPDATE people SET cover_face_id = NULL WHERE cover_face_id = ?", (fid,)
                )
                self.db.execute(
                    "DELETE FROM constraints WHERE face_a = ? OR face_b = ?", (fid, fid)
                )
                self.db.execute("DELETE FROM assignments WHERE face_id = ?", (fid,))
                self.db.execute("DELETE FROM embeddings WHERE face_id = ?", (fid,))
                self.db.execute("DELETE FROM faces WHERE id = ?", (fid,))
            self.db.execute("UPDATE people_log SET undone_at = ? WHERE id = ?", (t, entry_id))
        return LogEntry(entry_id, action, summary, created, t)
