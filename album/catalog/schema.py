"""The catalog's tables, and the migrations that bring an older catalog file up to date.

Each migration is a script (or, where SQL cannot compute it, a function of the open database)
applied in its own transaction, then recorded in
``schema_version``; a catalog is at the highest recorded version. A catalog written by a newer
version of the app is refused rather than guessed at.

Two kinds of data live side by side (see ARCHITECTURE.md, "Catalog"):

* machine data, recomputable from the photos: ``folders``, ``photos``, ``faces``,
  ``embeddings``, ``scan_runs``, and ``assignments`` whose source is 'automatic' or 'suggested';
* user data, which only the user's own actions may change: ``people``, ``constraints``, and
  ``assignments`` whose source is 'confirmed' or 'rejected'.

Foreign keys make the split hard to break by accident: a face that carries user data cannot be
deleted (``ON DELETE RESTRICT``), and triggers stop a machine assignment from replacing a
user decision.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import sqlite_utils

from models.pose import estimate_yaw

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The catalog file cannot be used by this version of the app (the message says why)."""


USER_SOURCES = ("confirmed", "rejected")
MACHINE_SOURCES = ("automatic", "suggested")

_V1 = """
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,             -- absolute path of a folder the user added
    added_at TEXT NOT NULL,
    last_scan_at TEXT
);

CREATE TABLE scan_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('scan', 'reembed')),
    status TEXT NOT NULL
        CHECK (status IN ('running', 'done', 'cancelled', 'interrupted', 'failed')),
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    folders TEXT,                          -- JSON list of the folders scanned
    model_id TEXT NOT NULL,
    settings TEXT NOT NULL,                -- JSON: decode/detect sizes, minimum face
    photos_total INTEGER NOT NULL DEFAULT 0,
    photos_done INTEGER NOT NULL DEFAULT 0,
    faces_found INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    pid INTEGER
);

-- One row per file. path is TEXT, or the raw bytes (BLOB) of a name that is not valid UTF-8.
CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,                     -- blake2b-256 of the bytes (hex); NULL if unreadable
    width INTEGER,                         -- upright, full resolution
    height INTEGER,
    taken_at TEXT,                         -- EXIF DateTimeOriginal, ISO 8601, camera time
    orientation INTEGER,                   -- EXIF orientation that was applied (1..8)
    status TEXT NOT NULL CHECK (status IN ('done', 'error', 'missing')),
    error TEXT,                            -- why the photo could not be read (status 'error')
    scan_run_id INTEGER REFERENCES scan_runs(id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX photos_content_hash ON photos(content_hash);
CREATE INDEX photos_status ON photos(status);
CREATE INDEX photos_folder ON photos(folder_id);

-- A face belongs to photo *content*: every file with that content_hash shows it, so a moved,
-- renamed or copied photo keeps the same face rows. face_key (the box rounded to whole pixels)
-- makes re-detection of the same content idempotent.
CREATE TABLE faces (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL,
    face_key TEXT NOT NULL,
    box_left REAL NOT NULL,                -- original upright photo pixels
    box_top REAL NOT NULL,
    box_right REAL NOT NULL,
    box_bottom REAL NOT NULL,
    landmarks TEXT NOT NULL,               -- JSON [[x, y] x 5], MTCNN order, photo pixels
    score REAL NOT NULL,                   -- detector probability
    quality REAL NOT NULL,                 -- 0..1, see album.scan.quality
    scan_run_id INTEGER REFERENCES scan_runs(id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (content_hash, face_key)
);

-- One embedding per face and model, so a model switch adds rows and never touches faces.
CREATE TABLE embeddings (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    vector BLOB NOT NULL,                  -- float32, little-endian, unit length
    dim INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (face_id, model_id)
) WITHOUT ROWID;
CREATE INDEX embeddings_model ON embeddings(model_id);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    name TEXT,
    hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    cover_face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL,
    merged_into INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- face -> person. 'automatic' and 'suggested' rows are machine data (clustering may rewrite
-- them); 'confirmed' and 'rejected' rows are the user's decisions. A face has at most one
-- positive assignment and any number of rejections.
CREATE TABLE assignments (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE RESTRICT,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    source TEXT NOT NULL
        CHECK (source IN ('automatic', 'suggested', 'confirmed', 'rejected')),
    confidence REAL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (face_id, person_id)
);
CREATE UNIQUE INDEX assignments_one_person ON assignments(face_id) WHERE source != 'rejected';
CREATE INDEX assignments_person ON assignments(person_id);

-- A machine assignment for a face the user has decided about is dropped, silently.
CREATE TRIGGER assignments_machine_insert_respects_user
BEFORE INSERT ON assignments
WHEN NEW.source IN ('automatic', 'suggested') AND EXISTS (
    SELECT 1 FROM assignments a WHERE a.face_id = NEW.face_id
    AND (a.source = 'confirmed' OR (a.source = 'rejected' AND a.person_id = NEW.person_id)))
BEGIN
    SELECT RAISE(IGNORE);
END;

-- A user decision is never turned back into a machine one.
CREATE TRIGGER assignments_user_rows_stay_user
BEFORE UPDATE OF source ON assignments
WHEN OLD.source IN ('confirmed', 'rejected') AND NEW.source IN ('automatic', 'suggested')
BEGIN
    SELECT RAISE(ABORT, 'a user decision cannot be replaced by a machine assignment');
END;

CREATE TABLE constraints (
    id INTEGER PRIMARY KEY,
    face_a INTEGER NOT NULL REFERENCES faces(id) ON DELETE RESTRICT,
    face_b INTEGER NOT NULL REFERENCES faces(id) ON DELETE RESTRICT,
    kind TEXT NOT NULL CHECK (kind IN ('cannot-link', 'must-link')),
    created_at TEXT NOT NULL,
    CHECK (face_a < face_b),
    UNIQUE (face_a, face_b)
);
CREATE INDEX constraints_face_b ON constraints(face_b);

-- Small settings of this catalog, e.g. the embedding model in use ('model').
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# People (album.people): who made a person row, and the undo log of the user's operations.
_V2 = """
-- 'cluster': made by clustering, which may renumber or drop it while it carries no user data
-- (no name, no confirmed or rejected face, not hidden, no cover, no merge); 'user': kept.
ALTER TABLE people ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'
    CHECK (origin IN ('user', 'cluster'));

