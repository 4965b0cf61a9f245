"""Soak test: random user operations while other processes re-cluster and scan the same
catalog and get killed with SIGKILL at random moments. No decision may be lost, no operation
may raise a database error.

    .venv/bin/python benchmarks/soak.py [--ops 2000] [--kills 50] [--lfw ../shared/datasets/lfw]

This process is the user: name, rename, merge, split, move, reject, confirm, hide, answer and
undo through ``album.people.PeopleService``. Beside it run re-cluster loops (worker processes
calling ``PeopleService.recluster`` again and again), ``album cluster`` commands and, when LFW
is found, ``album scan`` of a folder that receives a few new LFW photos after each completed
scan. Every so many operations one of them is killed with SIGKILL and started again.

Checks. User data (people that are not clusters: name, hidden, cover, merge; confirmed and
rejected faces; constraints) is only ever changed by this process, so it is read after each
operation and must be found unchanged before the next one and after every kill, whatever
the other processes did meanwhile; each operation's own effect is checked right after it
(the name is there, the faces are confirmed, ...); an undo must restore the user data as it
was before the operation it undoes. "Decisions lost" counts every difference. At the end,
with the workers gone, ``PRAGMA integrity_check`` and ``foreign_key_check`` must pass and one
more re-cluster (taking over a lock a killed worker left) must change no user data.

Prints operations done (and refused: a ``PeopleError`` is the core saying no, which is
fine), kills survived, decisions lost (must be 0), operations that raised (must be 0) and
worker errors (tracebacks other than the expected "a job is running" refusals).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from album.catalog import Catalog  # noqa: E402
from album.catalog.lock import LOCK_KEY  # noqa: E402
from album.people import PeopleError, PeopleService  # noqa: E402
from album.people.synthetic import fill_catalog, synthetic_people  # noqa: E402

NAMES = [
    "Ada", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo", "Kim", "Lea",
    "Max", "Ned", "Oda", "Pia", "Quin", "Rui", "Sol", "Tea", "Uma", "Vic", "Wes", "Xia",
]  # fmt: skip
OPS = ["name", "rename", "merge", "split", "move", "reject", "confirm", "hide", "answer", "undo"]
WEIGHTS = [14, 8, 8, 8, 12, 10, 10, 6, 12, 12]
CLI = "import sys; from album.cli import main; sys.exit(main())"


@dataclass
class SoakReport:
    operations: int = 0  # operations attempted
    succeeded: int = 0
    refused: int = 0  # PeopleError: the core said no (fine)
    raised: int = 0  # any other exception (must be 0)
    kills: int = 0
    kills_survived: int = 0  # kills after which every check passed
    decisions_lost: int = 0  # differences in user data (must be 0)
    checks: int = 0  # user-data comparisons made
    worker_runs: dict = field(default_factory=dict)  # kind -> processes started
    worker_errors: int = 0  # unexpected tracebacks or exit codes of the workers
    reclusters: int = 0  # re-clusters completed by the workers
    replans: int = 0  # re-clusters that found the user's changes at write time, planned again
    photos_scanned: int = 0  # LFW photos put in the scanned folder
    scans: dict = field(default_factory=dict)  # scan_runs by status (done, interrupted...)
    integrity: str = ""
    seconds: float = 0.0
    problems: list = field(default_factory=list)  # the first few problems, in words

    @property
    def ok(self) -> bool:
        return (
            self.raised == 0
            and self.decisions_lost == 0
            and self.worker_errors == 0
            and self.integrity == "ok"
        )


# --- the user's view of the catalog ---------------------------------------------------------


def user_state(svc: PeopleService) -> dict[str, set]:
    """Everything only the user may change, read in one snapshot."""
    with svc.catalog.read():
        clusters = svc.cluster_ids()
        q = svc.db.execute
        people = {
            r
            for r in q("SELECT id, name, hidden, cover_face_id, merged_into FROM people")
            if r[0] not in clusters
        }
        decisions = set(
            q(
                "SELECT face_id, person_id, source FROM assignments "
                "WHERE source IN ('confirmed', 'rejected')"
            )
        )
        constraints = set(q("SELECT face_a, face_b, kind FROM constraints"))
    return {"people": people, "decisions": decisions, "constraints": constraints}


def differences(want: dict[str, set], got: dict[str, set]) -> list[str]:
    out = []
    for key in want:
        for row in sorted(want[key] - got[key], key=str)[:5]:
            out.append(f"{key}: lost {row}")
        for row in sorted(got[key] - want[key], key=str)[:5]:
            out.append(f"{key}: unexpected {row}")
        extra = len(want[key] ^ got[key]) - 10
        if extra > 0:
            out.append(f"{key}: {extra} more differences")
    return out


def _count(diff: list[str]) -> int:
    n = 0
    for d in diff:
        n += int(d.split(": ")[1].split()[0]) if "more differences" in d else 1
    return n


# --- the catalog ----------------------------------------------------------------------------


def make_catalog(path: Path, people: int = 30, faces: int = 6, seed: int = 0) -> None:
    """``people`` synthetic identities of ``faces`` faces; about one face in eight shares its
    photo with another person's face (two faces of one photo are never one person)."""
    x, truth = synthetic_people(people, faces, spread=0.3, seed=seed)
    rng = np.random.default_rng(seed)
    photo = np.arange(len(truth))
    for i in rng.choice(len(truth), len(truth) // 8, replace=False):
        j = int(rng.integers(len(truth)))
        if truth[j] != truth[i]:
            photo[i] = photo[j]
    with Catalog(path) as cat:
        fill_catalog(cat, x, photo)
        PeopleService(cat).recluster()


# --- workers ----------------------------------------------------------------------------------


def recluster_loop(library: Path, pause: float) -> None:
    """Worker: re-cluster again and again (a refused turn waits and tries again)."""
    from album.catalog.lock import CatalogLockedError

    rng = random.Random(os.getpid())
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("album.people.service").setLevel(logging.INFO)  # "planning again"
    with Catalog(library) as cat:
        svc = PeopleService(cat)
        n = 0
        while True:
            t = time.perf_counter()
            try:
                r = svc.recluster()
                n += 1
                print(
                    f"recluster {n}: {time.perf_counter() - t:.2f} s ({r.seconds:.2f} s planning "
                    f"and writing)",
                    flush=True,
                )
            except CatalogLockedError:
                waited = time.perf_counter() - t
                print(f"refused after {waited:.2f} s: another job runs", flush=True)
            time.sleep(rng.uniform(0, pause))


def _loop_entry(library: str, pause: float, log: str) -> None:
    """A re-cluster loop forked from the preloaded fork server, writing to its log."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    recluster_loop(Path(library), pause)


class _Forked:
    """A multiprocessing.Process that looks like the Popen the rest uses."""

    def __init__(self, process) -> None:
        self.process = process
        process.start()
        self.pid = process.pid

    def poll(self) -> int | None:
        return self.process.exitcode

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self) -> int | None:
        self.process.join()
        return self.process.exitcode


_FORK = None


def _fork_context():
    """Re-cluster loops start from a fork server with the people code already imported:
    a killed loop is back at work at once instead of after seconds of imports."""
    global _FORK
    if _FORK is None:
        import multiprocessing

        _FORK = multiprocessing.get_context("forkserver")
        _FORK.set_forkserver_preload(
            ["album.people.service", "album.people.clustering", "hdbscan", "sklearn.cluster"]
        )
    return _FORK


class Worker:
    def __init__(self, kind: str, command: list, log: Path) -> None:
        self.kind, self.command, self.log = kind, command, log
        self.proc: subprocess.Popen | _Forked | None = None
        self.started = 0.0
        self.runs = 0
        self.kill_after = 0.0  # seconds after it was armed that it may be killed
        self.armed_at: float | None = None
        self.arm_after: float | None = None  # None: armed when it holds the writer lock
        self.worked = False  # some run of this worker finished a unit of work

    # Killing a worker that is still importing tests little. Once a worker has finished some
    # work (so the catalog does get machine writes), it is armed when it holds the writer lock
    # (re-clustering: snapshot, plan or write; scanning), or after FALLBACK seconds, and
    # killed a random 0-1 s later: mostly mid-work, sometimes just after.
    DONE: ClassVar[dict[str, str]] = {
        "recluster": "recluster ",
        "album cluster": "clustered ",
        "album scan": '"photos"',
    }
    FALLBACK: ClassVar[dict[str, float]] = {
        "recluster": 12.0,
        "album cluster": 15.0,
        "album scan": 60.0,
    }

    def start(self, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        self.kill_after = rng.uniform(0.0, 1.0)
        # Half the runs are killed holding the lock, the others at a random later moment.
        self.arm_after = rng.uniform(3.0, self.FALLBACK[self.kind]) if rng.random() < 0.5 else None
        self.armed_at = None
        out = self.log.open("ab")
        out.write(f"\n=== start {self.runs + 1}\n".encode())
        out.flush()
        if self.kind == "recluster":
            library, pause = self.command
            ctx = _fork_context()
            process = ctx.Process(target=_loop_entry, args=(library, pause, str(self.log)))
            self.proc = _Forked(process)
        else:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
        out.close()
        self.started = time.monotonic()
        self.runs += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ready_to_kill(self, now: float, lock_holder: int | None) -> bool:
        if not self.alive():
            return False
        assert self.proc is not None
        if not self.worked:
            self.worked = self.DONE[self.kind] in self.log.read_text(errors="replace")
            if not self.worked:
                return False
        if self.armed_at is None:
            age = now - self.started
            if self.arm_after is not None:
                if age < self.arm_after:
                    return False
            elif lock_holder != self.proc.pid and age < self.FALLBACK[self.kind]:
                return False
            self.armed_at = now
        return now - self.armed_at >= self.kill_after

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def _scan_pool(lfw: Path, seed: int, count: int) -> list[Path]:
    """LFW photos of people with several images, shuffled."""
    people = sorted(p for p in lfw.iterdir() if p.is_dir() and len(list(p.iterdir())) >= 4)
    rng = random.Random(seed)
    rng.shuffle(people)
    pool = [img for p in people[: max(1, count // 2)] for img in sorted(p.iterdir())[:2]]
    return pool[:count]


def _worker_problems(log: Path) -> list[str]:
    """Unexpected failures in a worker's output: tracebacks, lock refusals excepted."""
    text = log.read_text(errors="replace") if log.exists() else ""
    out = []
    for block in text.split("Traceback (most recent call last):")[1:]:
        last = [ln for ln in block.strip().splitlines() if ln.strip()][-1:]
        if last and "CatalogLockedError" not in last[0]:
            out.append(f"{log.name}: {last[0]}")
    for line in text.splitlines():  # CLI errors are printed without a traceback
        if line.startswith("album: ") and "is running on" not in line:
            out.append(f"{log.name}: {line}")
    return out


# --- the soak -------------------------------------------------------------------------------


class Soak:
    def __init__(
        self,
        workdir: Path,
        ops: int,
        kills: int,
        seed: int,
        lfw: Path | None,
        scan_photos: int,
        recluster_workers: int,
        cli_workers: int,
        say=print,
    ) -> None:
        self.workdir, self.ops, self.target_kills = workdir, ops, kills
        self.rng = random.Random(seed)
        self.say = say
        self.report = SoakReport()
        self.library = workdir / "catalog.db"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        make_catalog(self.library, seed=seed)
        self.workers: list[Worker] = []
        for i in range(recluster_workers):
            args = [str(self.library), 0.5]  # catalog, longest pause between two re-clusters
            self.workers.append(Worker("recluster", args, self.logs / f"recluster-{i}.log"))
        for i in range(cli_workers):
            cmd = [sys.executable, "-c", CLI, "--library", str(self.library), "cluster"]
            self.workers.append(Worker("album cluster", cmd, self.logs / f"cluster-cli-{i}.log"))
        self.photos = workdir / "photos"
        self.pool = _scan_pool(lfw, seed, scan_photos) if lfw is not None and scan_photos else []
        if self.pool:
            self.photos.mkdir(exist_ok=True)
            cmd = [sys.executable, "-c", CLI, "--library", str(self.library), "scan",
                   "--no-progress", "--json", "--threads", "1", "--batch", "2",
                   str(self.photos)]  # fmt: skip
            self.workers.append(Worker("album scan", cmd, self.logs / "scan.log"))
        self.undo_stack: list[dict[str, set]] = []
        self.kill_gap = (0.5, 2.0)  # seconds between kills
        self.think = 0.01  # most seconds between two operations

    # --- workers --------------------------------------------------------------------------

    def _add_photos(self, n: int) -> None:
        for _ in range(n):
            if not self.pool:
                return
            src = self.pool.pop()
            shutil.copy(src, self.photos / src.name)
            self.report.photos_scanned += 1

    def _tend(self) -> None:
        """Restart workers that ended (a finished scan gets new photos first)."""
        for w in self.workers:
            if w.proc is None:
                if w.kind == "album scan":
                    self._add_photos(3)
                w.start(self.rng)
            elif w.proc.poll() is not None:
                code = w.proc.returncode
                if code not in (0, 3, -signal.SIGKILL):
                    self.report.worker_errors += 1
                    self._problem(f"{w.kind} exited with {code} (see {w.log})")
                if w.kind == "album scan" and code == 0:
                    if not self.pool:
                        continue  # everything scanned: the scan worker rests
                    self._add_photos(3)
                w.start(self.rng)

    def _kill_one(self, svc: PeopleService, expected: dict[str, set]) -> bool:
        now = time.monotonic()
        lock = svc.catalog.get_setting(LOCK_KEY)
        holder = json.loads(lock)["pid"] if lock else None
        ready = [w for w in self.workers if w.ready_to_kill(now, holder)]
        if not ready:
            return False
        w = self.rng.choice(ready)
        w.kill()
        self.report.kills += 1
        before = self.report.decisions_lost
        self._compare(svc, expected, f"after killing {w.kind}")
        check = svc.catalog.integrity_check()
        if check != "ok":
            self._problem(f"integrity after a kill: {check}")
        elif self.report.decisions_lost == before:
            self.report.kills_survived += 1
        w.start(self.rng)  # a killed scan resumes; a killed re-cluster loop starts over
        return True

    # --- checks ---------------------------------------------------------------------------

    def _problem(self, text: str) -> None:
        if len(self.report.problems) < 20:
            self.report.problems.append(text)
        self.say(f"PROBLEM: {text}")

    def _compare(self, svc: PeopleService, want: dict[str, set], when: str) -> dict[str, set]:
        got = user_state(svc)
        self.report.checks += 1
        diff = differences(want, got)
        if diff:
            self.report.decisions_lost += _count(diff)
            self._problem(f"{when}: " + "; ".join(diff))
        return got

    # --- operations -----------------------------------------------------------------------

    def _pick_person(self, svc: PeopleService, named: bool = False) -> int | None:
        people = [s for s in svc.people(include_hidden=True) if s.faces and (s.name or not named)]
        return self.rng.choice(people).id if people else None

    def _faces(self, svc: PeopleService) -> list[int]:
        return [r[0] for r in svc.db.execute("SELECT id FROM faces").fetchall()]

    def _one_op(self, svc: PeopleService) -> tuple[str, object] | None:
        """Pick and run one operation; returns (name, verification callable) or None when
        there was nothing to do it on."""
        rng = self.rng
        op = rng.choices(OPS, WEIGHTS)[0]
        if op == "undo":
            entry = svc.undo()
            return op, lambda: entry is None or svc.history(1, True)[0].undone_at is not None
        if op in ("name", "rename"):
            pid = self._pick_person(svc, named=op == "rename")
            if pid is None:
                return None
            name = rng.choice(NAMES)
            svc.name(pid, name)
            return op, lambda: (svc.active(pid).name or "").lower() == name.lower()
        if op == "merge":
            a, b = self._pick_person(svc), self._pick_person(svc)
            if a is None or b is None:
                return None
            svc.merge(a, b)
            return op, lambda: svc.active(a).id == svc.active(b).id
        if op == "hide":
            pid = self._pick_person(svc)
            if pid is None:
                return None
            hidden = not svc.active(pid).hidden
            svc.hide(pid, hidden)
            return op, lambda: svc.active(pid).hidden == hidden
        if op == "answer":
            a, b = rng.sample(self._faces(svc), 2)
            same = rng.random() < 0.5
            svc.answer(a, b, same)
            kind = "must-link" if same else "cannot-link"
            return (
                op,
                lambda: (
                    svc.db.execute(
                        "SELECT kind FROM constraints WHERE face_a = ? AND face_b = ?",
                        (min(a, b), max(a, b)),
                    ).fetchone()
                    == (kind,)
                ),
            )
        pid = self._pick_person(svc)
        if pid is None:
            return None
        members = [f.face_id for f in svc.faces_of(pid)]
        if not members:
            return None

        def confirmed_in(person: int, faces: list[int]) -> bool:
            have = {f.face_id for f in svc.faces_of(svc.active(person).id, ("confirmed",))}
            return set(faces) <= have

        if op == "split":
            faces = rng.sample(members, max(1, len(members) // 3))
            name = rng.choice([None, rng.choice(NAMES)])
            target = svc.split(pid, faces, name)
            return op, lambda: confirmed_in(target.id, faces)
        if op == "move":
            to = self._pick_person(svc, named=True)
            if to is None:
                return None
            faces = rng.sample(self._faces(svc), rng.randint(1, 3))
            svc.move(faces, to)
            return op, lambda: confirmed_in(to, faces)
        if op == "reject":
            faces = rng.sample(members, min(len(members), rng.randint(1, 2)))
            svc.reject(faces, pid)
            target = svc.active(pid).id
            return op, lambda: all(
                svc.db.execute(
                    "SELECT 1 FROM assignments WHERE face_id = ? AND person_id = ? "
                    "AND source = 'rejected'",
                    (f, target),
                ).fetchone()
                for f in faces
            )
        # confirm
        faces = rng.sample(members, rng.randint(1, len(members)))
        svc.confirm(pid, faces)
        return op, lambda: confirmed_in(pid, faces)

    def run(self) -> SoakReport:
        start = time.monotonic()
        rep = self.report
        next_kill = start + self.rng.uniform(*self.kill_gap)
        with Catalog(self.library) as cat:
            svc = PeopleService(cat)
            expected = user_state(svc)
            self._tend()
            # Operations go on until both targets are met: the kills set the pace.
            while rep.operations < self.ops or rep.kills < self.target_kills:
                self._tend()
                due = rep.kills < self.target_kills and time.monotonic() >= next_kill
                if due and self._kill_one(svc, expected):
                    next_kill = time.monotonic() + self.rng.uniform(*self.kill_gap)
                time.sleep(self.rng.uniform(0, self.think))  # the user's pace, roughly
                self._compare(svc, expected, f"before operation {rep.operations + 1}")
                log_before = svc.db.execute("SELECT COALESCE(MAX(id), 0) FROM people_log")
                log_before = log_before.fetchone()[0]
                rep.operations += 1
                try:
                    done = self._one_op(svc)
                except PeopleError:
                    rep.refused += 1
                    continue
                except Exception as exc:
                    rep.raised += 1
                    self._problem(f"operation raised {type(exc).__name__}: {exc}")
                    self.say(traceback.format_exc())
                    expected = user_state(svc)
                    continue
                if done is None:
                    rep.operations -= 1
                    continue
                op, verify = done
                rep.succeeded += 1
                if not verify():
                    rep.decisions_lost += 1
                    self._problem(f"{op} reported success but its effect is not there")
                after = user_state(svc)
                if op == "undo":
                    if self.undo_stack:
                        before_op = self.undo_stack.pop()
                        diff = differences(before_op, after)
                        if diff:
                            rep.decisions_lost += _count(diff)
                            self._problem("undo did not restore: " + "; ".join(diff))
                else:
                    log_after = svc.db.execute("SELECT COALESCE(MAX(id), 0) FROM people_log")
                    if log_after.fetchone()[0] != log_before:  # a logged (undoable) change
                        self.undo_stack.append(expected)
                expected = after
                if rep.operations % 250 == 0:
                    self.say(
                        f"{rep.operations} operations, {rep.kills} kills, "
                        f"{rep.decisions_lost} lost, {rep.raised} raised"
                    )
            for w in self.workers:
                w.kill()
            for w in self.workers:
                rep.worker_runs[w.kind] = rep.worker_runs.get(w.kind, 0) + w.runs
                for p in _worker_problems(w.log):
                    rep.worker_errors += 1
                    self._problem(p)
                if w.kind == "recluster" and w.log.exists():
                    text = w.log.read_text(errors="replace")
                    rep.reclusters += text.count("recluster ")
                    rep.replans += text.count("planning again")
                if w.kind == "album cluster" and w.log.exists():
                    rep.reclusters += w.log.read_text(errors="replace").count("clustered ")
            self._compare(svc, expected, "at the end")
            svc.recluster()  # takes over the lock a killed worker may have left
            self._compare(svc, expected, "after a last re-cluster")
            rep.scans = dict(
                cat.db.execute(
                    "SELECT status, COUNT(*) FROM scan_runs WHERE kind = 'scan' GROUP BY status"
                ).fetchall()
            )
            rep.integrity = cat.integrity_check()
            fk = cat.db.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                self._problem(f"foreign key check: {fk[:5]}")
                rep.integrity = f"foreign keys: {len(fk)} problems"
        rep.seconds = time.monotonic() - start
        return rep


def run_soak(
    workdir: Path,
    ops: int = 2000,
    kills: int = 50,
    seed: int = 0,
    lfw: Path | None = None,
    scan_photos: int = 30,
    recluster_workers: int = 2,
    cli_workers: int = 1,
    say=print,
) -> SoakReport:
    """Run a soak in ``workdir`` (created; its catalog is new) and return the report."""
    workdir.mkdir(parents=True, exist_ok=True)
    soak = Soak(workdir, ops, kills, seed, lfw, scan_photos, recluster_workers, cli_workers, say)
    try:
        return soak.run()
    finally:
        for w in soak.workers:
            w.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=2000, help="user operations (2000)")
    ap.add_argument("--kills", type=int, default=50, help="SIGKILLs of workers (50)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--lfw",
        type=Path,
        default=Path(os.environ.get("ALBUM_LFW", ROOT.parent / "shared" / "datasets" / "lfw")),
        help="LFW folder for the scanned photos (no scanning when absent)",
    )
    ap.add_argument("--scan-photos", type=int, default=30, help="LFW photos scanned (30)")
    ap.add_argument("--recluster-workers", type=int, default=2)
    ap.add_argument("--cli-workers", type=int, default=1, help="'album cluster' processes")
    ap.add_argument("--workdir", type=Path, help="keep the catalog and logs here")
    ap.add_argument("--json", type=Path, help="write the report as JSON")
    args = ap.parse_args()
    import tempfile

    lfw = args.lfw if (args.lfw / "pairs.txt").is_file() else None
    if lfw is None:
        print(f"LFW not found at {args.lfw}: no scanning, re-clustering only", flush=True)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="album-soak-")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir
        if (workdir / "catalog.db").exists():
            ap.error(f"{workdir} already holds a catalog")
    try:
        rep = run_soak(
            workdir,
            args.ops,
            args.kills,
            args.seed,
            lfw,
            args.scan_photos,
            args.recluster_workers,
            args.cli_workers,
            say=lambda m: print(m, flush=True),
        )
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(
        f"operations done     {rep.operations} ({rep.succeeded} succeeded, "
        f"{rep.refused} refused by the rules)\n"
        f"kills survived      {rep.kills_survived} of {rep.kills}\n"
        f"decisions lost      {rep.decisions_lost}  (must be 0; {rep.checks} checks)\n"
        f"operations raised   {rep.raised}  (must be 0)\n"
        f"worker errors       {rep.worker_errors}\n"
        f"worker processes    {rep.worker_runs}; {rep.reclusters} re-clusters completed "
        f"({rep.replans} planned again after a user change), "
        f"{rep.photos_scanned} photos given to scans, scan runs {rep.scans}\n"
        f"integrity           {rep.integrity}\n"
        f"time                {rep.seconds:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(rep), indent=2))
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
