"""The app, the commands and training ask the core: no SQL above the catalog and people stores.

(The import layers themselves are checked by ``lint-imports`` with the contracts in
pyproject.toml, on every ``make test``.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ABOVE_THE_STORES = ("album/gui", "album/cli", "training")
SQL_CALLS = {"execute", "executemany", "executescript"}  # sqlite3 and sqlite-utils


def sql_uses(path: Path) -> list[str]:
    """Where a file talks to SQLite itself: a call of execute/executemany/executescript, or a
    reach for a catalog's ``.db`` (sqlite-utils) connection."""
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and (
            node.attr == "db" or (node.attr in SQL_CALLS and isinstance(node.ctx, ast.Load))
        ):
            found.append(f"{name}:{node.lineno} .{node.attr}")
    return found


def test_no_sql_above_the_stores() -> None:
    files = [f for folder in ABOVE_THE_STORES for f in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 30
    uses = [use for f in files for use in sql_uses(f)]
    assert uses == [], "ask the catalog or the people service instead:\n" + "\n".join(uses)


def test_the_check_sees_sql(tmp_path: Path) -> None:
    sample = tmp_path / "page.py"
    sample.write_text("def f(cat):\n    return cat.db.execute('SELECT 1')\n")
    assert sorted(u.split(" ")[-1] for u in sql_uses(sample)) == [".db", ".execute"]


def test_the_people_service_speaks_sql_only_in_its_stores() -> None:
    # (The undo log keeps its own table, people_log, and is a store of its own.)
    rooms = ("service", "operations", "review", "regroup", "split")
    uses = [use for room in rooms for use in sql_uses(ROOT / "album/people" / f"{room}.py")]
    assert uses == [], "people SQL belongs in album.people.store / group_store:\n" + "\n".join(uses)
    assert sql_uses(ROOT / "album/people/store.py"), "the store is where the SQL went"
