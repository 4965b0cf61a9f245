"""The GUI's adapter over the core: one open catalog for the GUI thread, the people service
(created once the core is loaded), and the job functions that run in worker threads.

Nothing here imports torch at module level: ``album.people.service`` pulls in scipy and
``models.registry`` (torch, several seconds), so they are loaded by ``warm_up`` off the GUI
thread and the window is up before.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from album.catalog import Catalog
from album.gui.jobs import Job, JobContext, JobKind
from album.people.keys import ASSIGN_KEY, THRESHOLD_KEY  # noqa: F401  (the Settings dialog)

if TYPE_CHECKING:
    from album.people.scanning import ScanResult
    from album.people.service import PeopleService
    from album.people.settings import PeopleSettings


def core_loaded() -> bool:
    return "album.people.service" in sys.modules and "models.registry" in sys.modules


def warm_up(ctx: JobContext | None = None) -> bool:
    """Import the core's heavy modules (scipy, torch, OpenVINO, the detector) in a
    worker thread, right after the window shows, so that no later job imports them.

    Such imports hold the GIL for long stretches (loading torch's shared libraries, full
    garbage collections over the new objects), stalling the GUI thread; ``quiet_imports``
    avoids both. Doing it once, up front, keeps what is left out of scans and user actions.
    """
    from album.gui.quiet_import import quiet_imports

    with quiet_imports():
        import album.people.service
        import album.scan
        import album.scan.reembed
        import album.scan.thumbnails  # noqa: F401
        import models.detector
        import models.registry  # noqa: F401
        from models.engine import openvino_available

        openvino_available()

        try:  # imported by clustering on use
            import hdbscan  # noqa: F401
            import sklearn.cluster  # noqa: F401
        except ImportError:
            pass
    # HDBSCAN's compiled code holds the GIL for up to seconds: the app clusters in a child
    # process (started on the first scan or re-cluster, ended by ``shutdown``).
    from album.people import offload

    offload.use_child_process()
    return True


def shutdown() -> None:
    """At the app's exit: end the clustering worker process, if one was started."""
    offload = sys.modules.get("album.people.offload")
    if offload is not None:
        offload.shutdown()


def people_settings(catalog: Catalog) -> PeopleSettings:
    from album.people.settings import PeopleSettings

    return PeopleSettings.from_catalog(catalog)


def open_service(catalog: Catalog) -> PeopleService:
    from album.people.service import PeopleService

    return PeopleService(catalog, settings=people_settings(catalog))


class Session:
    """One catalog file as the GUI thread sees it."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.catalog = Catalog(path)
        self.path = self.catalog.path
        self._people: PeopleService | None = None

    @property
    def people(self) -> PeopleService:
        """The people service (loads the core on first use: call after ``warm_up``)."""
        if self._people is None:
            self._people = open_service(self.catalog)
        return self._people

    def reload_settings(self) -> None:
        self._people = None

    def sync_model(self) -> bool:
        """Drop the people service when the catalog's model changed (after a re-embed) so the
        next use works on the new model's embeddings; True when it did."""
        if self._people is not None and self.catalog.model not in (None, self._people.model_id):
            self._people = None
            return True
        return False

    def close(self) -> None:
        self.catalog.close()

    def photo_of_face(self, face_id: int):
        """A present photo showing the face (None if every copy is missing)."""
        face = self.catalog.face(face_id)
        if face is None:
            return None
        photos = [
            p for p in self.catalog.photos_with_content(face.content_hash) if p.status == "done"
        ]
        return photos[0] if photos else None

    def face_in_photo(self, face_id: int, photo) -> tuple[float, float, float, float] | None:
        """The face's box as fractions of ``photo``'s upright width and height (None when the
        photo or its size is unknown)."""
        face = self.catalog.face(face_id)
        if face is None or photo is None or not photo.width or not photo.height:
            return None
        left, top, right, bottom = face.box
        w, h = photo.width, photo.height
        return left / w, top / h, right / w, bottom / h


# --- jobs (run in worker threads; each opens its own Catalog) -------------------------------


