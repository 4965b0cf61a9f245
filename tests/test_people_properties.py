"""Property tests: random sequences of People operations on a real catalog file, with
re-clustering in between, never break the rules the user relies on.

After every step: no person holds two cannot-linked faces (one photo, or marked different);
a face rejected from a person is never put back there by the machine. Around every
re-clustering: confirmed assignments and names are unchanged. Right after an operation, undo
restores the catalog exactly.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from album.catalog import Catalog
from album.people.errors import PeopleError
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people

NAMES = ["Ada", "Bob", "Cy", "Dee", "Eve"]
OPS = [
    "name",
    "rename",
    "confirm",
    "reject",
    "merge",
    "split",
    "move",
    "hide",
    "unhide",
    "cover",
    "same",
    "different",
    "enroll",
    "import",
    "undo",
    "recluster",
]


def build_album(path: Path) -> None:
    """12 people x 5 faces; people 0 and 1 are look-alikes; a few group photos."""
    x, truth = synthetic_people(12, 5, spread=0.3, seed=7)
    rng = np.random.default_rng(7)
    # Look-alikes: person 1 is person 0's centre moved a little.
    x[truth == 1] = x[truth == 0] + 0.035 * rng.standard_normal((5, x.shape[1]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    photo = np.arange(len(truth))
    for a, b in [(0, 5), (10, 15), (20, 27), (31, 42), (2, 50)]:  # group photos
        photo[b] = photo[a]
    quality = np.full(len(truth), 0.8)
    quality[[3, 33]] = 0.1  # poor faces never seed a cluster
    with Catalog(path) as cat:
        fill_catalog(cat, x, photo, quality=quality)
        PeopleService(cat).recluster()
        cat.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("album") / "template.db"
    build_album(path)
    return path


# --- the invariants ------------------------------------------------------------------------


def positives(cat: Catalog) -> dict[int, tuple[int, str]]:
    return {
        f: (p, s)
        for f, p, s in cat.db.execute(
            "SELECT face_id, person_id, source FROM assignments WHERE source != 'rejected'"
        )
    }


def check_no_conflicts(cat: Catalog) -> None:
    pos = positives(cat)
    photo = dict(cat.db.execute("SELECT id, content_hash FROM faces").fetchall())
    seen: dict[tuple[int, str], int] = {}
    for f, (p, _) in pos.items():
        key = (p, photo[f])
        assert key not in seen, f"faces {seen[key]} and {f} of one photo are both person {p}"
        seen[key] = f
    for a, b, kind in cat.db.execute("SELECT face_a, face_b, kind FROM constraints"):
        if kind == "cannot-link" and a in pos and b in pos:
            assert pos[a][0] != pos[b][0], f"cannot-linked faces {a}, {b} share person {pos[a]}"
    assert all(n <= 1 for n in _counts(pos).values())


def _counts(pos: dict) -> dict[int, int]:
    c: dict[int, int] = defaultdict(int)
    for f in pos:
        c[f] += 1
    return c


def check_rejections(cat: Catalog, svc: PeopleService) -> None:
    pos = positives(cat)
    for f, p in cat.db.execute(
        "SELECT face_id, person_id FROM assignments WHERE source = 'rejected'"
    ).fetchall():
        if f in pos and pos[f][0] == svc.active(p).id:
            assert pos[f][1] == "confirmed", f"machine put face {f} back into person {p}"


def user_state(cat: Catalog) -> tuple:
    people = cat.db.execute(
        "SELECT id, name, hidden, cover_face_id, merged_into FROM people ORDER BY id"
    ).fetchall()
    rows = cat.db.execute(
        "SELECT face_id, person_id, source, confidence FROM assignments ORDER BY face_id, person_id"
    ).fetchall()
    cons = cat.db.execute("SELECT face_a, face_b, kind FROM constraints ORDER BY 1, 2").fetchall()
    return people, rows, cons


def names(cat: Catalog) -> set[tuple[int, str]]:
    return set(
        cat.db.execute(
            "SELECT id, name FROM people WHERE name IS NOT NULL AND merged_into IS NULL"
        ).fetchall()
    )


def confirmed(cat: Catalog) -> set[tuple[int, int]]:
    return set(
        cat.db.execute(
            "SELECT face_id, person_id FROM assignments WHERE source = 'confirmed'"
        ).fetchall()
    )


# --- one random step ----------------------------------------------------------------------


def pick(seq, r: int):
    return seq[r % len(seq)] if seq else None


def step(svc: PeopleService, cat: Catalog, op: str, r1: int, r2: int) -> bool:
    """Run one operation chosen by ``op`` on targets chosen by r1, r2; False if refused or
    if it had nothing to do (no undo log entry)."""
    last = svc.history(1)
    done = _step(svc, cat, op, r1, r2)
    if op in ("undo", "recluster"):
        return done
    return done and svc.history(1) != last


def _step(svc: PeopleService, cat: Catalog, op: str, r1: int, r2: int) -> bool:
    people = [p.id for p in svc.people(include_hidden=True)]
    faces = [r[0] for r in cat.db.execute("SELECT id FROM faces ORDER BY id")]
    person = pick(people, r1)
    members = [f.face_id for f in svc.faces_of(person)] if person is not None else []
    try:
        if op in ("name", "rename") and person is not None:
            svc.name(person, pick(NAMES, r2))
        elif op == "confirm" and person is not None:
            svc.confirm(person, None if r2 % 2 else members[: 1 + r2 % 3] or None)
        elif op == "reject" and members:
            svc.reject([pick(members, r2), pick(members, r2 // 7)], person)
        elif op == "merge" and len(people) > 1:
            other = pick([p for p in people if p != person], r2)
            svc.merge(person, other)
        elif op == "split" and len(members) > 1:
            svc.split(person, members[: 1 + r2 % (len(members) - 1)], pick([None, *NAMES], r2 // 5))
        elif op == "move" and person is not None:
            svc.move([pick(faces, r2), pick(faces, r2 // 3)], person)
        elif op in ("hide", "unhide") and person is not None:
            svc.hide(person, op == "hide")
        elif op == "cover" and members:
            svc.set_cover(person, pick(members, r2))
        elif op in ("same", "different"):
            a, b = pick(faces, r1), pick(faces, r2)
            if a == b:
                return False
            svc.answer(a, b, op == "same")
        elif op == "enroll":
            svc.enroll(pick(faces, r1), pick(NAMES, r2))
        elif op == "import":
            svc.label_faces(
                [(pick(faces, r1), pick(NAMES, r2)), (pick(faces, r2), pick(NAMES, r1))]
            )
        elif op == "undo":
            svc.undo()
        elif op == "recluster":
            svc.recluster()
        else:
            return False
    except PeopleError:
        return False
    return True


steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
    min_size=1,
    max_size=14,
)


def run_sequence(template: Path, tmp_path: Path, sequence: list) -> None:
    path = tmp_path / "album.db"
    shutil.copyfile(template, path)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with Catalog(path) as cat:
        svc = PeopleService(cat)
        for op, r1, r2 in sequence:
            before = user_state(cat)
            before_names, before_confirmed = names(cat), confirmed(cat)
            done = step(svc, cat, op, r1, r2)
            if op == "recluster":
                assert confirmed(cat) == before_confirmed, "re-clustering changed a confirmation"
                assert names(cat) == before_names, "re-clustering lost or changed a name"
            elif not done:
                assert user_state(cat) == before, f"refused {op} changed the catalog"
            elif op != "undo":
                check_no_conflicts(cat)
                after = user_state(cat)
                svc.undo()
                assert user_state(cat) == before, f"undo of {op} did not restore the catalog"
                # Redo it so that the sequence goes on from the operation's result.
                step(svc, cat, op, r1, r2)
                assert user_state(cat)[0] == after[0] or op in ("split", "enroll"), op
            check_no_conflicts(cat)
            check_rejections(cat, svc)
        # A final re-cluster keeps every decision too.
        before_names, before_confirmed = names(cat), confirmed(cat)
        svc.recluster()
        assert confirmed(cat) == before_confirmed
        assert names(cat) == before_names
        check_no_conflicts(cat)
        check_rejections(cat, svc)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_random_decisions_survive_reclustering(template: Path, tmp_path_factory, sequence):
    run_sequence(template, tmp_path_factory.mktemp("run"), sequence)


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sequence=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=5,
        max_size=40,
    )
)
def test_many_random_decisions_survive_reclustering(template: Path, tmp_path_factory, sequence):
    run_sequence(template, tmp_path_factory.mktemp("run"), sequence)
