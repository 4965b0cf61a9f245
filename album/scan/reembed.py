"""Switching the embedding model: embed every catalogued face again with another model.

Boxes, landmarks and the user's labels are kept: only rows are added to ``embeddings`` (keyed
by face and model). Like a scan it runs in batches, each committed on its own, so a stopped or
killed run resumes with the faces still lacking a vector for the new model. When every face
whose photo is present has one, the catalog switches to the new model.

>>> Reembedder(catalog, Embedder("facenet-vggface2")).run(progress=print)
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from album.catalog.backup import backup
from album.catalog.lock import interrupt_dead_runs, writer_job
from album.catalog.records import path_from_db
from album.catalog.schema import now
from album.catalog.store import Catalog
from album.scan.reading import Prepared, read_photo
from album.scan.walker import FileEntry
from album.scan.work import ProgressCallback, ProgressMeter, ReadAhead, ScanControl
from album.scan.writer import ScanWriter
from models.detector import DetectedFace
from models.embedder import Embedder

log = logging.getLogger(__name__)


@dataclass
class ReembedSummary:
    run_id: int
    model: str
    photos: int = 0
    faces: int = 0  # faces embedded in this run
    skipped_faces: int = 0  # faces whose photo is missing, unreadable or changed
    errors: int = 0
    seconds: float = 0.0
    switched: bool = False  # the catalog now uses ``model``
    cancelled: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Job:
    """One photo content whose faces lack the new model's vector."""

    entry: FileEntry
    expect: tuple[int, int]
    faces: list[tuple[int, np.ndarray]]  # (face id, landmarks in original pixels)


class Reembedder:
    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        decode_side: int = 2000,
        batch_size: int = 8,
        read_workers: int = 2,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.decode_side = decode_side
        self.batch_size = batch_size
        self.read_workers = read_workers

    def pending_faces(self) -> int:
        return int(
            self.catalog.db.execute(
                "SELECT COUNT(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM embeddings e "
                "WHERE e.face_id = f.id AND e.model_id = ?)",
                (self.embedder.name,),
            ).fetchone()[0]
        )

    def _jobs(self) -> tuple[list[_Job], int]:
        """Photos to read (one present file per content) and the count of faces left out."""
        db = self.catalog.db
        rows = db.execute(
            "SELECT f.id, f.content_hash, f.landmarks FROM faces f WHERE NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.face_id = f.id AND e.model_id = ?) "
            "ORDER BY f.content_hash, f.id",
            (self.embedder.name,),
        ).fetchall()
        by_content: dict[str, list[tuple[int, np.ndarray]]] = {}
        for face_id, h, lm in rows:
            by_content.setdefault(h, []).append((face_id, np.asarray(json.loads(lm), float)))
        files = {}
        for path, h, size, mtime in db.execute(
            "SELECT path, content_hash, size, mtime_ns FROM photos WHERE status = 'done' "
            "ORDER BY id"
        ):
            files.setdefault(h, (path_from_db(path), size, mtime))
        jobs, skipped = [], 0
        for h, faces in by_content.items():
            if h not in files:
                skipped += len(faces)
                continue
            path, size, mtime = files[h]
            entry = FileEntry(path, os.path.dirname(path), size, mtime)
            jobs.append(_Job(entry, (size, mtime), faces))
        return jobs, skipped

    def run(
        self, progress: ProgressCallback | None = None, control: ScanControl | None = None
    ) -> ReembedSummary:
        """Embed the faces still lacking a vector of the new model, then switch to it.

        A writer job: raises ``CatalogLockedError`` while a scan or re-cluster runs. The
        catalog is backed up first (``backups/`` beside it) when this changes its model.
        """
        with writer_job(self.catalog, "re-embed", f"{self.catalog.path} with {self.embedder.name}"):
            current = self.catalog.model
            if current is not None and current != self.embedder.name:
                backup(self.catalog, reason=f"before-model-{self.embedder.name}")
            return self._run(progress, control)

    def _run(
        self, progress: ProgressCallback | None, control: ScanControl | None
    ) -> ReembedSummary:
        control = control or ScanControl()
        started = time.perf_counter()
        db = self.catalog.db
        model = self.embedder.name
        interrupt_dead_runs(self.catalog)  # the writer lock is ours
        run_id = db.execute(
            "INSERT INTO scan_runs (kind, status, started_at, updated_at, model_id, settings, "
            "pid) VALUES ('reembed', 'running', ?, ?, ?, ?, ?)",
            (now(), now(), model, json.dumps({"decode_side": self.decode_side}), os.getpid()),
        ).lastrowid
        summary = ReembedSummary(run_id, model)
        writer = ScanWriter(db, run_id, model, {})
        status = "failed"
        try:
            jobs, summary.skipped_faces = self._jobs()
            meter = ProgressMeter(len(jobs), progress)
            writer.update_run(0, 0, 0, total=len(jobs))
            meter.report()

            def read(job: _Job) -> tuple[_Job, Prepared]:
                # Known content must still be decoded here: pass no known hashes.
                return job, read_photo(
                    job.entry, (), self.decode_side, self.decode_side, expect=job.expect
                )

            with ReadAhead(read, jobs, self.read_workers, 2 * self.batch_size) as reader:
                batch: list[tuple[_Job, Prepared]] = []
                for pair in reader:
                    if control.cancelled:
                        break
                    batch.append(pair)
                    if len(batch) == self.batch_size:
                        self._embed_batch(batch, writer, meter, summary)
                        batch = []
                        if not control.checkpoint():
                            break
                if batch and not control.cancelled:
                    self._embed_batch(batch, writer, meter, summary)
            summary.cancelled = control.cancelled
            status = "cancelled" if control.cancelled else "done"
            if not control.cancelled and summary.errors == 0:
                self.catalog.set_setting("model", model)
                summary.switched = True
        finally:
            summary.seconds = time.perf_counter() - started
            db.rollback()
            db.execute(
                "UPDATE scan_runs SET status = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                (status, now(), now(), run_id),
            )
        return summary

    def _embed_batch(
        self,
        batch: list[tuple[_Job, Prepared]],
        writer: ScanWriter,
        meter: ProgressMeter,
        summary: ReembedSummary,
    ) -> None:
        chips, ids = [], []
        for job, item in batch:
            if item.image is None:
                log.warning("cannot re-embed faces of %r: %s", job.entry.path, item.error)
                summary.errors += 1
                summary.skipped_faces += len(job.faces)
                continue
            s = item.image.scale
            faces = [DetectedFace(np.zeros(4), 1.0, lm * s) for _, lm in job.faces]
            chips.append(self.embedder.chips(item.image.rgb, faces))
            ids.extend(face_id for face_id, _ in job.faces)
        vectors = self.embedder.embed_chips(np.concatenate(chips)) if chips else []
        with self.catalog.write():
            t = now()
            for face_id, vector in zip(ids, vectors, strict=True):
                writer.put_embedding(face_id, vector, t)
            meter.done += len(batch)
            meter.faces += len(ids)
            meter.errors = summary.errors
            writer.update_run(meter.done, meter.faces, meter.errors)
        summary.photos += len(batch)
        summary.faces += len(ids)
        meter.report(batch[-1][0].entry.path)