def _threads() -> None:
    import torch

    # Leave a core to the GUI and the decode threads (see album.cli.scan.set_threads).
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def scan_job(
    path: Path, folders: list[str], device: str | None = None, recluster: bool = True
) -> Job:
    """A job: scan ``folders`` into the catalog, grouping people as it goes (a progress
    report with ``event='people'`` after each grouping), then read the names in the photos'
    metadata and re-cluster, unless cancelled (``album.people.scanning``, as ``album scan``)."""

    def run(ctx: JobContext) -> ScanResult:
        ctx.report(0, 0, "Loading the face models…", force=True)
        from album.catalog.lock import writer_job
        from album.people.scanning import scan_and_group
        from album.scan import Scanner

        _threads()
        with Catalog(path) as cat, writer_job(cat, "scan", ", ".join(folders)):
            # One lock for the scan and the grouping after it: no other job slips in between.
            scanner = Scanner(cat, device=None if device in (None, "auto") else device)
            ctx.report(0, 0, "Looking for photos…", force=True)
            if recluster:
                from album.people import offload

                offload.prestart()  # its imports overlap the scan's first photos
            last: list = []

            def text(p) -> str:
                out = f"{p.photos_done} of {p.photos_total} photos · {p.faces} faces"
                return out + (f" · {p.errors} unreadable" if p.errors else "")

            def progress(p) -> None:
                last[:] = [p]
                ctx.report(p.photos_done, p.photos_total, text(p), p.eta_seconds)

            def people() -> None:  # between two stored batches: people appear as it runs
                p = last[0]
                ctx.report(p.photos_done, p.photos_total, text(p), p.eta_seconds, True, "people")

            return scan_and_group(
                cat,
                scanner,
                folders,
                progress=progress,
                control=ctx.control,
                group=recluster,
                live=recluster,
                on_people=people,
                status=lambda words: ctx.report(0, 0, words, force=True),
            )

    return Job(JobKind.SCAN, "Scanning", run, pausable=True)


def recluster_job(path: Path) -> Job:
    def run(ctx: JobContext):
        ctx.report(0, 0, "Grouping faces into people…", force=True)
        with Catalog(path) as cat:
            return open_service(cat).recluster()

    return Job(JobKind.GROUPING, "Grouping", run, cancellable=False)


@dataclass(frozen=True)
class PairQuestion:
    """Are faces ``a`` and ``b`` one person? With the model's distance and probability."""

    a: int
    b: int
    distance: float
    probability: float
    reason: str = ""
    leaving: int | None = None  # the face that leaves its person on "different"


@dataclass(frozen=True)
class Questions:
    """What the "Same person?" dialog asks: batches of side views (``SideViewBatch``), one
    person each, then pairs. A pair about a side view in a batch is left to the batch."""

    pairs: list[PairQuestion]
    batches: list


def questions_job(path: Path, limit: int = 30) -> Job:
    """A job: side views asked about in batches, then the most useful "same person?"
    questions."""

    def run(ctx: JobContext) -> Questions:
        ctx.report(0, 0, "Finding the most useful questions…", force=True)
        with Catalog(path) as cat:
            service = open_service(cat)
            queue = service.queue(500)
            batches = service.side_view_batches(questions=queue)
            # Asked first where worth more than the best pair question left; the rest later.
            for _ in range(len(batches)):
                in_batch = {f for b in batches for f in b.faces}
                pairs = [(q, a, b) for q, a, b in queue if a not in in_batch]
                if not batches or not pairs or batches[-1].score >= pairs[0][0].score:
                    break
                batches.pop()
            in_batch = {f for b in batches for f in b.faces}
            qs = [(q, a, b) for q, a, b in queue if a not in in_batch]
        return Questions(
            [
                PairQuestion(
                    a, b, q.distance, q.probability, q.reason, a if q.kind == "edge" else None
                )
                for q, a, b in qs[:limit]
            ],
            batches,
        )

    return Job(JobKind.QUESTIONS, "Questions", run, cancellable=False, refresh=False)


@dataclass(frozen=True)
class ReviewItem:
    """One thing to review. kind 'suggestion': is face ``face_a`` person ``person_a``?
    kind 'merge': are people ``person_a`` and ``person_b`` (faces a, b closest) one?"""

    kind: str
    face_a: int
    person_a: int
    face_b: int | None = None
    person_b: int | None = None
    distance: float | None = None
    probability: float | None = None


def review_job(path: Path, limit: int = 200) -> Job:
    """A job: suggested faces (most confident first), then merge suggestions."""

    def run(ctx: JobContext) -> list[ReviewItem]:
        ctx.report(0, 0, "Collecting suggestions…", force=True)
        with Catalog(path) as cat:
            svc = open_service(cat)
            items: list[ReviewItem] = []
            for s in svc.people():
                if s.suggested:
                    for f in svc.faces_of(s.id, ("suggested",)):
                        items.append(
                            ReviewItem("suggestion", f.face_id, s.id, distance=f.confidence)
                        )
            items.sort(key=lambda i: (i.distance is None, i.distance or 0.0))
            items = items[:limit]
            for m, fa, fb in svc.merge_suggestions(limit=50):
                items.append(ReviewItem("merge", fa, m.a, fb, m.b, m.distance, m.probability))
        return items

    return Job(JobKind.REVIEW, "Review", run, cancellable=False, refresh=False)


