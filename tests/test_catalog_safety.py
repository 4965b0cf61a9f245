"""Nothing the user decides fails silently or is lost: write transactions taken up front,
re-clustering that gives way to the user's changes, one writer job per catalog, backups."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from album.catalog import Catalog, schema
from album.catalog.backup import backup, restore
from album.catalog.copies import list_backups
from album.catalog.lock import (
    LOCK_KEY,
    CatalogLockedError,
    JobInfo,
    interrupt_dead_runs,
    process_start,
    running_job,
    writer_job,
)
from album.catalog.store import CatalogBusyError
from album.cli import main
from album.people import PeopleService
from album.people import service as service_module
from album.people.synthetic import fill_catalog, synthetic_people


@pytest.fixture
def album(tmp_path: Path) -> Path:
    """6 people x 5 faces, clustered."""
    x, _ = synthetic_people(6, 5, spread=0.28, seed=3)
    path = tmp_path / "catalog.db"
    with Catalog(path) as cat:
        fill_catalog(cat, x, np.arange(len(x)))
        PeopleService(cat).recluster()
    return path


@pytest.fixture
def sleeper():
    """A live process that is not us (holder of a lock in these tests)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def _hold_lock(cat: Catalog, pid: int, start: str | None, job: str = "scan") -> None:
    info = JobInfo(job, f"a {job} of /photos", pid, start, "2025-01-01T00:00:00+00:00", "x")
    cat.set_setting(LOCK_KEY, json.dumps(asdict(info)))


def _clusters(svc: PeopleService) -> list[int]:
    return sorted(s.id for s in svc.people() if s.cluster)


# --- one write path: BEGIN IMMEDIATE, waiting instead of failing ------------------------------


def test_operations_wait_for_other_writers_instead_of_failing(album: Path) -> None:
    """Before, an operation read in a deferred transaction and failed at once ("database is
    locked") when another connection committed before its first write."""
    stop, running = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:  # a scan-like writer: short transactions, back to back
        with Catalog(album) as other:
            while not stop.is_set():
                try:
                    with other.write():
                        other.set_setting("beat", str(time.time()))
                        time.sleep(0.002)
                    running.set()
                    time.sleep(0.001)
                except BaseException as exc:
                    errors.append(exc)
                    return

    t = threading.Thread(target=writer)
    t.start()
    try:
        with Catalog(album) as cat:
            svc = PeopleService(cat)
            pid = svc.people()[0].id
            assert running.wait(10)
            for i in range(60):  # with deferred transactions most of these failed
                svc.name(pid, f"Name {i}")
                assert svc.person(pid).name == f"Name {i}"
            assert len(svc.history(500)) == 60
    finally:
        stop.set()
        t.join()
    assert errors == []


def test_a_writer_holding_the_lock_too_long_gives_a_clear_error(album: Path) -> None:
    blocker = sqlite3.connect(album)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with Catalog(album, timeout=0.2) as cat:
            svc = PeopleService(cat)
            pid = svc.people()[0].id
            with pytest.raises(CatalogBusyError, match="busy"):
                svc.hide(pid)
            assert not cat.db.conn.in_transaction
    finally:
        blocker.rollback()
        blocker.close()
    with Catalog(album) as cat:
        assert PeopleService(cat).person(pid).hidden is False  # nothing half-written
        assert PeopleService(cat).hide(pid).hidden  # and it works once the writer is done


# --- re-clustering never overrides a change made while it planned ----------------------------


def _interleave(monkeypatch, album: Path, action, times: int = 1) -> list[int]:
    """Make ``action(other_service)`` run, in another connection, while re-clustering plans
    (the first ``times`` plans); every plan leaves every face alone, so re-clustering wants to
    drop every cluster it saw. Returns the plans' count (a list to fill)."""
    calls: list[int] = []

    def planning(x, *args, **kwargs):
        calls.append(len(x))
        if len(calls) <= times:
            with Catalog(album) as cat:
                action(PeopleService(cat))
        return np.full(len(x), -1, dtype=np.int64)

    monkeypatch.setattr(service_module, "cluster", planning)
    return calls


