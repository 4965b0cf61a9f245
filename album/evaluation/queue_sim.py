"""A simulated user who answers the app's own "Same person?" questions truthfully
(``album eval queue``).

The album is one made by ``benchmarks/make_album.py`` (photos plus ``truth.json``). Its photos
are scanned into a catalog; each detected face is matched to a true face by box overlap
(``album.evaluation.scan_bench.match_truth``: IoU >= 0.5, one to one; a rotated face also by
its upright box) and so gets its identity. Then ``PeopleService.recluster()`` groups the faces
and the loop starts: take the first question of ``PeopleService.queue()``, answer it from the
truth (a question about a face that matches no true face is answered "not the same"),
re-cluster, score. ``PeopleService.answer`` applies an answer to the two faces' people at once
but leaves the rest of the grouping (splitting off what a cannot-link forbids, following a
must-link) to the next re-cluster, which the app runs when the "Same person?" dialog closes;
here it runs after every answer, so each answer's full effect is measured.

Scores are BCubed (``album.evaluation.cluster_scores``) over the detected faces: a face's
group is its positive assignment (automatic, suggested or confirmed: the faces a person's page
shows); a face in no group counts as a group of its own; a detected face matching no true face
(a false face) is an identity of its own. True faces that were not detected are left out of
the scores and reported as a count. The same scores over the faces of frontal sources only
(|yaw| < 25 degrees, the truth's ``yaw``) show what the turned faces cost.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from album.catalog import Catalog
from album.evaluation.cluster_scores import ClusterScores, score_clustering
from models.pose import FRONTAL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlbumMatch:
    """Detected faces of an album and their true identity (None: a false face)."""

    identity: dict[int, str | None]  # face id -> identity
    truth_faces: int  # true faces in the album
    missed: int  # true faces that no detected face matches
    photos: int  # photos of the truth found in the catalog
    photos_missing: int  # photos of the truth the catalog does not hold (or not as 'done')
    records: dict[int, dict] = field(default_factory=dict)  # face id -> its truth record
    missed_records: list[dict] = field(default_factory=list)  # true faces not detected, + photo


@dataclass(frozen=True)
class Step:
    """One answered question and the scores after it (and after re-clustering)."""

    answer: int  # 1 for the first answer
    kind: str  # the question's kind (album.people.verification.Question)
    face_a: int
    face_b: int
    distance: float
    probability: float  # the app's P(same) for the pair
    same: bool  # the true answer given
    refused: str | None  # why the service refused the answer, if it did
    scores: ClusterScores


@dataclass
class QueueResult:
    """What ``simulate`` measured; ``answers_per_person`` is the answer count a budget of
    ``per_person`` answers per true identity allows."""

    split: str | None  # the LFW people of the album (its truth's ``split``), if recorded
    photos: int
    truth_faces: int
    faces: int  # detected (and embedded) faces taken into the scores
    false_faces: int
    missed: int
    identities: int  # true identities in the album
    budget: int  # answers allowed
    per_person: float
    answers_per_person: int
    before: ClusterScores
    steps: list[Step] = field(default_factory=list)
    ran_dry: bool = False  # the queue had no question left before the budget was spent
    # Scores over the faces of frontal sources only (|yaw| < 25 degrees), before and after
    # the answers: how the frontal faces group, whatever happens to the turned ones.
    frontal_before: ClusterScores | None = None
    frontal_after: ClusterScores | None = None
    frontal_faces: int = 0
    missed_faces: list[dict] = field(default_factory=list)  # truth records not detected

    @property
    def after(self) -> ClusterScores:
        """Scores after the last answer (``before`` when there was none)."""
        return self.steps[-1].scores if self.steps else self.before

    @property
    def at_per_person(self) -> ClusterScores | None:
        """Scores after ``answers_per_person`` answers, if the run got that far (or ran dry
        before: then the final scores)."""
        if len(self.steps) >= self.answers_per_person:
            return (
                self.steps[self.answers_per_person - 1].scores
                if self.answers_per_person
                else self.before
            )
        return self.after if self.ran_dry else None

    def as_dict(self) -> dict:
        at = self.at_per_person
        return {
            "split": self.split,
            "photos": self.photos,
            "truth_faces": self.truth_faces,
            "faces": self.faces,
            "false_faces": self.false_faces,
            "missed": self.missed,
            "identities": self.identities,
            "budget": self.budget,
            "per_person": self.per_person,
            "answers_per_person": self.answers_per_person,
            "answers": len(self.steps),
            "ran_dry": self.ran_dry,
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "at_per_person": at.as_dict() if at is not None else None,
            "frontal_faces": self.frontal_faces,
            "frontal_before": self.frontal_before.as_dict() if self.frontal_before else None,
            "frontal_after": self.frontal_after.as_dict() if self.frontal_after else None,
            "missed_faces": self.missed_faces,
            "steps": [
                {k: v for k, v in asdict(s).items() if k != "scores"}
                | {
                    "bcubed_precision": s.scores.bcubed_precision,
                    "bcubed_recall": s.scores.bcubed_recall,
                    "bcubed_f": s.scores.bcubed_f,
                }
                for s in self.steps
            ],
        }


def allowed_answers(per_person: float, identities: int) -> int:
    """Answers "at most ``per_person`` per person" allows (rounded down)."""
    return int(per_person * identities + 1e-9)


def read_truth(folder: Path) -> dict:
    """The album's ``truth.json`` (``benchmarks/make_album.py``)."""
    path = Path(folder) / "truth.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; make the album with benchmarks/make_album.py")
    return json.loads(path.read_text())


