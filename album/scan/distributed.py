"""Scanning on a Ray cluster: the same read -> detect -> align -> embed code in worker actors,
the same catalog writer in this process.

>>> from album.scan.distributed import ClusterScanner
>>> with Catalog() as cat:
...     ClusterScanner(cat, address="local").run(["/archive/photos"])

This process plans the scan (which files are new or changed), exactly as ``Scanner`` does, and
stores every result through ``ScanWriter``, one transaction per batch, so a scan on a cluster
is incremental and resumable like one on this machine, and leaves the same faces and
embeddings. Each worker (a Ray actor) loads the models once and turns a batch of file entries
into their faces (``album.scan.faces.FaceFinder``); the workers read the photos themselves, so
every node must see them under the same paths (a network file system).

Faults: a worker that dies (killed, out of memory, a decoder crash) is restarted by Ray; the
batch it held is tried again photo by photo, and a photo whose worker dies ``MAX_TRIES`` times
is recorded as an error with that reason instead of being tried forever. Nothing is stored
until a batch's results are back here, so a lost worker loses no committed work, and the
head's own crash loses at most the batch being written (a rerun resumes).

Ray is optional (``pip install 'album[ray]'``); nothing else in the app imports it.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from album.catalog.store import Catalog
from album.scan.faces import FaceFinder, StageTimes
from album.scan.pipeline import Scanner, ScanSettings, ScanSummary
from album.scan.reading import Prepared, read_photo
from album.scan.walker import FileEntry
from album.scan.work import ProgressMeter, ScanControl
from album.scan.writer import FoundFace, ScanWriter

log = logging.getLogger(__name__)

MAX_TRIES = 3  # times a photo's worker may die before the photo is recorded as an error
IN_FLIGHT = 2  # batches per worker: one computed while the next waits in its queue
INSTALL_HINT = "scanning on a cluster needs Ray: pip install 'album[ray]'"


class ClusterError(RuntimeError):
    """The cluster cannot be reached or used (the message says why, in words)."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def connect(address: str, cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address`` (``auto``, ``ray://host:port``, ``host:port``), or
    start one on this machine with ``local`` (``cpus``: its worker slots, default all cores).
    Does nothing when this process is already connected."""
    ray = _ray()
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address == "local":
            ray.init(num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None


class ScanWorker:
    """A worker's share of a scan (a Ray actor): the models, loaded once, and the photos it is
    given, read from the shared path, turned into faces."""

    def __init__(
        self, model: str, settings: ScanSettings, device: str | None, known: frozenset[str]
    ) -> None:
        from models.detector import FaceDetector
        from models.embedder import Embedder

        embedder = Embedder(model, device=device)
        detector = FaceDetector(
            min_face_size=settings.min_face, max_side=settings.detect_side, device=embedder.device
        )
        # One photo at a time: a cluster's workers already fill the machine's cores.
        self.finder = FaceFinder(detector, embedder, settings.detect_batch, settings.batch_size, 1)
        self.settings = settings
        self.known = known  # content already catalogued: hashed, not decoded

    def process(
        self, entries: list[FileEntry]
    ) -> tuple[list[Prepared], list[list[FoundFace] | None], StageTimes]:
        s, times = self.settings, StageTimes()
        batch = [read_photo(e, self.known, s.decode_side, s.detect_side) for e in entries]
        return batch, self.finder.find(batch, times), times

    def pid(self) -> int:
        return os.getpid()


@dataclass
class _Work:
    """Batches waiting for a worker, those in flight (in the order each worker takes them),
    workers being restarted, and how often each photo's worker died while reading it."""

    waiting: deque[list[FileEntry]]
    in_flight: dict[Any, tuple[int, int, list[FileEntry]]] = field(default_factory=dict)
    down: dict[int, Any] = field(default_factory=dict)  # worker -> a ping answered once it is up
    deaths: dict[str, int] = field(default_factory=dict)
    sent: int = 0

    def load(self, worker: int) -> int:
        return sum(1 for w, _, _ in self.in_flight.values() if w == worker)

    def send(self, worker: int, ref: Any, entries: list[FileEntry]) -> None:
        self.sent += 1
        self.in_flight[ref] = (worker, self.sent, entries)

    def take_back(self, worker: int) -> list[list[FileEntry]]:
        """The batches in flight on ``worker``, oldest (the one it was reading) first."""
        mine = sorted((seq, ref) for ref, (w, seq, _) in self.in_flight.items() if w == worker)
        return [self.in_flight.pop(ref)[2] for _, ref in mine]


