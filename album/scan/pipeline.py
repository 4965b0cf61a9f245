"""Scanning folders into the catalog: walk -> read (thread pool) -> detect -> align -> embed ->
store, one transaction per batch.

>>> from album.catalog import Catalog
>>> from album.scan import Scanner
>>> with Catalog() as cat:
...     summary = Scanner(cat).run(["~/Pictures"], progress=print)

Sizes: a photo is decoded with its longer side at most ``decode_side`` (2000 px: JPEG's DCT
scaling makes a 12 MP photo cost about a quarter of a full decode) and detected on a copy
reduced to ``detect_side`` (1000 px) with the detector's ``min_face_size`` (20 px there, i.e.
faces of 80 px and up in a 4000 px photo). Chips are cut from the 2000 px image: from the
1000 px one, small faces embed measurably worse (mean distance to full-resolution chips 0.22
vs 0.07 for 80-100 px faces). Boxes and landmarks are stored in original photo pixels.

Crash safety: each batch's photo rows, faces and embeddings commit together, and a photo is
skipped next time only when its row matches the file's size and mtime, so a killed scan loses
at most the batch in flight and a rerun carries on without duplicating a face.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from album.catalog.lock import interrupt_dead_runs, writer_job
from album.catalog.records import path_from_db
from album.catalog.schema import now
from album.catalog.store import Catalog, write_transaction
from album.scan.faces import FaceFinder, StageTimes
from album.scan.reading import Prepared, read_photo
from album.scan.walker import FileEntry, is_under, walk
from album.scan.work import ProgressCallback, ProgressMeter, ReadAhead, ScanControl
from album.scan.writer import FoundFace, Outcome, ScanWriter
from models.detector import FaceDetector
from models.embedder import Embedder
from models.registry import default_model

log = logging.getLogger(__name__)


class ModelMismatchError(ValueError):
    """The catalog's faces were embedded with another model; re-embed to switch."""


@dataclass(frozen=True)
class ScanSettings:
    decode_side: int = 2000  # longer side of the decoded photo (chips are cut from it)
    detect_side: int = 1000  # longer side of the image the detector sees
    min_face: int = 20  # smallest face, in pixels of the detection image
    # Photos per step (detection, one embedding pass, one commit). Two steps are in flight
    # (one detected while the one before is embedded): 4 keeps a scan's peak memory where it
    # was with one step of 8 (1.32 GB on 12 MP photos), at the same speed.
    batch_size: int = 4
    # Photos per detector call; None: 1 on CPU (batching MTCNN there is slower: 345 vs
    # 230 ms per photo measured), batch_size on a GPU.
    detect_batch: int | None = None
    # Photos detected at once when they go one per detector call (on a CPU).
    detect_threads: int = 2
    read_workers: int = 2  # decode threads
    # Photos decoded ahead of the detector (11 MB each at 2000 px); decoding keeps ahead
    # with 4 (8.8 photos/s at 4, 4-8 at 8).
    read_ahead: int = 4


@dataclass
class ScanSummary:
    run_id: int
    photos: int = 0  # files catalogued in this run: new or changed (moves and copies included)
    faces: int = 0  # new faces stored
    errors: int = 0
    unchanged: int = 0  # skipped: same size and mtime as catalogued
    moved: int = 0
    copies: int = 0
    missing: int = 0  # catalogued photos no longer found (and not found moved)
    seconds: float = 0.0
    cancelled: bool = False
    times: StageTimes = field(default_factory=StageTimes)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Plan:
    todo: list[FileEntry]
    unchanged: int
    vanished: list[int]  # photo ids marked missing (some may turn out to be moves)


