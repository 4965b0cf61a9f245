"""Photos by person: the photos that show all (or any) of some people, newest first.

Read from the catalog's current positive assignments (confirmed, automatic, suggested; never
rejected). Faces belong to photo *content*, so every file with that content counts, and only
files that are readable now (status ``done``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from album.catalog.records import path_from_db


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


def photos_with(catalog, person_ids: Iterable[int], any_: bool = False) -> list[PersonPhoto]:
    """The photos showing every one of ``person_ids`` (any of them with ``any_``), newest first;
    no ids: every readable photo. Ids are taken as they are: resolve names and merges first
    (``PeopleService.find``)."""
    ids = sorted({int(i) for i in person_ids})
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
        "SELECT ph.id, ph.path, ph.content_hash, ph.taken_at, ph.mtime_ns, p.id, p.name "
        f"FROM photos ph {hits}"
        "LEFT JOIN faces f ON f.content_hash = ph.content_hash "
        "LEFT JOIN assignments a ON a.face_id = f.id AND a.source != 'rejected' "
        "LEFT JOIN people p ON p.id = a.person_id AND p.merged_into IS NULL "
        "WHERE ph.status = 'done' AND ph.content_hash IS NOT NULL",
        params,
    ).fetchall()
    photos: dict[int, tuple] = {}
    people: dict[int, dict[int, str | None]] = {}
    for photo_id, path, digest, taken_at, mtime_ns, pid, name in rows:
        if photo_id not in photos:
            photos[photo_id] = (path, digest, *_taken(taken_at, mtime_ns))
            people[photo_id] = {}
        if pid is not None:
            people[photo_id][pid] = name
    out = [
        PersonPhoto(
            photo_id,
            path_from_db(path),
            digest,
            taken,
            exif,
            tuple(
                PhotoPerson(pid, name)
                for pid, name in sorted(
                    people[photo_id].items(),
                    key=lambda kv: (kv[1] is None, (kv[1] or "").casefold(), kv[0]),
                )
            ),
        )
        for photo_id, (path, digest, taken, exif) in photos.items()
    ]
    out.sort(key=lambda p: (p.taken, p.photo_id), reverse=True)
    return out


def _taken(taken_at: str | None, mtime_ns: int) -> tuple[datetime, bool]:
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
