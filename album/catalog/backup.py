"""The catalog's safety net: online backups (SQLite's backup API) and restoring one.

Automatic backups go to ``backups/`` beside the catalog, named
``<catalog>-<UTC time>-<reason>.db``; the newest ``KEEP`` are kept. One is made before each
schema migration and before a model switch (re-embedding); ``album backup`` makes one on
request. A backup is a single self-contained SQLite file (rollback journal, no ``-wal``),
copied page by page while other connections keep reading and writing.

>>> backup(catalog)                          # -> backups/catalog-20250101T120000Z-manual.db
>>> restore(catalog.path, backup_file)       # refused while a scan or re-cluster runs
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from album.catalog.copies import KEEP, backups_dir, copy_database, save_copy
from album.catalog.lock import CatalogLockedError, clear_stale, running_job
from album.catalog.schema import SCHEMA_VERSION, SchemaError
from album.catalog.store import Catalog

log = logging.getLogger(__name__)


def backup(
    catalog: Catalog,
    dest: str | os.PathLike[str] | None = None,
    reason: str = "manual",
    keep: int = KEEP,
) -> Path:
    """Copy the open catalog to ``dest``, or to a new file in ``backups/`` beside it (then only
    the newest ``keep`` automatic backups are kept). Returns the file written."""
    return save_copy(catalog.db.conn, catalog.path, dest, reason, keep)


def check_backup(path: str | os.PathLike[str]) -> int:
    """The schema version of a backup file; raises SchemaError when it is not a sound catalog
    this app can open."""
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = (
                conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if "schema_version" in tables
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise SchemaError(f"{path}: not a catalog ({exc})") from exc
    if check != "ok":
        raise SchemaError(f"{path}: the file is damaged ({check})")
    if not version:
        raise SchemaError(f"{path}: an SQLite file but not an album catalog")
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{path}: written by a newer version of the app (schema {version}); update the app"
        )
    return int(version)


def restore(catalog_path: str | os.PathLike[str], source: str | os.PathLike[str]) -> Path | None:
    """Put the backup ``source`` in place of the catalog at ``catalog_path``.

    The current catalog is backed up first (returned; None when there was none). Refused with
    ``CatalogLockedError`` while a writer job (scan, re-embed, re-cluster) runs on it.
    Programs that have the catalog open see the restored content (it is written through
    SQLite, not by replacing the file under them).
    """
    catalog_path = Path(catalog_path)
    source = Path(source)
    check_backup(source)
    if source.resolve() == catalog_path.resolve():
        raise SchemaError(f"{source} is the catalog itself")
    saved: Path | None = None
    current: Catalog | None = None
    if catalog_path.exists():
        try:
            current = Catalog(catalog_path)
        except SchemaError as exc:  # damaged: keep its bytes, then replace the file
            log.warning("the current catalog cannot be opened (%s); replacing it", exc)
    if current is not None:
        with current:
            job = running_job(current)
            if job is not None:
                raise CatalogLockedError(job, catalog_path)
            saved = backup(current, reason="before-restore")
            src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
            try:
                src.backup(current.db.conn)
            finally:
                src.close()
    else:
        if catalog_path.exists():
            folder = backups_dir(catalog_path)
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            saved = folder / f"{catalog_path.stem}-{stamp}-damaged.db"
            shutil.copy2(catalog_path, saved)
        for suffix in ("-wal", "-shm"):
            Path(f"{catalog_path}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            copy_database(src, catalog_path)
        finally:
            src.close()
    with Catalog(catalog_path) as restored:  # WAL again, migrated if the backup is older
        clear_stale(restored)  # a lock row copied with the backup belongs to no running job
    return saved
