"""Photos by person: the photos that show all (or any) of some people, newest first; only them,
or without someone.

Read from the catalog's current positive assignments (confirmed, automatic, suggested; never
rejected). Faces belong to photo *content*, so every file with that content counts, and only
files that are readable now (status ``done``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from album.catalog.records import path_from_db
from album.people.ages import age_text


@dataclass(frozen=True)
class PhotoPerson:
    id: int
    name: str | None  # None: an unnamed cluster


@dataclass(frozen=True)
class PersonPhoto:
    """One file and the people seen in it."""

    photo_id: int
    path: str
    content_hash: str
    taken: datetime  # EXIF DateTimeOriginal (camera time), else the file's mtime (local time)
    exif_date: bool  # True when ``taken`` comes from EXIF
    people: tuple[PhotoPerson, ...]  # named first (by name), then clusters by id


def photos_with(
    catalog,
    person_ids: Iterable[int],
    any_: bool = False,
    only: bool = False,
    without: Iterable[int] = (),
    strangers: bool = True,
) -> list[PersonPhoto]:
    """The photos showing every one of ``person_ids`` (any of them with ``any_``), newest first;
    no ids: every readable photo. Ids are taken as they are: resolve names and merges first
    (``PeopleService.find``).

    ``only``: nobody else named or grouped in the photo (a couple's photos, a family
    portrait); faces that belong to no one (strangers in the background) are allowed unless
    ``strangers`` is false. ``without``: none of these people in the photo.
    """
    ids = sorted({int(i) for i in person_ids})
    if only and not ids:
        raise ValueError("'only' needs the people the photos may show")
    excluded = {int(i) for i in without}
    params: list[object] = []
    hits = ""
    if ids:
        # One statement, so the answer is one consistent snapshot even while a scan writes.
        hits = (
            "JOIN (SELECT f.content_hash AS h FROM assignments a JOIN faces f ON f.id = a.face_id "
            f"WHERE a.source != 'rejected' AND a.person_id IN ({','.join('?' * len(ids))}) "
            "GROUP BY f.content_hash HAVING COUNT(DISTINCT a.person_id) >= ?) hits "
            "ON hits.h = ph.content_hash "
        )
        params = [*ids, 1 if any_ else len(ids)]
    rows = catalog.db.execute(
        "SELECT ph.id, ph.path, ph.content_hash, ph.taken_at, ph.mtime_ns, p.id, p.name, f.id "
        f"FROM photos ph {hits}"
        "LEFT JOIN faces f ON f.content_hash = ph.content_hash "
        "LEFT JOIN assignments a ON a.face_id = f.id AND a.source != 'rejected' "
        "LEFT JOIN people p ON p.id = a.person_id AND p.merged_into IS NULL "
        "WHERE ph.status = 'done' AND ph.content_hash IS NOT NULL",
        params,
    ).fetchall()
    photos: dict[int, tuple] = {}
    people: dict[int, set[int]] = {}
    # One object and one sort key per person, not per (photo, person): 10,000 photos of one
    # person are 10,000 rows here.
    person: dict[int, PhotoPerson] = {}
    with_strangers: set[int] = set()  # photos with a face that is nobody's
    for photo_id, path, digest, taken_at, mtime_ns, pid, name, face_id in rows:
        if photo_id not in photos:
            photos[photo_id] = (path, digest, *taken_date(taken_at, mtime_ns))
            people[photo_id] = set()
        if pid is not None:
            people[photo_id].add(pid)
            if pid not in person:
                person[pid] = PhotoPerson(pid, name)
        elif face_id is not None:
            with_strangers.add(photo_id)
    wanted = set(ids)
    for photo_id in list(photos):
        seen = people[photo_id]
        if (
            (seen & excluded)
            or (only and not seen <= wanted)
            or (only and not strangers and photo_id in with_strangers)
        ):
            del photos[photo_id]
    order = {
        pid: i
        for i, pid in enumerate(
            sorted(
                person, key=lambda p: (person[p].name is None, (person[p].name or "").casefold(), p)
            )
        )
    }
    out = [
        PersonPhoto(
            photo_id,
            path_from_db(path),
            digest,
            taken,
            exif,
            tuple(person[p] for p in sorted(people[photo_id], key=order.__getitem__)),
        )
        for photo_id, (path, digest, taken, exif) in photos.items()
    ]
    out.sort(key=lambda p: (p.taken, p.photo_id), reverse=True)
    return out


@dataclass(frozen=True)
class PhotoFace:
    """A face in a photo and who it is (None: nobody yet)."""

    face_id: int
    box: tuple[float, float, float, float]  # left, top, right, bottom in upright pixels
    person_id: int | None
    name: str | None  # None: unnamed, or nobody
    source: str | None  # 'confirmed', 'automatic', 'suggested'; None: nobody
    age: str | None = None  # the person's age on the photo's date ("3 years"), if known


@dataclass(frozen=True)
class PhotoDetails:
    """What the photo viewer shows about one file."""

    photo_id: int
    path: str
    status: str  # 'done', 'missing', 'error'
    bytes: int
    width: int | None
    height: int | None
    taken: datetime
    exif_date: bool
    faces: tuple[PhotoFace, ...]  # left to right

    def summary(self) -> str:
        """'12 March 2021, 14:03 · 4000 × 3000 · 2.4 MB' (file date marked as such)."""
        when = self.taken.strftime("%d %B %Y, %H:%M").lstrip("0") if self.taken.year > 1 else ""
        if when and not self.exif_date:
            when += " (file date)"
        size = f"{self.width} × {self.height}" if self.width and self.height else ""
        missing = {"missing": "file missing", "error": "unreadable"}.get(self.status, "")
        return " · ".join(t for t in (when, size, human_size(self.bytes), missing) if t)


def photo_details(catalog, photo_id: int) -> PhotoDetails | None:
    """The file's date, size and path, and its faces with the people they are assigned to."""
    row = catalog.db.execute(
        "SELECT path, status, size, width, height, taken_at, mtime_ns, content_hash "
        "FROM photos WHERE id = ?",
        (photo_id,),
    ).fetchone()
    if row is None:
        return None
    path, status, size, width, height, taken_at, mtime_ns, digest = row
    taken, exif_date = taken_date(taken_at, mtime_ns or 0)
    faces = tuple(
        PhotoFace(
            fid,
            (left, top, right, bottom),
            pid,
            name,
            source,
            age_text(born, taken) if exif_date else None,  # a file's date says nothing of age
        )
        for fid, left, top, right, bottom, pid, name, source, born in catalog.db.execute(
            "SELECT f.id, f.box_left, f.box_top, f.box_right, f.box_bottom, p.id, p.name, "
            "a.source, p.birth_date FROM faces f "
            "LEFT JOIN assignments a ON a.face_id = f.id AND a.source != 'rejected' "
            "LEFT JOIN people p ON p.id = a.person_id AND p.merged_into IS NULL "
            "WHERE f.content_hash = ? ORDER BY f.box_left, f.id",
            (digest,),
        )
    )
    return PhotoDetails(
        photo_id,
        path_from_db(path),
        status,
        int(size or 0),
        width,
        height,
        taken,
        exif_date,
        faces,
    )


def human_size(n: int) -> str:
    """Bytes for people: '812 KB', '2.4 MB'."""
    if n < 1000:
        return f"{n} bytes"
    x = float(n)
    for unit in ("KB", "MB", "GB"):
        x /= 1000
        if x < 1000 or unit == "GB":
            return f"{x:.0f} {unit}" if x >= 100 or unit == "KB" else f"{x:.1f} {unit}"
    raise AssertionError  # unreachable


def taken_date(taken_at: str | None, mtime_ns: int) -> tuple[datetime, bool]:
    """(when the photo was taken, whether that is its EXIF date) from a photo row."""
    if taken_at:
        try:
            # Camera time has no zone; drop one if a writer added it, so all dates compare.
            return datetime.fromisoformat(taken_at).replace(tzinfo=None), True
        except ValueError:
            pass  # a malformed EXIF date: the file's date is the better guess
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9), False
    except (OverflowError, OSError, ValueError):  # a nonsense mtime: sort it last
        return datetime.min, False
