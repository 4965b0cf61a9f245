"""Training data: identity folders (or the catalog's confirmed people) turned into aligned chips.

Each image is detected once with the engine's :class:`models.detector.FaceDetector`; the face
nearest the image centre is kept (LFW photos are centred on their person) and cut with
:meth:`models.embedder.Embedder.chips`' alignment for the base model's chip size and template.
Two caches under :func:`cache_dir` / ``training`` make the second run cheap:

- landmarks, per image folder and detector setting, incremental (a new image is detected
  alone; a changed file, by size or mtime, is detected again);
- chips, one ``.npy`` per (file list with sizes and mtimes, chip size, template, detector
  setting), loaded memory-mapped.

Images where no face is found are left out (``no_face="skip"``) or cut at the median landmark
position of the others (``no_face="median"``, what the LFW benchmark does, since LFW photos
are centred on the face).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

# How each landmark row was obtained.
DETECTED, RETRIED, NOT_FOUND = 1, 2, 0


@dataclass(frozen=True)
class DetectorSettings:
    """MTCNN settings for finding the one face of an identity-folder image.

    The defaults suit LFW-like photos (faces of 80+ px): a minimum face of 40 px is several
    times cheaper than 20 px. Images without a face are tried again with looser thresholds.
    """

    min_face_size: int = 40
    max_side: int = 1000
    retry: bool = True

    def key(self) -> str:
        return f"mtcnn-min{self.min_face_size}-max{self.max_side}-retry{int(self.retry)}"


@dataclass(frozen=True)
class FaceItem:
    """One image of one person; ``path`` is relative to the dataset root."""

    path: str
    identity: str


def cache_dir() -> Path:
    """``$ALBUM_HOME/cache`` when ALBUM_HOME is set, else the user's cache folder."""
    home = os.environ.get("ALBUM_HOME")
    if home:
        return Path(home) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("album", appauthor=False))


