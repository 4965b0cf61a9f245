"""``Catalog``: the open catalog file, its queries, and its one way to write (``write()``).

User decisions are written by ``album.people.PeopleService`` only; machine writes (scanning,
re-embedding) live in ``album.scan`` and never touch user rows (see ``album.catalog.schema``).

One ``Catalog`` per thread: the SQLite connection is not shared across threads. Other
processes (the GUI, a second command) may read while a scan writes (WAL mode).

Every transaction that writes after reading is taken up front (``BEGIN IMMEDIATE``): in WAL
mode a deferred transaction that reads, then writes, fails at once with "database is locked"
when another connection committed in between (the busy timeout cannot help there), whereas
``BEGIN IMMEDIATE`` waits for the other writer's transaction like any lock.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from album.catalog.copies import save_copy
from album.catalog.paths import default_catalog_path
from album.catalog.records import (
    Assignment,
    Constraint,
    Face,
    Folder,
    Person,
    Photo,
    ScanRun,
    StatusCounts,
    path_to_db,
)
from album.catalog.schema import SCHEMA_VERSION, SchemaError, current_version, migrate, now

log = logging.getLogger(__name__)

# A photo's faces are "present" while some non-missing file has its content.
_PRESENT_CONTENT = (
    "SELECT content_hash FROM photos WHERE status != 'missing' AND content_hash IS NOT NULL"
)


class CatalogBusyError(sqlite3.OperationalError):
    """Another program kept the catalog's write lock for too long (the message says so)."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def write_transaction(
    db: sqlite_utils.Database, attempts: int = 3
) -> Iterator[sqlite_utils.Database]:
    """One write transaction on ``db``, its write lock taken up front (``BEGIN IMMEDIATE``).

    Waiting for another writer is the busy timeout's job; on top of it, a "database is
    locked" at BEGIN (e.g. while another process recovers the WAL) is retried ``attempts``
    times before ``CatalogBusyError``. Inside a transaction already open: a savepoint.
    Commits on success, rolls back on any exception.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    delay = 0.1
    for attempt in range(attempts):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if attempt == attempts - 1:
                raise CatalogBusyError(
                    "the catalog is busy: another program has been writing to it for too long "
                    f"({exc}); try again in a moment"
                ) from exc
            log.info("catalog busy (%s), retrying", exc)
            time.sleep(delay)
            delay *= 2
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


@dataclass(frozen=True)
class PurgeResult:
    photos: int
    faces: int
    labels: int  # confirmed or rejected assignments and constraints removed with the faces


class Catalog:
    """An open catalog file (created and migrated on first use).

    Args:
        path: the catalog file; None for the default (see ``album.catalog.paths``).
        timeout: seconds to wait for another process's write lock before giving up.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_catalog_path()
        self._snapshot = False  # a read snapshot begun by begin_read() is open
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(self.path), timeout=timeout)
            # No sqlite-utils plugins: loading them scans every installed package's entry
            # points (0.1 s of the app's first screen) for nothing the catalog uses.
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.db.execute("PRAGMA foreign_keys = ON")
            if self.db.journal_mode != "wal":
                self.db.enable_wal()
            # WAL + NORMAL: a killed process loses nothing committed; power loss may lose the
            # last transactions but never corrupts the file.
            self.db.execute("PRAGMA synchronous = NORMAL")
            if 0 < current_version(self.db) < SCHEMA_VERSION:
                save_copy(conn, self.path, reason=f"before-migration-{SCHEMA_VERSION}")
            self.version = migrate(self.db)
        except sqlite3.DatabaseError as exc:
            raise SchemaError(f"{self.path}: cannot open the catalog ({exc})") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------------------

    def write(self) -> AbstractContextManager[sqlite_utils.Database]:
        """The write transaction every multi-statement write uses: ``with catalog.write():``
        (see ``write_transaction``)."""
        return write_transaction(self.db)

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """A consistent snapshot: every query inside sees the catalog as of the first one,
        whatever other connections commit meanwhile. Writes nothing."""
        self.begin_read()
        try:
            yield self.db
        finally:
            self.end_read()

    def begin_read(self) -> None:
        """Start a read snapshot (``read()`` without a block); ``end_read`` ends it. Inside
        a transaction already open, that one is the snapshot."""
        if not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN")
            self._snapshot = True

    def end_read(self) -> None:
        """End the snapshot ``begin_read`` started, if any (nothing else is committed)."""
        if self._snapshot:
            self._snapshot = False
            if self.db.conn.in_transaction:
                self.db.conn.execute("COMMIT")

    def _rows(self, sql: str, params: tuple | list | dict = ()) -> Iterator[dict]:
        return self.db.query(sql, params)

    def _one(self, sql: str, params: tuple | list = ()) -> object:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    # --- settings -----------------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        value = self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_setting(self, key: str) -> None:
        """Forget a setting (readers get their default again)."""
        self.db.execute("DELETE FROM settings WHERE key = ?", (key,))

    @property
    def model(self) -> str | None:
        """Embedding model the catalog uses (set by the first scan, changed by re-embedding)."""
        return self.get_setting("model")

    # --- folders and photos -------------------------------------------------------------------

    def folders(self) -> list[Folder]:
        return [
            Folder(r["id"], r["path"], r["added_at"], r["last_scan_at"])
            for r in self._rows("SELECT * FROM folders ORDER BY path")
        ]

    def add_folder(self, path: str | os.PathLike[str]) -> Folder:
        """Register a folder (absolute path) for scanning; returns it, new or existing."""
        text = os.path.abspath(os.fspath(path))
        self.db.execute(
            "INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)", (text, now())
        )
        r = next(self._rows("SELECT * FROM folders WHERE path = ?", (text,)))
        return Folder(r["id"], r["path"], r["added_at"], r["last_scan_at"])

    def photo(self, photo_id: int) -> Photo | None:
        row = next(self._rows("SELECT * FROM photos WHERE id = ?", (photo_id,)), None)
        return Photo.from_row(row) if row else None

    def photo_by_path(self, path: str | os.PathLike[str]) -> Photo | None:
        key = path_to_db(os.path.abspath(os.fspath(path)))
        row = next(self._rows("SELECT * FROM photos WHERE path = ?", (key,)), None)
        return Photo.from_row(row) if row else None

    def photos(self, status: str | None = None) -> list[Photo]:
        """Every photo (or those with ``status``), by path."""
        if status is None:
            rows = self._rows("SELECT * FROM photos ORDER BY path")
        else:
            rows = self._rows("SELECT * FROM photos WHERE status = ? ORDER BY path", (status,))
        return [Photo.from_row(r) for r in rows]

    def errors(self) -> list[Photo]:
        return self.photos("error")

    def photos_with_content(self, content_hash: str) -> list[Photo]:
        rows = self._rows(
            "SELECT * FROM photos WHERE content_hash = ? ORDER BY status, id", (content_hash,)
        )
        return [Photo.from_row(r) for r in rows]

    # --- faces and embeddings -----------------------------------------------------------------

    def face(self, face_id: int) -> Face | None:
        row = next(self._rows("SELECT * FROM faces WHERE id = ?", (face_id,)), None)
        return Face.from_row(row) if row else None

    def faces_of_content(self, content_hash: str) -> list[Face]:
        rows = self._rows(
            "SELECT * FROM faces WHERE content_hash = ? ORDER BY box_left, box_top",
            (content_hash,),
        )
        return [Face.from_row(r) for r in rows]

    def faces_of_photo(self, photo: Photo | int) -> list[Face]:
        """Faces of a photo, left to right."""
        p = self.photo(photo) if isinstance(photo, int) else photo
        if p is None or p.content_hash is None:
            return []
        return self.faces_of_content(p.content_hash)

    def all_faces(self) -> list[Face]:
        return [Face.from_row(r) for r in self._rows("SELECT * FROM faces ORDER BY id")]

    def embedding(self, face_id: int, model_id: str) -> np.ndarray | None:
        blob = self._one(
            "SELECT vector FROM embeddings WHERE face_id = ? AND model_id = ?", (face_id, model_id)
        )
        return None if blob is None else np.frombuffer(blob, dtype="<f4").copy()

    def embeddings(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(face ids (N,), vectors (N, D) float32) of every face embedded with ``model_id``."""
        rows = self.db.execute(
            "SELECT face_id, vector FROM embeddings WHERE model_id = ? ORDER BY face_id",
            (model_id,),
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])

    def store_embeddings(self, model_id: str, face_ids: Sequence[int], vectors: np.ndarray) -> None:
        """Write (or replace) the faces' ``model_id`` vectors, in one transaction."""
        stamp = now()
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (face_id, model_id, vector, dim, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (int(f), model_id, v.astype("<f4").tobytes(), int(v.shape[0]), stamp)
                    for f, v in zip(face_ids, vectors, strict=True)
                ],
            )

    def faces_without_embedding(self, model_id: str) -> int:
        """How many faces have no ``model_id`` vector."""
        return int(
            self._one(
                "SELECT COUNT(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM embeddings e "
                "WHERE e.face_id = f.id AND e.model_id = ?)",
                (model_id,),
            )
            or 0
        )

    def faces_by_photo(self) -> list[tuple[str, int]]:
        """(photo content hash, face id) of every face, grouped by photo."""
        return [
            (str(h), int(f))
            for h, f in self.db.execute(
                "SELECT content_hash, id FROM faces ORDER BY content_hash, id"
            ).fetchall()
        ]

    def face_path(self, face_id: int) -> str | None:
        """The stored path of a file holding this face (a readable one first), or None."""
        value = self._one(
            "SELECT ph.path FROM faces fa JOIN photos ph ON ph.content_hash = fa.content_hash "
            "WHERE fa.id = ? ORDER BY ph.status != 'done', ph.id LIMIT 1",
            (face_id,),
        )
        return None if value is None else str(value)

    def models_of_face(self, face_id: int) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT model_id FROM embeddings WHERE face_id = ? ORDER BY model_id", (face_id,)
            )
        ]

    # --- people and the user's decisions (read here, written by album.people.PeopleService) --

    def people(self) -> list[Person]:
        return [Person.from_row(r) for r in self._rows("SELECT * FROM people ORDER BY id")]

    def person(self, person_id: int) -> Person | None:
        row = next(self._rows("SELECT * FROM people WHERE id = ?", (person_id,)), None)
        return Person.from_row(row) if row else None

    def assignments(self, face_id: int | None = None) -> list[Assignment]:
        sql = "SELECT face_id, person_id, source, confidence FROM assignments"
        params: tuple = ()
        if face_id is not None:
            sql, params = sql + " WHERE face_id = ?", (face_id,)
        return [
            Assignment(*r) for r in self.db.execute(sql + " ORDER BY face_id, person_id", params)
        ]

    def assignment_counts(self, person_id: int) -> dict[str, int]:
        """How many of the person's faces are 'confirmed', 'automatic', 'suggested', 'rejected'."""
        return {
            str(source): int(n)
            for source, n in self.db.execute(
                "SELECT source, COUNT(*) FROM assignments WHERE person_id = ? GROUP BY source",
                (person_id,),
            )
        }

    def constraints(self) -> list[Constraint]:
        return [
            Constraint(*r)
            for r in self.db.execute("SELECT id, face_a, face_b, kind FROM constraints ORDER BY id")
        ]

    # --- status and maintenance ---------------------------------------------------------------

    def counts(self) -> StatusCounts:
        by_status = dict(
            self.db.execute("SELECT status, COUNT(*) FROM photos GROUP BY status").fetchall()
        )
        models = dict(
            self.db.execute(
                "SELECT model_id, COUNT(*) FROM embeddings GROUP BY model_id"
            ).fetchall()
        )
        return StatusCounts(
            folders=int(self._one("SELECT COUNT(*) FROM folders") or 0),
            photos_done=by_status.get("done", 0),
            photos_error=by_status.get("error", 0),
            photos_missing=by_status.get("missing", 0),
            faces=int(self._one("SELECT COUNT(*) FROM faces") or 0),
            faces_missing=int(
                self._one(
                    f"SELECT COUNT(*) FROM faces WHERE content_hash NOT IN ({_PRESENT_CONTENT})"
                )
                or 0
            ),
            people=int(self._one("SELECT COUNT(*) FROM people WHERE merged_into IS NULL") or 0),
            embeddings=models,
        )

    def scan_runs(self, limit: int = 10) -> list[ScanRun]:
        return [
            ScanRun.from_row(r)
            for r in self._rows("SELECT * FROM scan_runs ORDER BY id DESC LIMIT ?", (limit,))
        ]

    def purge_missing(self, dry_run: bool = False) -> PurgeResult:
        """Forget missing photos, and the faces (with their labels) no file shows any more.

        This is the user's decision: it is the one operation that deletes user labels, those
        attached to faces of photos that are gone. ``dry_run`` only counts.
        """
        gone = f"SELECT id FROM faces WHERE content_hash NOT IN ({_PRESENT_CONTENT})"
        with self.write():
            photos = int(self._one("SELECT COUNT(*) FROM photos WHERE status = 'missing'") or 0)
            faces = int(self._one(f"SELECT COUNT(*) FROM ({gone})") or 0)
            labels = int(
                self._one(
                    f"SELECT COUNT(*) FROM assignments WHERE source IN ('confirmed', 'rejected') "
                    f"AND face_id IN ({gone})"
                )
                or 0
            )
            labels += int(
                self._one(
                    f"SELECT COUNT(*) FROM constraints WHERE face_a IN ({gone}) "
                    f"OR face_b IN ({gone})"
                )
                or 0
            )
            if not dry_run:
                self.db.execute(f"DELETE FROM assignments WHERE face_id IN ({gone})")
                self.db.execute(
                    f"DELETE FROM constraints WHERE face_a IN ({gone}) OR face_b IN ({gone})"
                )
                self.db.execute(f"DELETE FROM faces WHERE id IN ({gone})")
                self.db.execute("DELETE FROM photos WHERE status = 'missing'")
        return PurgeResult(photos, faces, labels)

    def integrity_check(self) -> str:
        """SQLite's verdict on the file: 'ok' when sound."""
        rows = self.db.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)