class Scanner:
    """Scans folders into ``catalog``.

    Args:
        catalog: the open catalog (used from the calling thread only).
        detector: an MTCNN detector; its ``min_face_size`` applies to the detection image.
            Built from ``settings`` when None.
        embedder: the embedding model; when None, the catalog's model (default for a new
            catalog). It must match the catalog's model: switching models is re-embedding.
        settings: sizes and batching (see ``ScanSettings``).
    """

    def __init__(
        self,
        catalog: Catalog,
        detector: FaceDetector | None = None,
        embedder: Embedder | None = None,
        settings: ScanSettings | None = None,
        device: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings or ScanSettings()
        model = catalog.model
        if embedder is None:
            embedder = Embedder(model or default_model(), device=device)
        if model is not None and embedder.name != model:
            raise ModelMismatchError(
                f"the catalog's faces are embedded with {model!r}, not {embedder.name!r}; "
                f"switch models with 'album reembed --model {embedder.name}'"
            )
        self.embedder = embedder
        self.detector = detector or FaceDetector(
            min_face_size=self.settings.min_face,
            max_side=self.settings.detect_side,
            device=embedder.device,
        )
        s = self.settings
        self.faces = FaceFinder(
            self.detector, embedder, s.detect_batch, s.batch_size, s.detect_threads
        )

    # --- public -------------------------------------------------------------------------------

    def run(
        self,
        folders: Sequence[str | os.PathLike[str]],
        progress: ProgressCallback | None = None,
        control: ScanControl | None = None,
        retry_errors: bool = False,
    ) -> ScanSummary:
        """Scan ``folders`` (and everything below them); returns what was done.

        Only new and changed files are read. Catalogued photos that are gone are marked
        missing. ``retry_errors`` reads unchanged files that failed before once more.

        Raises:
            FileNotFoundError: a folder does not exist (nothing is marked missing then).
            CatalogLockedError: another writer job (scan, re-embed, re-cluster) runs on the
                catalog (the message names it).
        """
        what = ", ".join(os.fspath(f) for f in folders)
        with writer_job(self.catalog, "scan", what):
            return self._run(folders, progress, control, retry_errors)

    def _run(
        self,
        folders: Sequence[str | os.PathLike[str]],
        progress: ProgressCallback | None,
        control: ScanControl | None,
        retry_errors: bool,
    ) -> ScanSummary:
        control = control or ScanControl()
        roots = [os.path.abspath(os.path.expanduser(os.fspath(f))) for f in folders]
        for root in roots:
            if not os.path.lexists(root):
                raise FileNotFoundError(f"{root}: no such folder")
        started = time.perf_counter()
        folder_ids = {r: self.catalog.add_folder(r).id for r in roots}
        db = self.catalog.db
        db.execute(
            "INSERT OR IGNORE INTO settings (key, value) VALUES ('model', ?)", (self.embedder.name,)
        )
        # The writer lock is ours: a run still 'running' whose process is gone was killed.
        interrupt_dead_runs(self.catalog)
        run_id = db.execute(
            "INSERT INTO scan_runs (kind, status, started_at, updated_at, folders, model_id, "
            "settings, pid) VALUES ('scan', 'running', ?, ?, ?, ?, ?, ?)",
            (
                now(),
                now(),
                json.dumps(roots),
                self.embedder.name,
                json.dumps(
                    asdict(self.settings) | {"detector_min_face": self.detector.min_face_size}
                ),
                os.getpid(),
            ),
        ).lastrowid
        summary = ScanSummary(run_id)
        writer = ScanWriter(db, run_id, self.embedder.name, folder_ids)
        status = "failed"
        try:
            plan = self._plan(roots, retry_errors)
            summary.unchanged = plan.unchanged
            meter = ProgressMeter(len(plan.todo), progress)
            writer.update_run(0, 0, 0, total=len(plan.todo))
            meter.report()
            self._scan(plan.todo, writer, meter, control, summary)
            summary.missing = sum(
                1
                for i in plan.vanished
                if db.execute("SELECT status FROM photos WHERE id = ?", (i,)).fetchone()
                == ("missing",)
            )
            summary.cancelled = control.cancelled
            status = "cancelled" if control.cancelled else "done"
            if not control.cancelled:
                writer.sweep_orphans()
                for fid in folder_ids.values():
                    db.execute("UPDATE folders SET last_scan_at = ? WHERE id = ?", (now(), fid))
        except KeyboardInterrupt:
            status = "cancelled"
            raise
        finally:
            summary.seconds = time.perf_counter() - started
            db.rollback()  # a batch interrupted by an exception: nothing half-written
            db.execute(
                "UPDATE scan_runs SET status = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                (status, now(), now(), run_id),
            )
        return summary

    # --- planning -----------------------------------------------------------------------------

    def _plan(self, roots: list[str], retry_errors: bool) -> _Plan:
        """Walk the folders; decide which files need reading; mark vanished photos missing."""
        db = self.catalog.db
        known = {
            path_from_db(r[0]): r[1:]
            for r in db.execute("SELECT path, id, size, mtime_ns, status FROM photos")
        }
        seen: set[str] = set()
        todo: list[FileEntry] = []
        unchanged = 0
        revive: list[int] = []
        for entry in walk(roots):
            seen.add(entry.path)
            row = known.get(entry.path)
            if row is not None and (row[1], row[2]) == (entry.size, entry.mtime_ns):
                if row[3] == "done" or (row[3] == "error" and not retry_errors):
                    unchanged += 1
                    continue
                if row[3] == "missing":
                    revive.append(row[0])
                    unchanged += 1
                    continue
            todo.append(entry)
        vanished = [
            (row[0], row[3])
            for path, row in known.items()
            if row[3] != "missing" and path not in seen and any(is_under(path, r) for r in roots)
        ]
        with write_transaction(db):
            t = now()
            for photo_id in revive:
                db.execute(
                    "UPDATE photos SET status = 'done', updated_at = ? WHERE id = ?", (t, photo_id)
                )
            for photo_id, status in vanished:
                if status == "error":  # never read: nothing to keep
                    db.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
                else:
                    db.execute(
                        "UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?",
                        (t, photo_id),
                    )
        missing = [i for i, s in vanished if s != "error"]
        log.info("scan plan: %d to read, %d unchanged, %d gone", len(todo), unchanged, len(missing))
        return _Plan(todo, unchanged, missing)

    # --- the pipeline -------------------------------------------------------------------------

    def _known_content(self) -> set[str]:
        return {
            r[0]
            for r in self.catalog.db.execute(
                "SELECT DISTINCT content_hash FROM photos WHERE status IN ('done', 'missing') "
                "AND content_hash IS NOT NULL"
            )
        }

    def _scan(
        self,
        todo: list[FileEntry],
        writer: ScanWriter,
        meter: ProgressMeter,
        control: ScanControl,
        summary: ScanSummary,
    ) -> None:
        """Decode (thread pool) -> detect (this thread) -> align and embed (one more thread) ->
        store (this thread), batch by batch: while one batch's faces are embedded the next
        batch's are detected, so the two heaviest stages use two cores."""
        s = self.settings
        # Read by the decode threads, grown by this thread as new content is stored (set.add
        # and membership tests are atomic under the GIL). A stale answer costs a wasted decode
        # or a second read (Outcome.NEEDS_DECODE), never a wrong row.
        known = self._known_content()

        def read(entry: FileEntry) -> Prepared:
            return read_photo(entry, known, s.decode_side, s.detect_side)

        reader = ReadAhead(read, todo, s.read_workers, s.read_ahead)
        embedding = ThreadPoolExecutor(1, thread_name_prefix="album-embed")
        pending: tuple[list[Prepared], Future] | None = None
        batch: list[Prepared] = []

        def store_pending() -> None:
            nonlocal pending
            if pending is not None:
                done, future = pending
                pending = None
                wait = time.perf_counter()
                found = future.result()
                summary.times.embed_wait += time.perf_counter() - wait
                self._store(done, found, writer, meter, summary, known)

        try:
            for item in reader:
                batch.append(item)
                if len(batch) < s.batch_size and not control.cancelled:
                    continue
                if control.cancelled:
                    break
                future = self._start(batch, embedding, summary.times)
                store_pending()
                pending, batch = (batch, future), []
                if control.cancelled or not control.checkpoint():
                    break
            else:
                if batch and not control.cancelled:
                    future = self._start(batch, embedding, summary.times)
                    store_pending()
                    pending = (batch, future)
            if not control.cancelled:  # cancelled: stop now; that batch is read again next time
                store_pending()
        finally:
            embedding.shutdown(wait=True, cancel_futures=True)
            self.faces.close()
            reader.close()
            summary.times.read_wait += reader.wait_seconds

    def _start(self, batch: list[Prepared], pool: ThreadPoolExecutor, times: StageTimes) -> Future:
        """Detect ``batch``'s faces here; align and embed them in ``pool``."""
        todo, detections = self.faces.detect_batch(batch, times)
        return pool.submit(self.faces.embed_faces, batch, todo, detections, times)

    def _store(
        self,
        batch: list[Prepared],
        found: list[list[FoundFace] | None],
        writer: ScanWriter,
        meter: ProgressMeter,
        summary: ScanSummary,
        known: set[str],
    ) -> None:
        start = time.perf_counter()
        again: list[Prepared] = []
        db = self.catalog.db
        with write_transaction(db):  # write lock first: the batch reads before it writes
            for item, faces in zip(batch, found, strict=True):
                outcome, new_faces = writer.record(item, faces)
                if outcome is Outcome.NEEDS_DECODE:
                    again.append(item)
                    continue
                meter.done += 1
                meter.faces += new_faces
                summary.faces += new_faces
                if outcome is Outcome.ERROR:
                    meter.errors += 1
                    summary.errors += 1
                    log.info("%r: %s", item.path, item.error)
                else:
                    summary.photos += 1
                    summary.moved += outcome is Outcome.MOVED
                    summary.copies += outcome is Outcome.COPY
                    if item.content_hash:
                        known.add(item.content_hash)
            writer.update_run(meter.done, meter.faces, meter.errors)
        summary.times.store += time.perf_counter() - start
        meter.report(batch[-1].path)
        if again:  # content that looked catalogued when read, but is not any more
            s = self.settings
            redo = [read_photo(p.entry, (), s.decode_side, s.detect_side) for p in again]
            found = self.faces.find(redo, summary.times)
            self._store(redo, found, writer, meter, summary, known)