def match_album(catalog: Catalog, folder: Path, truth: dict) -> AlbumMatch:
    """Match the catalog's faces of each truth photo to the true faces (IoU >= 0.5)."""
    from album.evaluation.scan_bench import match_truth

    identity: dict[int, str | None] = {}
    records_of: dict[int, dict] = {}
    missed_records: list[dict] = []
    truth_faces = missed = photos = missing = 0
    seen: set[str] = set()
    for name, records in truth["photos"].items():
        truth_faces += len(records)
        photo = catalog.photo_by_path(Path(folder) / name)
        if photo is None or photo.status != "done" or photo.content_hash is None:
            missing += 1
            missed += len(records)
            missed_records.extend({**r, "photo": name} for r in records)
            continue
        if photo.content_hash in seen:  # faces belong to content: count a duplicate file once
            log.warning("%s: same content as an earlier photo, left out", name)
            missed += len(records)
            missed_records.extend({**r, "photo": name} for r in records)
            continue
        seen.add(photo.content_hash)
        photos += 1
        found = catalog.faces_of_photo(photo)
        pairs = dict(match_truth([f.box for f in found], records))
        for i, face in enumerate(found):
            identity[face.id] = records[pairs[i]]["identity"] if i in pairs else None
            if i in pairs:
                records_of[face.id] = records[pairs[i]]
        matched = set(pairs.values())
        missed_records.extend(
            {**r, "photo": name} for j, r in enumerate(records) if j not in matched
        )
        missed += len(records) - len(pairs)
    return AlbumMatch(identity, truth_faces, missed, photos, missing, records_of, missed_records)


def current_labels(service, face_ids: list[int]) -> np.ndarray:
    """Each face's person id now (after merges), -1 for a face in no person."""
    merged = dict(
        service.db.execute(
            "SELECT id, merged_into FROM people WHERE merged_into IS NOT NULL"
        ).fetchall()
    )
    person = dict(
        service.db.execute(
            "SELECT face_id, person_id FROM assignments WHERE source != 'rejected'"
        ).fetchall()
    )

    def active(p: int) -> int:
        seen = {p}
        while p in merged and merged[p] not in seen:
            p = merged[p]
            seen.add(p)
        return p

    return np.array([active(person[f]) if f in person else -1 for f in face_ids], dtype=np.int64)


def score_now(service, face_ids: list[int], truth: list[str]) -> ClusterScores:
    """BCubed (and pairwise) scores of the current grouping of ``face_ids``."""
    return score_clustering(np.array(truth), current_labels(service, face_ids))


