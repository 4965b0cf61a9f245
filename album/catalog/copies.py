"""Copies of the catalog file: where automatic backups go, their names, and the online copy
itself (SQLite's backup API). Below the store, which makes one before each migration;
``album.catalog.backup`` builds backing up and restoring on it."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 3
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}\d*Z)-(?P<reason>[a-z0-9-]+)\.db$")


def backups_dir(catalog_path: str | os.PathLike[str]) -> Path:
    return Path(catalog_path).parent / "backups"


def list_backups(catalog_path: str | os.PathLike[str]) -> list[Path]:
    """The automatic backups of this catalog, oldest first."""
    stem = Path(catalog_path).stem
    folder = backups_dir(catalog_path)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if m and m["stem"] == stem:
            found.append((m["stamp"], p))
    return [p for _, p in sorted(found)]


def copy_database(src: sqlite3.Connection, dest: Path) -> None:
    """Online copy of ``src`` into a new file ``dest`` (written aside, then renamed)."""
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    out = sqlite3.connect(str(tmp))
    try:
        src.backup(out)
        out.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        ok = out.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        out.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise sqlite3.DatabaseError(f"the backup failed its check: {ok}")
    os.replace(tmp, dest)


def save_copy(
    conn: sqlite3.Connection,
    catalog_path: Path,
    dest: str | os.PathLike[str] | None = None,
    reason: str = "manual",
    keep: int = KEEP,
) -> Path:
    """Copy the catalog open on ``conn`` to ``dest``, or to a new file in ``backups/`` beside
    ``catalog_path`` (then only the newest ``keep`` automatic backups are kept). Returns the
    file written."""
    if dest is not None:
        out = Path(dest).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        copy_database(conn, out)
        return out
    folder = backups_dir(catalog_path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    slug = re.sub(r"[^a-z0-9-]+", "-", reason.lower()).strip("-") or "manual"
    out = folder / f"{catalog_path.stem}-{stamp}-{slug}.db"
    copy_database(conn, out)
    log.info("catalog backed up to %s (%s)", out, reason)
    for old in list_backups(catalog_path)[: -max(1, keep)]:
        old.unlink(missing_ok=True)
    return out