def test_recluster_plans_again_when_the_user_names_a_cluster_meanwhile(
    album: Path, monkeypatch
) -> None:
    with Catalog(album) as cat:
        svc = PeopleService(cat)
        target = svc.people()[0].id
        faces = {f.face_id for f in svc.faces_of(target)}
        calls = _interleave(monkeypatch, album, lambda other: other.name(target, "Ada"))
        r = svc.recluster()
        assert len(calls) == 2  # planned again after seeing the change
        ada = svc.person(target)
        assert ada.name == "Ada"
        assert {f.face_id for f in svc.faces_of(target, ("confirmed",))} == faces
        assert _clusters(svc) == []
        assert r.dropped_clusters == 5


def test_recluster_never_drops_what_the_user_touched_while_it_wrote(
    album: Path, monkeypatch
) -> None:
    """The user keeps changing people during both plans: the write leaves them alone."""
    with Catalog(album) as cat:
        svc = PeopleService(cat)
        a, b, c, d = (s.id for s in svc.people()[:4])
        faces_c = [f.face_id for f in svc.faces_of(c)]
        steps = iter(
            [
                lambda o: (o.name(a, "Ada"), o.merge(b, d)),
                lambda o: (o.confirm(c, faces_c[:2]), o.hide(d)),
            ]
        )
        calls = _interleave(monkeypatch, album, lambda o: next(steps)(o), times=2)
        svc.recluster()
        assert len(calls) == 2
        assert svc.person(a).name == "Ada" and len(svc.faces_of(a, ("confirmed",))) == 5
        assert svc.person(b).merged_into == d and svc.person(d).hidden
        assert len(svc.faces_of(d, ("confirmed",))) == 5  # b's faces, confirmed by the merge
        assert [f.face_id for f in svc.faces_of(c, ("confirmed",))] == faces_c[:2]
        assert len(svc.history(10)) == 4  # every decision still undoable
        assert cat.integrity_check() == "ok"


def test_recluster_skips_faces_deleted_meanwhile(album: Path, monkeypatch) -> None:
    with Catalog(album) as cat:
        svc = PeopleService(cat)
        victim = svc.faces_of(svc.people()[0].id)[0].face_id

        def delete(other: PeopleService) -> None:  # what a scan's sweep does
            with other.catalog.write():
                other.db.execute("DELETE FROM assignments WHERE face_id = ?", (victim,))
                other.db.execute("DELETE FROM faces WHERE id = ?", (victim,))

        real = service_module.cluster
        done = []

        def planning(*args, **kwargs):
            if not done:
                done.append(1)
                with Catalog(album) as other:
                    delete(PeopleService(other))
            return real(*args, **kwargs)

        monkeypatch.setattr(service_module, "cluster", planning)
        svc.recluster()
        assert svc.person_of(victim) is None
        assert sum(s.faces for s in svc.people()) == 29


# --- one writer job per catalog ----------------------------------------------------------------


def test_a_second_job_is_refused_with_the_running_job_named(album: Path) -> None:
    started, release = threading.Event(), threading.Event()

    def scan() -> None:
        with Catalog(album) as cat, writer_job(cat, "scan", "/photos"):
            started.set()
            release.wait(10)

    t = threading.Thread(target=scan)
    t.start()
    try:
        started.wait(10)
        with Catalog(album) as cat:
            with pytest.raises(CatalogLockedError) as err, writer_job(cat, "re-cluster", wait=0.3):
                pass
            text = str(err.value)
            assert "a scan of /photos started at" in text
            assert f"by process {os.getpid()} is running" in text
            assert running_job(cat).job == "scan"
    finally:
        release.set()
        t.join()
    with Catalog(album) as cat:
        assert running_job(cat) is None
        outer = writer_job(cat, "re-cluster", wait=0)
        with outer, writer_job(cat, "re-cluster", wait=0):  # nested in the same thread
            assert running_job(cat).job == "re-cluster"
        assert cat.get_setting(LOCK_KEY) is None


def test_a_stale_lock_is_taken_over(album: Path, sleeper) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Catalog(album) as cat:
        _hold_lock(cat, dead.pid, "123")  # the process is gone
        assert running_job(cat) is None
        with writer_job(cat, "re-cluster", wait=0) as mine:
            assert running_job(cat).token == mine.token
        _hold_lock(cat, sleeper.pid, "not its start time")  # a reused pid
        assert running_job(cat) is None
        with writer_job(cat, "re-cluster", wait=0):
            pass
        _hold_lock(cat, sleeper.pid, process_start(sleeper.pid))  # alive: refused
        refused = pytest.raises(CatalogLockedError, match=f"by process {sleeper.pid}")
        with refused, writer_job(cat, "re-cluster", wait=0.2):
            pass
        sleeper.kill()
        sleeper.wait()
        with writer_job(cat, "re-cluster", wait=0):  # killed: taken over
            pass