def reembed_job(path: Path, model: str, device: str | None = None) -> Job:
    def run(ctx: JobContext):
        ctx.report(0, 0, f"Loading {model}…", force=True)
        from album.scan.reembed import Reembedder
        from models.embedder import Embedder

        _threads()
        with Catalog(path) as cat:
            embedder = Embedder(model, device=None if device in (None, "auto") else device)

            def progress(p) -> None:
                ctx.report(
                    p.photos_done,
                    p.photos_total,
                    f"Re-embedding: {p.photos_done} of {p.photos_total} photos",
                    p.eta_seconds,
                )

            return Reembedder(cat, embedder).run(progress, ctx.control)

    return Job(JobKind.REEMBED, "Re-embedding", run)


def manual_face_job(path: Path, photo_id: int, box: tuple, device: str | None = None) -> Job:
    """A job: the engine's part of marking a missed face by hand (decode, landmarks,
    embedding; see ``album.people.manual``). Returns the ``ManualFace`` to store with
    ``PeopleService.add_face`` on the GUI thread (quick SQL, undoable), or the message of a
    ``PeopleError`` when the box cannot be a face."""

    def run(ctx: JobContext):
        ctx.report(0, 0, "Reading the face you marked…", force=True)
        from album.people.errors import PeopleError
        from album.people.manual import measure_face
        from models.embedder import Embedder

        _threads()
        with Catalog(path) as cat:
            model = open_service(cat).model_id
            embedder = Embedder(model, device=None if device in (None, "auto") else device)
            try:
                return measure_face(cat, photo_id, box, model, embedder=embedder)
            except PeopleError as exc:
                return str(exc)

    return Job(JobKind.MARK_FACE, "Marking a face", run, cancellable=False)


def train_job(path: Path, base: str, name: str, device: str | None = None) -> Job:
    """A job: "Improve recognition from my labels" (``training.personal``): learn from the
    user's confirmed faces, rejections and answers over the model in use, judged on faces
    held out from training; the result (``PersonalResult``) says in words what changed and is
    registered as model ``name`` only when it recognises the user's people better. ``base``
    (the model picked in Settings) is informative: the model in use is what gets adapted,
    since its stored embeddings are what training reads; ``device`` is not needed (the head
    trains in seconds on a CPU). Errors come back in words."""

    def run(ctx: JobContext):
        ctx.report(0, 0, "Reading your labels…", force=True)
        from training.personal import personal_fine_tune

        _threads()
        return personal_fine_tune(
            path,
            name,
            status=lambda m: ctx.report(0, 0, m[:1].upper() + m[1:] + "…", force=True),
            should_stop=lambda: not ctx.control.checkpoint(),
        )

    return Job(JobKind.TRAINING, "Training", run)


def adopt_job(path: Path, result) -> Job:
    """A job: switch the catalog to a kept personal model (``result``) and re-group with it;
    no CNN pass (``training.personal.adopt``). Returns the re-cluster summary."""

    def run(ctx: JobContext):
        ctx.report(0, 0, f"Switching to {result.name} and re-grouping…", force=True)
        from training.personal import adopt

        _threads()
        return adopt(path, result)

    return Job(JobKind.ADOPT, "Grouping", run)


def fetch_weights_job(name: str, file: str | None = None) -> Job:
    """A job: download (or import from ``file``) a FaceNet model's weights."""

    def run(ctx: JobContext) -> Path:
        from models import facenet

        if file:
            ctx.report(0, 0, f"Checking {Path(file).name}…", force=True)
            return facenet.import_weights(name, Path(file))

        def progress(done: int, total: int | None) -> None:
            mb = done / 2**20
            ctx.report(done, total or 0, f"Downloading {name}: {mb:.0f} MB")

        return facenet.fetch(name, progress)

    return Job(JobKind.WEIGHTS, "Weights", run)


# --- export (small adapter: the core has no export yet) --------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    people: int
    photos: int
    folder: Path


def export_job(path: Path, out: Path, folders: bool = True) -> Job:
    """A job running the core's exports into ``out``: ``people.csv``, ``people.json``, XMP
    sidecars with face regions under ``xmp/`` and, with ``folders``, one folder per named
    person holding links to their photos (the photos themselves are never moved)."""

    def run(ctx: JobContext) -> ExportSummary:
        from album.people import export

        out.mkdir(parents=True, exist_ok=True)
        with Catalog(path) as cat:
            ctx.report(0, 4, "Writing people.csv")
            export.export_csv(cat, out / "people.csv", named_only=True)
            ctx.report(1, 4, "Writing people.json")
            export.export_json(cat, out / "people.json", named_only=True)
            ctx.report(2, 4, "Writing XMP sidecars")
            xmp = export.export_xmp(cat, out / "xmp")
            summary = xmp
            if folders:
                ctx.report(3, 4, "Linking photos by person")
                summary = export.export_by_person(cat, out, mode="symlink")
        return ExportSummary(summary.people, summary.photos, out)

    return Job(JobKind.EXPORT, "Exporting", run)
