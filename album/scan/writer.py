"""The scan's writes to the catalog: photo rows, faces and embeddings (machine data only).

Called inside the pipeline's per-batch transaction. Rules that keep the user's work safe:

* faces belong to photo content (hash): a moved or copied file reuses its faces as they are;
* re-detected content updates its faces in place (same id) when the boxes overlap
  (IoU >= 0.5), so labels attached to face ids stay attached; this also carries faces over
  when a file is edited (new hash) but its faces stay put, e.g. after an EXIF-only edit;
* a face is deleted only when no photo row has its content any more (checked at the end of a
  completed scan) and it carries no user data (a confirmed or rejected assignment, a
  constraint, a person's cover); faces that do carry user data stay until the user purges
  missing photos.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import Enum

import numpy as np
import sqlite_utils

from album.catalog.records import Box, path_to_db
from album.catalog.schema import now
from album.catalog.store import write_transaction
from album.catalog.user_data import FACE_HAS_USER_DATA
from album.scan.reading import Prepared


class Outcome(Enum):
    PROCESSED = "processed"  # new content: faces detected and stored
    ERROR = "error"
    UNCHANGED = "unchanged"  # same content, new size/mtime (touched) or revived
    MOVED = "moved"  # a missing photo's content found at a new path
    COPY = "copy"  # content already catalogued under another path
    NEEDS_DECODE = "needs decode"  # content unknown after all; read it again with pixels


@dataclass(frozen=True)
class FoundFace:
    """A detected face ready to store: original photo pixels."""

    box: Box
    landmarks: np.ndarray  # (5, 2)
    score: float
    quality: float
    vector: np.ndarray  # float32 (D,), unit length
    yaw: float | None = None  # estimated head turn in degrees (models.pose)
    sharpness: float | None = None  # 0..1 (album.scan.quality)


def face_key(box: Box) -> str:
    """Stable identity of a face within its photo content: the box in whole pixels."""
    return ",".join(str(round(v)) for v in box)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def vector_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


class ScanWriter:
    def __init__(
        self, db: sqlite_utils.Database, run_id: int, model_id: str, folder_ids: dict[str, int]
    ) -> None:
        self.db = db
        self.run_id = run_id
        self.model_id = model_id
        self.folder_ids = folder_ids

    def _q(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    # --- photos -------------------------------------------------------------------------------

    def record(self, item: Prepared, faces: list[FoundFace] | None) -> tuple[Outcome, int]:
        """Store one file's result; returns the outcome and the number of new faces."""
        # Write before reading: a batch transaction that opened with a read would fail
        # ("database is locked") when another connection commits before its first write;
        # a write as its first statement waits for the write lock instead (a no-op after).
        self.db.execute("UPDATE scan_runs SET id = id WHERE id = ?", (self.run_id,))
        key = path_to_db(item.path)
        rows = self._q("SELECT id, content_hash FROM photos WHERE path = ?", (key,))
        row_id, old_hash = rows[0] if rows else (None, None)
        folder_id = self.folder_ids.get(item.entry.root)
        if item.error is not None:
            self._upsert(row_id, key, folder_id, item, status="error", error=item.error)
            return Outcome.ERROR, 0
        h = item.content_hash
        template = self._q(
            "SELECT width, height, taken_at, orientation FROM photos WHERE content_hash = ? "
            "AND status IN ('done', 'missing') ORDER BY status = 'missing' LIMIT 1",
            (h,),
        )
        if template:
            dims = dict(
                zip(("width", "height", "taken_at", "orientation"), template[0], strict=True)
            )
            if row_id is None:
                moved = self._missing_with(h, os.path.basename(item.path))
                if moved is not None:
                    self._upsert(moved, key, folder_id, item, status="done", **dims)
                    return Outcome.MOVED, 0
                self._upsert(None, key, folder_id, item, status="done", **dims)
                return Outcome.COPY, 0
            self._upsert(row_id, key, folder_id, item, status="done", **dims)
            return (Outcome.COPY if old_hash not in (None, h) else Outcome.UNCHANGED), 0
        if item.image is None or faces is None:
            return Outcome.NEEDS_DECODE, 0
        carry = []
        if (
            old_hash is not None
            and old_hash != h
            and not self._q(
                "SELECT 1 FROM photos WHERE content_hash = ? AND id != ? LIMIT 1",
                (old_hash, row_id),
            )
        ):
            carry = self._faces(old_hash)
        new = self._store_faces(h, faces, self._faces(h) + carry, content_changed=bool(carry))
        w, hgt = item.image.original_size
        self._upsert(
            row_id,
            key,
            folder_id,
            item,
            status="done",
            width=w,
            height=hgt,
            taken_at=item.image.taken_at,
            orientation=item.image.orientation,
        )
        return Outcome.PROCESSED, new

    def _upsert(
        self,
        row_id: int | None,
        key: str | bytes,
        folder_id: int | None,
        item: Prepared,
        status: str,
        error: str | None = None,
        width: int | None = None,
        height: int | None = None,
        taken_at: str | None = None,
        orientation: int | None = None,
    ) -> None:
        values = (
            key,
            folder_id,
            item.size,
            item.mtime_ns,
            item.content_hash,
            width,
            height,
            taken_at,
            orientation,
            status,
            error,
            self.run_id,
            now(),
        )
        if row_id is None:
            self.db.execute(
                "INSERT INTO photos (path, folder_id, size, mtime_ns, content_hash, width, "
                "height, taken_at, orientation, status, error, scan_run_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        else:
            self.db.execute(
                "UPDATE photos SET path = ?, folder_id = ?, size = ?, mtime_ns = ?, "
                "content_hash = ?, width = ?, height = ?, taken_at = ?, orientation = ?, "
                "status = ?, error = ?, scan_run_id = ?, updated_at = ? WHERE id = ?",
                (*values, row_id),
            )

    def _missing_with(self, content_hash: str, name: str) -> int | None:
        """A missing photo with this content, preferring one with the same file name."""
        rows = self._q(
            "SELECT id, path FROM photos WHERE content_hash = ? AND status = 'missing' ORDER BY id",
            (content_hash,),
        )
        for row_id, path in rows:
            if os.path.basename(os.fsdecode(path)) == name:
                return row_id
        return rows[0][0] if rows else None

    # --- faces --------------------------------------------------------------------------------

    def _faces(self, content_hash: str) -> list[tuple[int, Box]]:
        return [
            (r[0], tuple(r[1:]))
            for r in self._q(
                "SELECT id, box_left, box_top, box_right, box_bottom FROM faces "
                "WHERE content_hash = ?",
                (content_hash,),
            )
        ]

    def _store_faces(
        self,
        content_hash: str,
        found: list[FoundFace],
        existing: list[tuple[int, Box]],
        content_changed: bool,
    ) -> int:
        """Match ``found`` to ``existing`` faces (greedy, best IoU first), update the matched
        ones in place and insert the rest; returns how many were inserted."""
        pairs = sorted(
            (
                (iou(f.box, box), i, j)
                for i, f in enumerate(found)
                for j, (_id, box) in enumerate(existing)
            ),
            reverse=True,
        )
        match: dict[int, int] = {}
        used: set[int] = set()
        for score, i, j in pairs:
            if score < 0.5:
                break
            if i not in match and j not in used:
                match[i] = existing[j][0]
                used.add(j)
        t = now()
        inserted = 0
        for i, f in enumerate(found):
            lm = json.dumps([[round(float(x), 1), round(float(y), 1)] for x, y in f.landmarks])
            box = tuple(round(float(v), 1) for v in f.box)
            cols = (
                content_hash,
                face_key(box),
                *box,
                lm,
                float(f.score),
                float(f.quality),
                None if f.yaw is None else round(float(f.yaw), 1),
                None if f.sharpness is None else round(float(f.sharpness), 3),
                self.run_id,
                t,
            )
            face_id = match.get(i)
            if face_id is not None:
                self.db.execute(
                    "UPDATE faces SET content_hash = ?, face_key = ?, box_left = ?, box_top = ?, "
                    "box_right = ?, box_bottom = ?, landmarks = ?, score = ?, quality = ?, "
                    "yaw = ?, sharpness = ?, scan_run_id = ?, updated_at = ? WHERE id = ?",
                    (*cols, face_id),
                )
                if content_changed:  # other models' vectors describe the old pixels
                    self.db.execute("DELETE FROM embeddings WHERE face_id = ?", (face_id,))
            else:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO faces (content_hash, face_key, box_left, box_top, "
                    "box_right, box_bottom, landmarks, score, quality, yaw, sharpness, "
                    "scan_run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    cols,
                )
                if cur.rowcount == 1:
                    face_id = cur.lastrowid
                    inserted += 1
                else:  # same content and box already stored
                    face_id = self._q(
                        "SELECT id FROM faces WHERE content_hash = ? AND face_key = ?",
                        (content_hash, cols[1]),
                    )[0][0]
            self.put_embedding(face_id, f.vector, t)
        return inserted

    def put_embedding(self, face_id: int, vector: np.ndarray, t: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO embeddings (face_id, model_id, vector, dim, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (face_id, model_id) DO UPDATE "
            "SET vector = excluded.vector, dim = excluded.dim, created_at = excluded.created_at",
            (face_id, self.model_id, vector_blob(vector), int(vector.shape[-1]), t or now()),
        )

    def sweep_orphans(self) -> int:
        """Delete the faces of content no photo row has any more (after edits), unless they
        carry user data; returns how many. Run at the end of a completed scan, not per file:
        two files swapping names would otherwise lose each other's faces mid-scan."""
        doomed = (
            "SELECT id FROM faces WHERE content_hash NOT IN (SELECT content_hash FROM photos "
            f"WHERE content_hash IS NOT NULL) AND NOT {FACE_HAS_USER_DATA}"
        )
        with write_transaction(self.db):  # reads, then deletes: take the write lock first
            n = self._q(f"SELECT COUNT(*) FROM ({doomed})")[0][0]
            self.db.execute(f"DELETE FROM assignments WHERE face_id IN ({doomed})")
            self.db.execute(f"DELETE FROM faces WHERE id IN ({doomed})")
        return n

    # --- the scan as a whole ------------------------------------------------------------------

    def update_run(self, done: int, faces: int, errors: int, total: int | None = None) -> None:
        sql = "UPDATE scan_runs SET photos_done = ?, faces_found = ?, errors = ?, updated_at = ?"
        params: tuple = (done, faces, errors, now())
        if total is not None:
            sql, params = sql + ", photos_total = ?", (*params, total)
        self.db.execute(sql + " WHERE id = ?", (*params, self.run_id))