def simulate(
    service,
    identity: dict[int, str | None],
    budget: int,
    per_person: float = 0.5,
    identities: int | None = None,
    on_step: Callable[[Step], None] | None = None,
    frontal: set[int] | None = None,
    observe: Callable[[object, int], None] | None = None,
    batches: bool = False,
) -> QueueResult:
    """Re-cluster, then answer up to ``budget`` questions truthfully (module docstring).
    ``batches``: side views asked about in batches come first, as the app asks them; one
    batch is one answer.

    ``identity``: face id -> true identity (None: a false face); every face the service's model
    embedded must be in it. ``identities``: the album's true identities, for the per-person
    budget (default: those among ``identity``). ``frontal``: face ids also scored on their own.
    ``observe(service, answers)``: called before each answer (and once the budget is spent),
    to look at the whole queue as the user meets it.
    """
    from album.people.errors import PeopleError

    ids, _ = service.catalog.embeddings(service.model_id)
    face_ids = [int(f) for f in ids]
    stray = [f for f in face_ids if f not in identity]
    if stray:
        raise ValueError(f"{len(stray)} embedded faces are not in the album (e.g. {stray[0]})")
    # A false face is a person of its own.
    truth = [identity[f] or f"false face {f}" for f in face_ids]
    if identities is None:
        identities = len({v for v in identity.values() if v is not None})
    service.recluster()
    result = QueueResult(
        split=None,
        photos=0,
        truth_faces=0,
        faces=len(face_ids),
        false_faces=sum(identity[f] is None for f in face_ids),
        missed=0,
        identities=identities,
        budget=budget,
        per_person=per_person,
        answers_per_person=allowed_answers(per_person, identities),
        before=score_now(service, face_ids, truth),
    )
    sub = [i for i, f in enumerate(face_ids) if frontal is not None and f in frontal]

    def frontal_scores() -> ClusterScores | None:
        if frontal is None:
            return None
        labels = current_labels(service, [face_ids[i] for i in sub])
        return score_clustering(np.array([truth[i] for i in sub]), labels)

    result.frontal_faces = len(sub)
    result.frontal_before = frontal_scores()
    refused: set[tuple[int, int]] = set()
    while True:
        if observe:
            observe(service, len(result.steps))
        if len(result.steps) >= budget:
            break
        batch = _next_batch(service, refused) if batches else None
        if batch is not None and not _pair_worth_more(service, batch, refused):
            step = _answer_batch(
                service,
                batch,
                identity,
                len(result.steps) + 1,
                refused,
                lambda: score_now(service, face_ids, truth),
            )
            result.steps.append(step)
            if on_step:
                on_step(step)
            continue
        # A refused answer leaves its question in the queue: skip it rather than loop.
        questions = [
            (q, a, b) for q, a, b in service.queue(1 + len(refused)) if (a, b) not in refused
        ]
        if not questions:
            result.ran_dry = True
            break
        q, a, b = questions[0]
        same = identity[a] is not None and identity[a] == identity[b]
        why = None
        try:
            service.answer(a, b, same, leaving=a if q.kind == "edge" else None)
        except PeopleError as exc:
            why = str(exc)
            refused.add((a, b))
            log.warning("answer %d refused: %s", len(result.steps) + 1, exc)
        service.recluster()
        step = Step(
            answer=len(result.steps) + 1,
            kind=q.kind,
            face_a=a,
            face_b=b,
            distance=float(q.distance),
            probability=float(q.probability),
            same=same,
            refused=why,
            scores=score_now(service, face_ids, truth),
        )
        result.steps.append(step)
        if on_step:
            on_step(step)
    result.frontal_after = frontal_scores()
    return result


def _next_batch(service, refused: set[tuple[int, int]]):
    for batch in service.side_view_batches():
        if (batch.person_id, -1) not in refused:
            return batch
    return None


def _pair_worth_more(service, batch, refused: set[tuple[int, int]]) -> bool:
    """Whether the best pair question outside the batch is worth more than the batch, as
    the app orders them."""
    for q, a, b in service.queue(1 + len(refused) + len(batch.faces)):
        if (a, b) not in refused and a not in batch.faces:
            return q.score > batch.score
    return False


def _answer_batch(
    service,
    batch,
    identity: dict[int, str | None],
    answer: int,
    refused: set[tuple[int, int]],
    scores: Callable[[], ClusterScores],
) -> Step:
    """The user's truthful answer to a batch of side views: the person is who their
    clearest face (the first example) is."""
    from album.people.errors import PeopleError

    who = identity.get(batch.examples[0]) if batch.examples else None
    yes = [f for f in batch.faces if who is not None and identity[f] == who]
    no = [f for f in batch.faces if f not in yes]
    why = None
    try:
        service.answer_side_views(batch.person_id, yes, no)
    except PeopleError as exc:
        why = str(exc)
        refused.add((batch.person_id, -1))
        log.warning("batch answer %d refused: %s", answer, exc)
    service.recluster()
    return Step(
        answer=answer,
        kind="side views",
        face_a=batch.faces[0],
        face_b=batch.examples[0] if batch.examples else -1,
        distance=0.0,
        probability=float(np.mean(batch.probabilities)),
        same=bool(yes),
        refused=why,
        scores=scores(),
    )