def scan_identity_folders(
    root: Path,
    *,
    min_faces: int = 1,
    max_per_identity: int | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] | None = None,
) -> list[FaceItem]:
    """Images of ``root/<identity>/*`` (the LFW layout), sorted by identity then file name.

    Identities with fewer than ``min_faces`` images, or named in ``exclude``, are left out;
    ``include`` keeps only the identities it names. ``max_per_identity`` keeps the first N
    images (sorted) of each identity, so one person with hundreds of photos cannot dominate.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    excluded = set(exclude)
    included = set(include) if include is not None else None
    items: list[FaceItem] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name = folder.name
        if (
            name.startswith(".")
            or name in excluded
            or (included is not None and name not in included)
        ):
            continue
        files = sorted(
            f.name for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
        )
        if len(files) < min_faces:
            continue
        if max_per_identity:
            files = files[:max_per_identity]
        items.extend(FaceItem(f"{name}/{f}", name) for f in files)
    return items


@dataclass
class ChipDataset:
    """Aligned chips in memory with their identities.

    ``chips`` (N, S, S, 3) uint8 (possibly a read-only memory map); ``labels`` (N,) int64 index
    ``identities``; ``paths`` and ``status`` (DETECTED, RETRIED, NOT_FOUND) per chip.
    """

    chips: np.ndarray
    labels: np.ndarray
    identities: list[str]
    paths: list[str]
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def chip_size(self) -> int:
        return int(self.chips.shape[1])

    def subset(self, indices: Sequence[int] | np.ndarray) -> ChipDataset:
        """The chips at ``indices``, labels renumbered to the identities that remain."""
        idx = np.asarray(indices, dtype=np.int64)
        labels = self.labels[idx]
        kept, new = np.unique(labels, return_inverse=True)
        status = self.status[idx] if len(self.status) else self.status
        return ChipDataset(
            np.asarray(self.chips[idx]),
            new.astype(np.int64),
            [self.identities[i] for i in kept],
            [self.paths[i] for i in idx],
            status,
        )

    def split_identities(self, fraction: float, seed: int = 0) -> tuple[ChipDataset, ChipDataset]:
        """(rest, held-out): about ``fraction`` of the identities, chosen at random, held out
        whole (no identity is on both sides)."""
        rng = np.random.default_rng(seed)
        n_ids = len(self.identities)
        count = round(n_ids * fraction)
        held = np.zeros(n_ids, dtype=bool)
        held[rng.permutation(n_ids)[:count]] = True
        mask = held[self.labels]
        return self.subset(np.flatnonzero(~mask)), self.subset(np.flatnonzero(mask))

    def identity_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.identities))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return int(st.st_size), int(st.st_mtime_ns)


def _hash(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:24]


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"))


class LandmarkCache:
    """Per-image landmarks of the central face for one image folder and detector setting."""

    def __init__(
        self,
        root: Path,
        settings: DetectorSettings,
        folder: Path | None = None,
        persist: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = settings
        self.persist = persist
        folder = folder or cache_dir() / "training"
        self.file = folder / f"landmarks-{_hash([str(self.root), settings.key()])}.npz"
        self.entries: dict[str, tuple[tuple[int, int], np.ndarray, int]] = {}
        if persist and self.file.is_file():
            try:
                with np.load(self.file) as z:
                    for p, s, lm, st in zip(
                        z["paths"], z["stamps"], z["landmarks"], z["status"], strict=True
                    ):
                        self.entries[str(p)] = ((int(s[0]), int(s[1])), lm, int(st))
            except (OSError, KeyError, ValueError) as exc:
                log.warning("ignoring unreadable landmark cache %s: %s", self.file, exc)

    def save(self) -> None:
        if not self.persist:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        paths = sorted(self.entries)
        tmp = self.file.with_name(self.file.stem + ".tmp.npz")
        np.savez(
            tmp,
            paths=np.array(paths, dtype=str),
            stamps=np.array([self.entries[p][0] for p in paths], dtype=np.int64).reshape(-1, 2),
            landmarks=np.array([self.entries[p][1] for p in paths], dtype=np.float32).reshape(
                -1, 5, 2
            ),
            status=np.array([self.entries[p][2] for p in paths], dtype=np.int8),
        )
        os.replace(tmp, self.file)

    def landmarks(
        self,
        paths: Sequence[str],
        device: str | None = None,
        batch: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(N, 5, 2) float32 landmarks and (N,) status for ``paths`` (relative to the root);
        rows with status NOT_FOUND are zeros. Detects only what the cache lacks."""
        stamps = [_stamp(self.root / p) for p in paths]
        todo = [
            i
            for i, p in enumerate(paths)
            if p not in self.entries or self.entries[p][0] != stamps[i]
        ]
        if todo:
            self._detect(
                [paths[i] for i in todo], [stamps[i] for i in todo], device, batch, progress
            )
            self.save()
        lms = (
            np.stack([self.entries[p][1] for p in paths])
            if paths
            else np.zeros((0, 5, 2), np.float32)
        )
        status = np.array([self.entries[p][2] for p in paths], dtype=np.int8)
        return lms.astype(np.float32), status

    def _detect(self, paths, stamps, device, batch, progress) -> None:
        from album.evaluation.lfw import central_face
        from models.detector import FaceDetector

        s = self.settings
        det = FaceDetector(min_face_size=s.min_face_size, max_side=s.max_side, device=device)
        loose = None
        for start in range(0, len(paths), batch):
            chunk = paths[start : start + batch]
            arrays = [_read_rgb(self.root / p) for p in chunk]
            found = det.detect_batch(arrays)
            for j, (arr, faces) in enumerate(zip(arrays, found, strict=True)):
                face = central_face(faces, arr.shape[1], arr.shape[0])
                status = DETECTED
                if face is None and s.retry:
                    loose = loose or FaceDetector(
                        min_face_size=12,
                        max_side=s.max_side,
                        thresholds=(0.5, 0.5, 0.5),
                        min_score=0.5,
                        device=det.device,
                    )
                    face = central_face(loose.detect(arr), arr.shape[1], arr.shape[0])
                    status = RETRIED
                if face is None:
                    lm, status = np.zeros((5, 2), np.float32), NOT_FOUND
                else:
                    lm = np.asarray(face.landmarks, dtype=np.float32)
                self.entries[chunk[j]] = (stamps[start + j], lm, status)
            if progress:
                progress(min(start + batch, len(paths)), len(paths))


