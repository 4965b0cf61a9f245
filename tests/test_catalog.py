"""The catalog file: schema, migrations, paths, and the wall between user and machine data."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from album.catalog import Catalog, SchemaError, cache_dir, default_catalog_path, schema
from album.catalog.records import display_path, path_from_db, path_to_db
from album.catalog.schema import now
from album.people import PeopleService
from album.scan.writer import ScanWriter


def _photo(cat: Catalog, path: str, content_hash: str, status: str = "done") -> int:
    return cat.db.execute(
        "INSERT INTO photos (path, size, mtime_ns, content_hash, status, updated_at) "
        "VALUES (?, 1, 1, ?, ?, ?)",
        (path, content_hash, status, now()),
    ).lastrowid


def _face(cat: Catalog, content_hash: str, x: float = 10.0) -> int:
    return cat.db.execute(
        "INSERT INTO faces (content_hash, face_key, box_left, box_top, box_right, box_bottom, "
        "landmarks, score, quality, updated_at) VALUES (?, ?, ?, 10, ?, 60, '[]', 0.99, 0.5, ?)",
        (content_hash, f"{x}", x, x + 50, now()),
    ).lastrowid


def test_new_catalog_is_wal_with_foreign_keys_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "catalog.db"
    with Catalog(path) as cat:
        assert cat.version == schema.SCHEMA_VERSION
        assert cat.db.journal_mode == "wal"
        assert cat.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert cat.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        tables = set(cat.db.table_names())
        assert {
            "schema_version",
            "folders",
            "photos",
            "faces",
            "embeddings",
            "people",
            "assignments",
            "constraints",
            "scan_runs",
            "settings",
        } <= tables
        assert cat.integrity_check() == "ok"
    with Catalog(path) as cat:  # reopening applies nothing twice
        rows = cat.db.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert rows == [(m[0],) for m in schema.MIGRATIONS]


def test_pending_migration_is_applied_once_and_recorded(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "catalog.db"
    Catalog(path).close()
    latest = schema.SCHEMA_VERSION
    extra = (latest + 1, "photos get a rating", "ALTER TABLE photos ADD COLUMN rating INTEGER;")
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    with Catalog(path) as cat:
        assert cat.version == latest + 1
        assert "rating" in cat.db["photos"].columns_dict
    with Catalog(path) as cat:
        versions = [r[0] for r in cat.db.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, latest + 2))


def test_failed_migration_leaves_the_file_at_the_old_version(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "catalog.db"
    Catalog(path).close()
    latest = schema.SCHEMA_VERSION
    bad = (
        latest + 1,
        "broken",
        "ALTER TABLE photos ADD COLUMN rating INTEGER; SELECT * FROM nowhere;",
    )
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, bad])
    with pytest.raises(SchemaError):
        Catalog(path)
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.version == latest
        assert "rating" not in cat.db["photos"].columns_dict


def test_newer_or_foreign_files_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with Catalog(newer) as cat:
        cat.db.execute("INSERT INTO schema_version VALUES (99, 'future', '')")
    with pytest.raises(SchemaError, match="newer"):
        Catalog(newer)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not an album catalog"):
        Catalog(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(SchemaError):
        Catalog(junk)


def test_default_locations(monkeypatch) -> None:
    home = os.environ["ALBUM_HOME"]  # set per test by conftest
    assert default_catalog_path() == Path(home) / "catalog.db"
    assert cache_dir() == Path(home) / "cache"
    monkeypatch.delenv("ALBUM_HOME")
    data = Path(platformdirs.user_data_dir("album", appauthor=False))
    assert default_catalog_path() == data / "catalog.db"
    assert cache_dir() == Path(platformdirs.user_cache_dir("album", appauthor=False))


def test_machine_writes_cannot_override_user_decisions(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        _photo(cat, "/p/a.jpg", "h1")
        f1, f2 = _face(cat, "h1", 10), _face(cat, "h1", 100)
        _photo(cat, "/p/b.jpg", "h2")
        f3 = _face(cat, "h2")
        svc = PeopleService(cat)
        alice, bob = svc.enroll(f1, "Alice"), svc.enroll(f3, "Bob")
        svc.reject([f2], alice.id)

        def machine(face: int, person: int, source: str = "automatic") -> None:
            cat.db.execute(
                "INSERT INTO assignments (face_id, person_id, source, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (face, person, source, now()),
            )

        machine(f1, bob.id)  # f1 is confirmed: the suggestion is dropped
        machine(f2, alice.id, "suggested")  # the user said f2 is not Alice: dropped
        machine(f2, bob.id)  # allowed: nobody decided about f2 and Bob
        got = {(a.face_id, a.person_id, a.source) for a in cat.assignments()}
        assert got == {
            (f1, alice.id, "confirmed"),
            (f2, alice.id, "rejected"),
            (f2, bob.id, "automatic"),
            (f3, bob.id, "confirmed"),
        }
        with pytest.raises(sqlite3.IntegrityError, match="user decision"):
            cat.db.execute("UPDATE assignments SET source = 'automatic' WHERE face_id = ?", (f1,))
        with pytest.raises(sqlite3.IntegrityError):  # a labelled face cannot just vanish
            cat.db.execute("DELETE FROM faces WHERE id = ?", (f1,))
        # A face has one positive assignment at most.
        with pytest.raises(sqlite3.IntegrityError):
            cat.db.execute(
                "INSERT INTO assignments (face_id, person_id, source, updated_at) "
                "VALUES (?, ?, 'confirmed', ?)",
                (f2, alice.id + 100, now()),
            )
        svc.move([f2], bob.id)  # the user may change their mind
        assert {(a.person_id, a.source) for a in cat.assignments(f2)} == {
            (alice.id, "rejected"),
            (bob.id, "confirmed"),
        }


def test_sweeping_old_content_keeps_labelled_faces(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        photo = _photo(cat, "/p/a.jpg", "old")
        labelled, plain, suggested = (
            _face(cat, "old", 10),
            _face(cat, "old", 100),
            _face(cat, "old", 200),
        )
        person = PeopleService(cat).enroll(labelled, "Ann")
        cat.db.execute(
            "INSERT INTO assignments VALUES (?, ?, 'suggested', 0.7, ?)",
            (suggested, person.id, now()),
        )
        cat.db.execute("UPDATE photos SET content_hash = 'new' WHERE id = ?", (photo,))
        _photo(cat, "/p/b.jpg", "other")
        other = _face(cat, "other")
        writer = ScanWriter(cat.db, 0, "m", {})
        assert writer.sweep_orphans() == 2
        assert {f.id for f in cat.all_faces()} == {labelled, other}
        assert [a.source for a in cat.assignments()] == ["confirmed"]
        del plain


def test_purge_missing_removes_only_faces_no_file_shows(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        _photo(cat, "/p/kept.jpg", "k")
        _photo(cat, "/p/gone.jpg", "g", status="missing")
        _photo(cat, "/p/copy_of_kept.jpg", "k", status="missing")
        kept, gone = _face(cat, "k"), _face(cat, "g")
        cat.db.execute(
            "INSERT INTO embeddings VALUES (?, 'm', ?, 2, ?)",
            (gone, np.zeros(2, "<f4").tobytes(), now()),
        )
        svc = PeopleService(cat)
        p = svc.enroll(gone, "Ann")
        svc.set_cover(p.id, gone)
        svc.answer(kept, gone, same=False)
        assert cat.counts().faces_missing == 1
        dry = cat.purge_missing(dry_run=True)
        assert (dry.photos, dry.faces, dry.labels) == (2, 1, 2)
        assert cat.counts().photos_missing == 2  # nothing changed
        r = cat.purge_missing()
        assert (r.photos, r.faces, r.labels) == (2, 1, 2)
        assert [f.id for f in cat.all_faces()] == [kept]
        assert [ph.path for ph in cat.photos()] == ["/p/kept.jpg"]
        assert cat.person(p.id) is not None and cat.person(p.id).cover_face_id is None
        assert cat.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 0
        assert cat.constraints() == []
        assert cat.integrity_check() == "ok"


def test_paths_that_are_not_utf8_round_trip(tmp_path: Path) -> None:
    weird = os.fsdecode(b"/photos/caf\xe9 \xff.jpg")  # Latin-1 bytes on a UTF-8 system
    stored = path_to_db(weird)
    assert isinstance(stored, bytes)
    assert path_from_db(stored) == weird
    assert path_to_db("/photos/照片.jpg") == "/photos/照片.jpg"
    shown = display_path(weird + "\nx")
    assert "\n" not in shown and "\\xe9" in shown and shown.isprintable()
    with Catalog(tmp_path / "c.db") as cat:
        pid = _photo(cat, stored, "h")
        assert cat.photo(pid).path == weird


def test_faces_from_before_yaw_was_stored_read_it_from_their_landmarks(tmp_path: Path) -> None:
    turned = [[30, 40], [70, 40], [70, 60], [35, 80], [65, 80]]  # nose far to the right
    with Catalog(tmp_path / "c.db") as cat:
        t = now()
        for key, yaw in (("a", None), ("b", -12.5)):
            cat.db.execute(
                "INSERT INTO faces (content_hash, face_key, box_left, box_top, box_right, "
                "box_bottom, landmarks, score, quality, yaw, updated_at) "
                "VALUES (?, ?, 0, 0, 100, 100, ?, 0.99, 0.9, ?, ?)",
                ("0" * 64, key, json.dumps(turned), yaw, t),
            )
        faces = {f.id: f for f in cat.faces_of_content("0" * 64)}
        estimated, stored = sorted(faces.values(), key=lambda f: f.id)
        assert estimated.yaw > 50  # a profile, read from the landmarks
        assert stored.yaw == -12.5  # the stored value wins


def test_migration_4_reestimates_stored_yaw_from_landmarks_and_box(tmp_path: Path) -> None:
    # A real side view's five points (CFP profile 001/04, tests/test_pose.py) stored with the
    # five-point yaw of schema 3, and a frontal face: reopening re-estimates both, reading no
    # photo.
    side = [[162.1, 191.4], [214.2, 179.6], [239.7, 277.5], [177.3, 364.9], [213.5, 354.0]]
    front = [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]]
    path = tmp_path / "c.db"
    with Catalog(path) as cat:
        t = now()
        for key, marks, right, bottom, yaw in (
            ("side", side, 256.3, 485.2, 37.5),
            ("front", front, 100, 100, 0.0),
        ):
            cat.db.execute(
                "INSERT INTO faces (content_hash, face_key, box_left, box_top, box_right, "
                "box_bottom, landmarks, score, quality, yaw, updated_at) "
                "VALUES (?, ?, 0, 0, ?, ?, ?, 0.99, 0.9, ?, ?)",
                ("0" * 64, key, right, bottom, json.dumps(marks), yaw, t),
            )
        cat.db.execute("DELETE FROM schema_version WHERE version >= 4")
    with Catalog(path) as cat:
        assert cat.version == schema.SCHEMA_VERSION
        yaw = dict(cat.db.execute("SELECT face_key, yaw FROM faces").fetchall())
    assert yaw["side"] >= 50
    assert abs(yaw["front"]) < 1


def test_migration_5_adds_birth_dates_keeping_the_people(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with Catalog(path) as cat:
        t = now()
        cat.db.execute(
            "INSERT INTO people (name, origin, created_at, updated_at) "
            "VALUES ('Ada', 'user', ?, ?)",
            (t, t),
        )
        cat.db.execute("ALTER TABLE people DROP COLUMN birth_date")  # as schema 4 had it
        cat.db.execute("DELETE FROM schema_version WHERE version = 5")
    with Catalog(path) as cat:
        assert cat.version == schema.SCHEMA_VERSION
        [ada] = cat.people()
        assert ada.name == "Ada" and ada.birth_date is None


def test_the_store_answers_what_the_app_and_training_ask(tmp_path: Path) -> None:
    from album.people.synthetic import fill_catalog

    with Catalog(tmp_path / "c.db") as cat:
        x = np.eye(4, 8, dtype=np.float32)
        ids = fill_catalog(cat, x, [0, 0, 1, 2])
        assert cat.faces_by_photo() == sorted(
            (f"{p:064x}", f) for p, f in zip([0, 0, 1, 2], ids, strict=True)
        )
        assert cat.face_path(ids[2]) == "/synthetic/photo_00001.jpg" and cat.face_path(999) is None
        assert cat.faces_without_embedding("other") == 4
        cat.store_embeddings("other", ids[:3], x[:3] * 2)
        assert cat.faces_without_embedding("other") == 1
        assert np.array_equal(cat.embedding(ids[1], "other"), x[1] * 2)
        cat.set_setting("k", "v")
        cat.delete_setting("k")
        assert cat.get_setting("k", "default") == "default"
        assert cat.assignment_counts(1) == {}