def test_album_cluster_is_refused_while_a_scan_runs(album: Path, sleeper, capsys) -> None:
    with Catalog(album) as cat:
        _hold_lock(cat, sleeper.pid, process_start(sleeper.pid))
    assert main(["--library", str(album), "cluster"]) == 3
    err = capsys.readouterr().err
    assert f"a scan of /photos started at 2025-01-01T00:00:00+00:00 by process {sleeper.pid}" in err


def test_only_runs_of_dead_processes_are_marked_interrupted(album: Path, sleeper) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Catalog(album) as cat:
        for pid in (sleeper.pid, dead.pid):
            cat.db.execute(
                "INSERT INTO scan_runs (kind, status, started_at, updated_at, model_id, "
                "settings, pid) VALUES ('scan', 'running', 't', 't', 'm', '{}', ?)",
                (pid,),
            )
        assert interrupt_dead_runs(cat) == 1
        rows = dict(cat.db.execute("SELECT pid, status FROM scan_runs").fetchall())
        assert rows == {sleeper.pid: "running", dead.pid: "interrupted"}


# --- backups ------------------------------------------------------------------------------------


def test_backups_rotate_and_restore_brings_decisions_back(album: Path, capsys) -> None:
    with Catalog(album) as cat:
        svc = PeopleService(cat)
        pid = svc.people()[0].id
        svc.name(pid, "Ada")
        saved = backup(cat)
        for _ in range(4):
            backup(cat)
        assert len(list_backups(album)) == 3 and not saved.exists()  # the newest 3 kept
        assert main(["--library", str(album), "backup", "--to", str(album.parent / "b.db")]) == 0
        assert "backed up" in capsys.readouterr().out
        svc.name(pid, "Bea")
        svc.hide(pid)
    # restored into the live file: an open catalog sees it
    with Catalog(album) as cat:
        assert main(["--library", str(album), "restore", str(album.parent / "b.db")]) == 0
        out = capsys.readouterr().out
        assert "the previous catalog was saved as" in out
        p = PeopleService(cat).person(pid)
        assert (p.name, p.hidden) == ("Ada", False)
        assert cat.integrity_check() == "ok" and cat.db.journal_mode == "wal"
    before = list_backups(album)[-1]
    assert "before-restore" in before.name
    with Catalog(before) as old:  # the state just before restoring
        assert PeopleService(old).person(pid).name == "Bea"


def test_restore_is_refused_while_a_job_runs(album: Path, sleeper, tmp_path: Path) -> None:
    with Catalog(album) as cat:
        copy = backup(cat, tmp_path / "copy.db")
        _hold_lock(cat, sleeper.pid, process_start(sleeper.pid), "re-embed")
    with pytest.raises(CatalogLockedError, match="a re-embed of /photos"):
        restore(album, copy)
    assert main(["--library", str(album), "restore", str(copy)]) == 3
    assert list_backups(album) == []  # nothing done


def test_restore_refuses_a_file_that_is_not_a_catalog(album: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert main(["--library", str(album), "restore", str(junk)]) == 2


def test_backup_before_a_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
        "applied_at TEXT NOT NULL);" + schema.MIGRATIONS[0][2]
    )
    conn.execute("INSERT INTO schema_version VALUES (1, 'v1', 't')")
    conn.execute("INSERT INTO people (name, created_at, updated_at) VALUES ('Ada', 't', 't')")
    conn.commit()
    conn.close()
    with Catalog(path) as cat:
        assert cat.version == schema.SCHEMA_VERSION
    (saved,) = list_backups(path)
    assert f"before-migration-{schema.SCHEMA_VERSION}" in saved.name
    conn = sqlite3.connect(saved)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM people").fetchall() == [("Ada",)]
    conn.close()


def test_backup_before_a_model_switch(album: Path) -> None:
    from album.scan.reembed import Reembedder

    with Catalog(album) as cat:
        cat.db.execute("DELETE FROM photos")  # nothing to re-embed: the switch happens at once
        fake = SimpleNamespace(name="facenet-vggface2")
        assert Reembedder(cat, fake).run().switched  # type: ignore[arg-type]
        assert cat.model == "facenet-vggface2"
    (saved,) = list_backups(album)
    assert "before-model-facenet-vggface2" in saved.name
    with Catalog(saved) as old:
        assert old.model == "dlib-resnet-v1"