def load_chips(
    root: Path,
    items: Sequence[FaceItem],
    spec,
    *,
    no_face: Literal["skip", "median"] = "skip",
    settings: DetectorSettings = DetectorSettings(),
    device: str | None = None,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> ChipDataset:
    """A :class:`ChipDataset` for ``items`` cut for ``spec`` (an EmbedderSpec or its name).

    ``progress(stage, done, total)`` is called with stage "detect" then "align".
    """
    from models.align import align_face
    from models.registry import get_spec

    spec = get_spec(spec) if isinstance(spec, str) else spec
    root = Path(root)
    paths = [it.path for it in items]
    cache = LandmarkCache(root, settings, persist=use_cache)
    lms, status = cache.landmarks(
        paths, device=device, progress=(lambda d, t: progress("detect", d, t)) if progress else None
    )
    found = status != NOT_FOUND
    fallback = np.median(lms[found], axis=0) if found.any() else None
    if fallback is not None:
        lms[~found] = fallback

    key = _hash(
        {
            "root": str(root.resolve()),
            "files": [[p, *_stamp(root / p)] for p in paths],
            "chip": spec.chip_size,
            "template": np.round(spec.template_array(), 4).tolist(),
            "detector": settings.key(),
            "fallback": None if fallback is None else np.round(fallback, 3).tolist(),
        }
    )
    chip_file = cache_dir() / "training" / f"chips-{key}.npy"
    if use_cache and chip_file.is_file():
        chips = np.load(chip_file, mmap_mode="r")
    else:
        size, template = spec.chip_size, spec.template_array()
        chips = np.zeros((len(paths), size, size, 3), dtype=np.uint8)
        for i, p in enumerate(paths):
            if found[i] or fallback is not None:
                chips[i] = align_face(_read_rgb(root / p), lms[i], template, size)
            if progress and (i % 64 == 63 or i == len(paths) - 1):
                progress("align", i + 1, len(paths))
        if use_cache:
            chip_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = chip_file.with_name(chip_file.stem + ".tmp.npy")
            np.save(tmp, chips)
            os.replace(tmp, chip_file)

    keep = np.flatnonzero(found) if no_face == "skip" else np.arange(len(paths))
    if no_face == "skip" and len(keep) < len(paths):
        log.info("%d of %d images without a face were left out", len(paths) - len(keep), len(paths))
    names = sorted({it.identity for it in items})
    index = {n: i for i, n in enumerate(names)}
    labels = np.array([index[items[i].identity] for i in keep], dtype=np.int64)
    ds = ChipDataset(
        chips if len(keep) == len(paths) else np.asarray(chips[keep]),
        labels,
        names,
        [paths[i] for i in keep],
        status[keep],
    )
    # Identities that lost all their images to 'skip' are dropped from the name list.
    return ds.subset(np.arange(len(ds))) if len(np.unique(labels)) < len(names) else ds


# --- the catalog -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmedFace:
    """A face the user confirmed as ``person`` in the catalog: a photo showing it, and the
    face's five landmarks (MTCNN order, upright full-resolution photo pixels)."""

    person: str
    path: Path
    landmarks: np.ndarray
    face_id: int = -1


def confirmed_faces(catalog_path: Path | None = None) -> list[ConfirmedFace]:
    """The faces the user confirmed (a 'confirmed' assignment) in the catalog at
    ``catalog_path`` (None: the default catalog), with a present photo showing each.

    The identity is the person's name, or ``person-<id>`` for an unnamed person; two people
    with the same name stay apart (``name#id``). Faces whose photos are all missing or
    unreadable are left out.
    """
    from album.catalog import Catalog

    with Catalog(catalog_path) as cat:
        people = {p.id: p for p in cat.people()}
        names: dict[str, list[int]] = {}
        for p in people.values():
            names.setdefault(p.name or "", []).append(p.id)

        def identity(pid: int) -> str:
            person = people.get(pid)
            if person is None or not person.name:
                return f"person-{pid}"
            return person.name if len(names[person.name]) == 1 else f"{person.name}#{pid}"

        out: list[ConfirmedFace] = []
        for asg in cat.assignments():
            if asg.source != "confirmed":
                continue
            face = cat.face(asg.face_id)
            if face is None:
                continue
            photos = [
                ph for ph in cat.photos_with_content(face.content_hash) if ph.status == "done"
            ]
            photo = next((ph for ph in photos if Path(ph.path).is_file()), None)
            if photo is None:
                continue
            out.append(
                ConfirmedFace(
                    identity(asg.person_id),
                    Path(photo.path),
                    np.asarray(face.landmarks, dtype=np.float32),
                    face.id,
                )
            )
    return out


def chips_from_confirmed(
    faces: Sequence[ConfirmedFace], spec, *, use_cache: bool = True
) -> ChipDataset:
    """Chips for catalog faces, cut with their stored landmarks (no detection needed); each
    photo is decoded once. Cached like :func:`load_chips` (key: photos' sizes and mtimes,
    landmarks, chip size and template). Unreadable photos are left out."""
    from album.images import ImageError, load_image
    from models.align import align_face
    from models.registry import get_spec

    spec = get_spec(spec) if isinstance(spec, str) else spec
    size, template = spec.chip_size, spec.template_array()
    stamps = []
    for f in faces:
        try:
            stamps.append(_stamp(f.path))
        except OSError:
            stamps.append((-1, -1))
    key = _hash(
        {
            "faces": [
                [str(f.path), *st, np.round(f.landmarks, 2).tolist()]
                for f, st in zip(faces, stamps, strict=True)
            ],
            "chip": size,
            "template": np.round(template, 4).tolist(),
        }
    )
    chip_file = cache_dir() / "training" / f"catalog-chips-{key}.npz"
    if use_cache and chip_file.is_file():
        with np.load(chip_file) as z:
            chips, ok = z["chips"], z["ok"]
    else:
        chips = np.zeros((len(faces), size, size, 3), dtype=np.uint8)
        ok = np.zeros(len(faces), dtype=bool)
        by_photo: dict[Path, list[int]] = {}
        for i, f in enumerate(faces):
            by_photo.setdefault(f.path, []).append(i)
        for path, idx in by_photo.items():
            try:
                rgb = load_image(path).rgb
            except ImageError as exc:
                log.warning("left out %d faces of %s: %s", len(idx), path, exc)
                continue
            for i in idx:
                chips[i] = align_face(rgb, faces[i].landmarks, template, size)
                ok[i] = True
        if use_cache:
            chip_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = chip_file.with_name(chip_file.stem + ".tmp.npz")
            np.savez(tmp, chips=chips, ok=ok)
            os.replace(tmp, chip_file)
    keep = np.flatnonzero(ok)
    names = sorted({faces[i].person for i in keep})
    index = {n: j for j, n in enumerate(names)}
    labels = np.array([index[faces[i].person] for i in keep], dtype=np.int64)
    return ChipDataset(
        chips[keep],
        labels,
        names,
        [str(faces[i].path) for i in keep],
        np.full(len(keep), DETECTED, np.int8),
    )
