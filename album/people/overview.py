"""The People grid's data without the engine: every active person with their photo count and
their most recent photo, the grid's sort orders and which people fold under "More people".

Plain SQL over the catalog (no torch, no scipy), so the window can show people before the
face models have loaded. Counts follow the current positive assignments, as
``album.people.photos`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from album.catalog.user_data import MACHINE_CLUSTERS
from models.pose import FRONTAL

SORTS = ("photos", "name", "recent")  # most photos, by name, most recent photo first
FEW_PHOTOS = 2  # unnamed people seen in this many photos or fewer fold under "More people"


@dataclass(frozen=True)
class PersonOverview:
    """One person as the app and the commands list them (the People grid, name pickers,
    ``album people``): the one row type for a person with their counts."""

    id: int
    name: str | None  # None: an unnamed cluster
    hidden: bool
    photos: int  # readable photos showing them (copies of one photo count once)
    faces: int  # faces assigned (confirmed, automatic, suggested)
    suggested: int
    latest: datetime | None  # their most recent photo (EXIF date, else file date)
    confirmed: int = 0
    cluster: bool = False  # owned by clustering: no user data yet (album.catalog.user_data)
    cover_face_id: int | None = None
    birth_date: str | None = None  # YYYY-MM-DD, given by the user

    @property
    def label(self) -> str:
        return self.name or "Unnamed"


def face_rank(source: str, yaw: float | None, quality: float | None, face_id: int) -> tuple:
    """The sort key of the one best-face rule: confirmed faces before machine ones, frontal
    (|yaw| < FRONTAL) before turned and side views, sharper and larger (quality) first.
    ``best_faces`` orders by the same rule in SQL."""
    return (source != "confirmed", abs(yaw or 0.0) >= FRONTAL, -(quality or 0.0), face_id)


def best_faces(catalog, person_id: int, limit: int = 1, exclude: Iterable[int] = ()) -> list[int]:
    """The faces that show person ``person_id`` best, best first: the cover the user chose,
    then the others by ``face_rank``. ``exclude``: face ids left out."""
    skip = {int(f) for f in exclude}
    out: list[int] = []
    row = catalog.db.execute("SELECT cover_face_id FROM people WHERE id = ?", (person_id,))
    cover = row.fetchone()
    if cover and cover[0] is not None and int(cover[0]) not in skip:
        out.append(int(cover[0]))
    rows = catalog.db.execute(
        "SELECT a.face_id FROM assignments a JOIN faces f ON f.id = a.face_id "
        "WHERE a.person_id = ? AND a.source != 'rejected' "
        "ORDER BY a.source != 'confirmed', ABS(COALESCE(f.yaw, 0)) >= ?, f.quality DESC, "
        "a.face_id LIMIT ?",
        (person_id, FRONTAL, limit + len(skip) + 1),
    )
    for (face,) in rows:
        if len(out) == limit:
            break
        if int(face) not in skip and int(face) not in out:
            out.append(int(face))
    return out


def people_overview(
    catalog, include_hidden: bool = False, include_empty: bool = False
) -> list[PersonOverview]:
    """Active people (not merged away) with their counts, in no particular order; hidden people
    only with ``include_hidden``. Unnamed people without faces are left out unless
    ``include_empty``."""
    faces: dict[int, tuple[int, int, int]] = {
        pid: (n, s, c)
        for pid, n, s, c in catalog.db.execute(
            "SELECT person_id, COUNT(*), SUM(source = 'suggested'), SUM(source = 'confirmed') "
            "FROM assignments WHERE source != 'rejected' GROUP BY person_id"
        )
    }
    # Counted and dated in SQL (10,000 photos: tens of ms, where a row per photo and person
    # in Python took hundreds). A content's date is its newest readable copy's: the EXIF date,
    # else the file's mtime as local time, both ISO text, so MAX compares them.
    photos: dict[int, tuple[int, str | None]] = {
        pid: (n, latest)
        for pid, n, latest in catalog.db.execute(
            "WITH dated AS (SELECT content_hash AS h, MAX(COALESCE(taken_at, "
            "strftime('%Y-%m-%dT%H:%M:%S', mtime_ns / 1000000000, 'unixepoch', 'localtime'))) "
            "AS d FROM photos WHERE status = 'done' AND content_hash IS NOT NULL "
            "GROUP BY content_hash) "
            "SELECT a.person_id, COUNT(DISTINCT f.content_hash), MAX(dated.d) "
            "FROM assignments a JOIN faces f ON f.id = a.face_id "
            "JOIN dated ON dated.h = f.content_hash "
            "WHERE a.source != 'rejected' GROUP BY a.person_id"
        )
    }
    clusters = {r[0] for r in catalog.db.execute(MACHINE_CLUSTERS)}
    out = []
    for pid, name, hidden, cover, born in catalog.db.execute(
        "SELECT id, name, hidden, cover_face_id, birth_date FROM people WHERE merged_into IS NULL"
    ):
        if hidden and not include_hidden:
            continue
        n_faces, n_suggested, n_confirmed = faces.get(pid, (0, 0, 0))
        if n_faces == 0 and not name and not include_empty:
            continue
        n_photos, latest = photos.get(pid, (0, None))
        out.append(
            PersonOverview(
                pid,
                name,
                bool(hidden),
                n_photos,
                n_faces,
                int(n_suggested or 0),
                _date(latest),
                int(n_confirmed or 0),
                pid in clusters,
                cover,
                born,
            )
        )
    return out


def read_people_overview(catalog_path) -> list[PersonOverview]:
    """``people_overview`` (hidden people included) on a connection of its own: for a worker
    thread (SQLite connections are per thread)."""
    from album.catalog import Catalog

    with Catalog(catalog_path) as cat:
        return people_overview(cat, include_hidden=True)


def sort_people(rows: list[PersonOverview], by: str = "photos") -> list[PersonOverview]:
    """``by``: 'photos' (most first), 'name' (named A-Z, then unnamed by photos) or 'recent'
    (most recent photo first). Named people come before unnamed ones in every order except
    'recent', where the date is what the user asked for."""
    if by not in SORTS:
        raise ValueError(f"unknown sort {by!r}: one of {', '.join(SORTS)}")

    def name_key(r: PersonOverview) -> str:
        return (r.name or "").casefold()

    if by == "name":
        return sorted(rows, key=lambda r: (r.name is None, name_key(r), -r.photos, r.id))
    if by == "recent":
        # Reversed: people with a date first, newest first; among equals the lower id first.
        return sorted(
            rows,
            key=lambda r: (r.latest is not None, r.latest or datetime.min, -r.id),
            reverse=True,
        )
    return sorted(rows, key=lambda r: (r.name is None, -r.photos, name_key(r), r.id))


def folded(row: PersonOverview) -> bool:
    """Whether ``row`` goes under "More people": unnamed and in few photos. A name is the
    user's sign that the person matters, so named people always stay in view."""
    return row.name is None and row.photos <= FEW_PHOTOS


def split_people(
    rows: list[PersonOverview], by: str = "photos"
) -> tuple[list[PersonOverview], list[PersonOverview]]:
    """(shown, more): the sorted people, those seen in few photos apart. When everyone would
    fold (a small first scan), nobody does: an empty grid over a "More" list helps no one."""
    ordered = sort_people(rows, by)
    main = [r for r in ordered if not folded(r)]
    if not main:
        return ordered, []
    return main, [r for r in ordered if folded(r)]


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:  # a malformed EXIF date
        return None