def holds_album(catalog: Catalog, folder: Path, truth: dict) -> bool:
    """Whether every photo of the truth is catalogued and read (status ``done``)."""
    for name in truth["photos"]:
        photo = catalog.photo_by_path(Path(folder) / name)
        if photo is None or photo.status != "done":
            return False
    return True


def _copy(catalog: Catalog, dest: Path) -> None:
    """An online copy of the open catalog into the new file ``dest`` (SQLite's backup API)."""
    out = sqlite3.connect(str(dest))
    try:
        catalog.db.conn.backup(out)
    finally:
        out.close()


def _keep_only(catalog: Catalog, faces: set[int]) -> None:
    """Make ``catalog`` (a scratch copy) hold machine data only, for ``faces`` only: the user's
    decisions are dropped and other faces lose their embeddings, so they take no part."""
    db = catalog.db
    with db.atomic():  # a scratch copy: no other writer to wait for
        db.execute("DELETE FROM constraints")
        db.execute("DELETE FROM assignments")
        db.execute("DELETE FROM people")
        db.execute("DELETE FROM people_log")
        ids = [r[0] for r in db.execute("SELECT DISTINCT face_id FROM embeddings").fetchall()]
        gone = [f for f in ids if f not in faces]
        for s in range(0, len(gone), 900):
            chunk = gone[s : s + 900]
            db.execute(
                f"DELETE FROM embeddings WHERE face_id IN ({','.join('?' * len(chunk))})", chunk
            )


def run_queue_eval(
    folder: Path,
    answers: int | None = None,
    per_person: float = 0.5,
    library: Path | None = None,
    device: str | None = None,
    progress: Callable | None = None,
    on_scanned: Callable[[AlbumMatch], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
    observe: Callable[[object, int], None] | None = None,
    batches: bool = False,
) -> QueueResult:
    """Scan ``folder`` (an album with ``truth.json``) and simulate the user (``batches``:
    answering side views in batches too, see ``simulate``).

    ``answers``: the answer budget (default ``per_person`` x the album's true identities).
    ``library``: a catalog that holds the album (reused without scanning) or that the album is
    scanned into (so the next run can reuse it); the simulation always works on a temporary
    copy, so the library never receives the answers. Without it the album is scanned into a
    temporary catalog. ``progress``: the scan's progress callback. ``observe``: see
    ``simulate``.
    """
    from album.people.service import PeopleService
    from album.scan.pipeline import Scanner

    if not per_person >= 0:
        raise ValueError("per_person must be a number >= 0")
    folder = Path(folder).resolve()
    truth = read_truth(folder)
    identities = len({r["identity"] for recs in truth["photos"].values() for r in recs})
    budget = answers if answers is not None else allowed_answers(per_person, identities)
    with tempfile.TemporaryDirectory(prefix="album-queue-") as tmp:
        work = Path(tmp) / "queue.db"
        if library is None:
            with Catalog(work) as cat:
                Scanner(cat, device=device).run([folder], progress=progress)
        else:
            with Catalog(library) as cat:
                if holds_album(cat, folder, truth):
                    log.info("%s holds the album: not scanning", library)
                else:
                    Scanner(cat, device=device).run([folder], progress=progress)
                _copy(cat, work)
        with Catalog(work) as cat:
            found = match_album(cat, folder, truth)
            _keep_only(cat, set(found.identity))
            if on_scanned:
                on_scanned(found)
            frontal = {f for f, r in found.records.items() if abs(r.get("yaw", 0.0)) < FRONTAL}
            result = simulate(
                PeopleService(cat),
                found.identity,
                budget,
                per_person,
                identities,
                on_step,
                frontal,
                observe,
                batches,
            )
    result.split = truth.get("split")
    result.photos = found.photos
    result.truth_faces = found.truth_faces
    result.missed = found.missed
    result.missed_faces = found.missed_records
    return result