-- One row per user operation on people (name, merge, reject...), newest last. 'undo' holds
-- JSON before-images of the rows the operation changed; undoing restores them, last first.
CREATE TABLE people_log (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    summary TEXT NOT NULL,
    undo TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at TEXT
);
"""

# Per-face pose and sharpness (album.scan.quality, models.pose): profile and blurred faces must
# not seed or bridge a person, and covers and questions prefer frontal faces. NULL for faces
# stored before this version: readers estimate yaw from the landmarks then.
_V3 = """
ALTER TABLE faces ADD COLUMN yaw REAL;        -- estimated head turn, degrees (+: nose to the right)
ALTER TABLE faces ADD COLUMN sharpness REAL;  -- 0..1, the quality's sharpness term
"""


def _reestimate_yaw(db: sqlite_utils.Database) -> None:
    """Every face's yaw again, with the side-view classifier (``models.pose.estimate_yaw``),
    from its stored landmarks and box: no photo is read. The five-point yaw called over half
    of real side views turned rather than profile, so they seeded and bridged people."""
    rows = db.execute(
        "SELECT id, landmarks, box_left, box_top, box_right, box_bottom FROM faces "
        "WHERE landmarks IS NOT NULL AND landmarks != ''"
    ).fetchall()
    rows = [r for r in rows if len(json.loads(r[1])) == 5]
    if not rows:
        return
    yaw = estimate_yaw(
        np.array([json.loads(r[1]) for r in rows], dtype=np.float64),
        np.array([r[2:] for r in rows], dtype=np.float64),
    )
    db.conn.executemany(
        "UPDATE faces SET yaw = ? WHERE id = ?",
        [(round(float(y), 1), r[0]) for y, r in zip(yaw, rows, strict=True)],
    )


def _add_birth_date(db: sqlite_utils.Database) -> None:
    """A person's birth date, the user's own (YYYY-MM-DD): ages in the timeline, and no face in
    a photo taken before it is that person."""
    if "birth_date" not in db["people"].columns_dict:
        db.execute("ALTER TABLE people ADD COLUMN birth_date TEXT")


# (version, description, script or function of the open database). Append; never edit a
# released entry.
MIGRATIONS: list[tuple[int, str, str | Callable[[sqlite_utils.Database], None]]] = [
    (
        1,
        "initial schema: folders, photos, faces, embeddings, people, assignments, constraints",
        _V1,
    ),
    (2, "people: origin (user or cluster) and the undo log of people operations", _V2),
    (3, "faces: estimated yaw and sharpness", _V3),
    (4, "faces: yaw re-estimated with the side-view classifier", _reestimate_yaw),
    (5, "people: birth date", _add_birth_date),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def now() -> str:
    """UTC timestamp as stored in the catalog."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_version(db: sqlite_utils.Database) -> int:
    """Highest applied migration; 0 for an empty file."""
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every pending migration; return the resulting version.

    Raises:
        SchemaError: the file was written by a newer version of the app, or holds tables
            but no ``schema_version`` (not a catalog).
    """
    version = current_version(db)
    latest = MIGRATIONS[-1][0]
    if version > latest:
        raise SchemaError(
            f"this catalog has schema version {version}, newer than this app supports "
            f"({latest}); update the app"
        )
    if version == 0 and db.table_names():
        raise SchemaError("this file is an SQLite database but not an album catalog")
    for number, description, script in MIGRATIONS:
        if number <= version:
            continue
        log.info("catalog: applying migration %d (%s)", number, description)
        # executescript inside atomic(): DDL and the version row commit together or not at all.
        with db.atomic():
            db.executescript(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at TEXT NOT NULL);"
            )
            if callable(script):
                script(db)
            else:
                db.executescript(script)
            db.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (number, description, now()),
            )
        version = number
    return version