class ClusterScanner(Scanner):
    """A ``Scanner`` whose heavy stages run on the Ray cluster at ``address`` (see the
    module's docstring), in ``workers`` actors (default: one per GPU of the cluster, else one
    per CPU; more workers than GPUs share them). ``worker_class``: the actor's class
    (``ScanWorker``)."""

    def __init__(
        self,
        catalog: Catalog,
        address: str = "local",
        workers: int | None = None,
        settings: ScanSettings | None = None,
        device: str | None = None,
        worker_class: type = ScanWorker,
        **kwargs: Any,
    ) -> None:
        super().__init__(catalog, settings=settings, device=device, **kwargs)
        connect(address, workers)
        ray = _ray()
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self.workers = workers or gpus or max(1, int(resources.get("CPU", 1)))
        self.worker_device = "cuda" if gpus else "cpu"
        # More workers than GPUs share them (detection, not the GPU, bounds one process).
        share = min(1.0, gpus / self.workers) if gpus else 0
        self._actor = ray.remote(num_cpus=0 if gpus else 1, num_gpus=share, max_restarts=-1)(
            worker_class
        )
        self.actors: list[Any] = []

    def _start_workers(self, known: set[str]) -> None:
        # Passed by value: Ray keeps a restarted actor's arguments (a small set inline, a
        # large one in the object store for as long as the actor lives).
        known_now = frozenset(known)
        self.actors = [
            self._actor.remote(self.embedder.name, self.settings, self.worker_device, known_now)
            for _ in range(self.workers)
        ]

    def close(self) -> None:
        """Stop the workers (the cluster stays up)."""
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []

    def _scan(
        self,
        todo: list[FileEntry],
        writer: ScanWriter,
        meter: ProgressMeter,
        control: ScanControl,
        summary: ScanSummary,
    ) -> None:
        """Batches out to the workers, results stored here as they come back."""
        ray = _ray()
        known = self._known_content()
        if not self.actors:
            self._start_workers(known)
        size = self.settings.batch_size
        work = _Work(deque(todo[i : i + size] for i in range(0, len(todo), size)))
        store = (writer, meter, summary, known)
        while work.waiting or work.in_flight:
            if control.cancelled or not control.checkpoint():
                break  # what is in flight is read again next time
            self._submit(work)
            pings = {ref: w for w, ref in work.down.items()}
            ready, _ = ray.wait([*work.in_flight, *pings], num_returns=1, timeout=1.0)
            for ref in ready:
                if ref in pings:
                    self._ping_answered(work, pings[ref], ref)
                elif ref in work.in_flight:
                    self._batch_done(work, ref, store)

    def _batch_done(self, work: _Work, ref: Any, store: tuple) -> None:
        ray = _ray()
        worker, _, entries = work.in_flight[ref]
        try:
            batch, found, times = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
            # The worker died (killed, out of memory): everything it held comes back; only
            # the batch it was reading counts against its photos. Ray restarts it.
            log.warning(
                "a scan worker stopped (%s); its photos are tried again", type(exc).__name__
            )
            held = work.take_back(worker)
            work.waiting.extendleft(reversed(held[1:]))
            self._retry(work, held[0], type(exc).__name__, *store)
            work.down[worker] = self.actors[worker].pid.remote()
            return
        except ray.exceptions.RayTaskError as exc:  # an exception in the worker, which lives
            del work.in_flight[ref]
            self._retry(work, entries, type(exc.cause).__name__, *store)
            return
        del work.in_flight[ref]
        _add_times(store[2].times, times)
        self._store(batch, found, *store)

    def _ping_answered(self, work: _Work, worker: int, ref: Any) -> None:
        ray = _ray()
        try:
            ray.get(ref)
            del work.down[worker]  # restarted: it takes batches again
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError):
            work.down[worker] = self.actors[worker].pid.remote()  # not yet

    def _submit(self, work: _Work) -> None:
        for worker, actor in enumerate(self.actors):
            while work.waiting and worker not in work.down and work.load(worker) < IN_FLIGHT:
                entries = work.waiting.popleft()
                work.send(worker, actor.process.remote(entries), entries)

    def _retry(
        self,
        work: _Work,
        entries: list[FileEntry],
        why: str,
        writer: ScanWriter,
        meter: ProgressMeter,
        summary: ScanSummary,
        known: set[str],
    ) -> None:
        """A batch whose worker failed on it: its photos go back one by one; a photo alone in
        its batch that has now failed ``MAX_TRIES`` times is recorded as an error."""
        if len(entries) > 1:
            work.waiting.extendleft([e] for e in reversed(entries))
            return
        entry = entries[0]
        work.deaths[entry.path] = n = work.deaths.get(entry.path, 0) + 1
        if n < MAX_TRIES:
            work.waiting.append([entry])
            return
        log.warning("%r: its scan worker failed %d times; recorded as an error", entry.path, n)
        failed = Prepared(
            entry,
            entry.size,
            entry.mtime_ns,
            error=f"the scan worker reading it stopped {n} times ({why}); not tried again "
            "until the file changes or the scan retries errors",
        )
        self._store([failed], [None], writer, meter, summary, known)


def _add_times(total: StageTimes, part: StageTimes) -> None:
    for name in vars(total):
        setattr(total, name, getattr(total, name) + getattr(part, name))


def worker_pids(names: Iterable[str] = ("ScanWorker",)) -> list[int]:
    """Process ids of this machine's scan workers (Ray names an actor's process after its
    class), for tests and benchmarks that stop one on purpose."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith("ray::") and any(n in cmd for n in names):
            out.append(int(entry))
    return sorted(out)
