"""The scan's heavy stages for a batch of decoded photos: face detection, alignment and
embedding, with each face's quality, sharpness and yaw. One ``FaceFinder`` serves the scanner
on this machine (detection in one thread, alignment and embedding in another) and each worker
of a cluster scan (``album.scan.cluster``), so both store the same faces."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from album.scan.head_parts import without_head_parts
from album.scan.quality import face_quality, sharpness
from album.scan.reading import Prepared
from album.scan.writer import FoundFace
from models.detector import DetectedFace, FaceDetector
from models.embedder import Embedder
from models.pose import estimate_yaw

log = logging.getLogger(__name__)

_NO_PIXELS = np.zeros((0, 0, 3), np.uint8)  # a photo's pixels once its faces are embedded


@dataclass
class StageTimes:
    """Seconds spent per stage. ``read`` (hash and decode) is summed over the decode threads;
    ``read_wait`` is how long the detector waited for them. ``align`` and ``embed`` run in
    their own thread beside detection; ``embed_wait`` is how long storing waited for them. The
    waits are the stages' shares of the wall time that overlap did not hide."""

    read: float = 0.0
    read_wait: float = 0.0
    detect: float = 0.0
    align: float = 0.0
    embed: float = 0.0
    embed_wait: float = 0.0
    store: float = 0.0


class FaceFinder:
    """Finds, aligns and embeds the faces of batches of decoded photos (``Prepared``).

    ``detect_batch`` size: photos per detector call (None: 1 on a CPU, where batching MTCNN
    is slower, else ``batch_size``). ``detect_threads``: photos detected at once when they
    go one per call (on a CPU the detector's many small steps leave a core idle, and a scan
    is bound by detection: two at once finish 80 photos in 4.3-4.6 s against 6.6-7.1)."""

    def __init__(
        self,
        detector: FaceDetector,
        embedder: Embedder,
        detect_batch: int | None = None,
        batch_size: int = 4,
        detect_threads: int = 2,
    ) -> None:
        self.detector = detector
        self.detect_threads = detect_threads
        # Kept for the finder's life: threads made anew for every step spread the memory
        # they free over more of the allocator's arenas (peaks 0.3 GB higher, measured).
        self._pool: ThreadPoolExecutor | None = None
        self.embedder = embedder
        self.detect_size = detect_batch
        self.batch_size = batch_size

    def find(self, batch: list[Prepared], times: StageTimes) -> list[list[FoundFace] | None]:
        """Detect, then align and embed, the faces of ``batch`` (one after the other)."""
        todo, detections = self.detect_batch(batch, times)
        return self.embed_faces(batch, todo, detections, times)

    def close(self) -> None:
        """Let the detection threads go (a later call makes them again)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def detect_batch(
        self, batch: list[Prepared], times: StageTimes
    ) -> tuple[list[int], list[list[DetectedFace] | None]]:
        """The indices of ``batch``'s decoded photos, and their faces."""
        times.read += sum(p.seconds for p in batch)
        todo = [i for i, p in enumerate(batch) if p.image is not None and p.error is None]
        start = time.perf_counter()
        detections = self.detect([batch[i] for i in todo]) if todo else []
        detections = [None if d is None else without_head_parts(d) for d in detections]
        times.detect += time.perf_counter() - start
        return todo, detections

    def embed_faces(
        self,
        batch: list[Prepared],
        todo: list[int],
        detections: list[list[DetectedFace] | None],
        times: StageTimes,
    ) -> list[list[FoundFace] | None]:
        """Align and embed the detected faces of ``batch`` (photos ``todo``), all the batch's
        faces in one embedding pass."""
        out: list[list[FoundFace] | None] = [None] * len(batch)
        start = time.perf_counter()
        per_photo: list[tuple[int, list[DetectedFace], np.ndarray]] = []
        for i, dets in zip(todo, detections, strict=True):
            p = batch[i]
            if dets is None:
                continue
            assert p.image is not None and p.detect_rgb is not None
            k = p.image.rgb.shape[1] / p.detect_rgb.shape[1]  # detection -> decoded pixels
            faces = [d.scaled(k) for d in dets]
            per_photo.append((i, faces, self.embedder.chips(p.image.rgb, faces)))
        chips = [c for _, _, c in per_photo]
        aligned = time.perf_counter()
        times.align += aligned - start
        vectors = self.embed(np.concatenate(chips) if chips else np.zeros((0,)))
        times.embed += time.perf_counter() - aligned
        n = 0
        for i, faces, photo_chips in per_photo:
            p = batch[i]
            assert p.image is not None
            to_original = 1.0 / p.image.scale
            result = []
            for f, chip in zip(faces, photo_chips, strict=True):
                box = tuple(float(v) * to_original for v in f.box)
                sharp = sharpness(chip)
                result.append(
                    FoundFace(
                        box,
                        f.landmarks * to_original,
                        f.score,
                        face_quality(f.score, box, chip, sharp),
                        vectors[n],
                        yaw=float(estimate_yaw(f.landmarks, f.box)[0]),
                        sharpness=sharp,
                    )
                )
                n += 1
            out[i] = result
        for p in batch:  # what is stored needs the photo's size and dates, not its pixels
            p.detect_rgb = None
            if p.image is not None:
                p.image = replace(p.image, rgb=_NO_PIXELS)
        return out

    def detect(self, items: list[Prepared]) -> list[list[DetectedFace] | None]:
        """Batched detection on a GPU; on a CPU, photo by photo, ``detect_threads`` at once.
        A photo whose detection fails is marked with the reason and costs only itself."""
        n = self.detect_size
        if n is None:
            n = 1 if self.detector.device.type == "cpu" else self.batch_size
        if n == 1:
            if self.detect_threads > 1 and len(items) > 1:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.detect_threads, "album-detect")
                return list(self._pool.map(self._detect_one, items))
            return [self._detect_one(p) for p in items]
        try:
            results: list[list[DetectedFace] | None] = []
            for start in range(0, len(items), n):
                chunk = items[start : start + n]
                results.extend(self.detector.detect_batch([p.detect_rgb for p in chunk]))
            return results
        except Exception:
            log.warning("batched detection failed; retrying photo by photo", exc_info=True)
        return [self._detect_one(p) for p in items]

    def _detect_one(self, p: Prepared) -> list[DetectedFace] | None:
        try:
            return self.detector.detect(p.detect_rgb)
        except Exception as exc:
            log.exception("face detection failed on %r", p.path)
            p.error = f"face detection failed ({type(exc).__name__}: {exc})"
            p.image = p.detect_rgb = None
            return None

    def embed(self, chips: np.ndarray) -> np.ndarray:
        if len(chips) == 0:
            return np.zeros((0, self.embedder.spec.embedding_size), dtype=np.float32)
        return self.embedder.embed_chips(chips)
