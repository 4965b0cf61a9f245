"""The People grid's data (``album.people.overview``) and the photo viewer's details
(``album.people.photos.photo_details``), on a real catalog file, without the engine."""

from __future__ import annotations

from datetime import datetime

from test_people_photos import album, name_of  # noqa: F401  (the fixture)

from album.catalog import Catalog
from album.people.overview import people_overview, sort_people, split_people
from album.people.photos import human_size, photo_details
from album.people.service import PeopleService


def test_counts_dates_sorts_and_folding(album) -> None:  # noqa: F811
    db, ids = album
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        ada, bo, cy = (svc.find(n).id for n in ("Ada", "Bo", "Cy"))
        rows = {r.id: r for r in people_overview(cat)}
        # Ada: photos 0, 1, 2 (3 is missing; the copy of 0 is the same content): 3 photos.
        assert (rows[ada].photos, rows[ada].faces) == (3, 4)
        assert rows[ada].latest == datetime(2022, 6, 3, 10)
        # Bo is in photo 4, which has only a file date (2030).
        assert rows[bo].latest == datetime(2030, 1, 1) and rows[bo].photos == 4
        assert rows[cy].latest == datetime(2028, 6, 3, 10)
        by = {k: [r.name for r in sort_people(list(rows.values()), k)] for k in ("photos", "name")}
        assert by["photos"] == ["Bo", "Cy", "Ada"] and by["name"] == ["Ada", "Bo", "Cy"]
        recent = [r.name for r in sort_people(list(rows.values()), "recent")]
        assert recent == ["Bo", "Cy", "Ada"]

        # A one-photo unnamed person folds under "More people"; a named one never does.
        lone = svc.split(ada, [ids[2]])  # face 2 (photo 2) alone
        shown, more = split_people(people_overview(cat))
        assert [r.id for r in more] == [lone.id] and {r.name for r in shown} == {"Ada", "Bo", "Cy"}
        svc.name(lone.id, "Dee")
        shown, more = split_people(people_overview(cat))
        assert more == [] and "Dee" in {r.name for r in shown}

        # Hidden people: left out unless asked for; hiding is kept across a re-cluster.
        svc.hide(cy)
        assert cy not in {r.id for r in people_overview(cat)}
        svc.recluster()
        hidden = [r for r in people_overview(cat, include_hidden=True) if r.hidden]
        assert [r.name for r in hidden] == ["Cy"]
        svc.hide(cy, False)
        assert cy in {r.id for r in people_overview(cat)}


def test_everyone_few_photos_nobody_folds() -> None:
    from album.people.overview import PersonOverview

    rows = [PersonOverview(i, None, False, 1, 1, 0, None) for i in range(3)]
    shown, more = split_people(rows)
    assert len(shown) == 3 and more == []


def test_photo_details(album) -> None:  # noqa: F811
    db, ids = album
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        cat.db.execute("UPDATE photos SET size = 2400000 WHERE path LIKE ?", (f"%{name_of(1)}",))
        photo = cat.db.execute(
            "SELECT id FROM photos WHERE path LIKE ?", (f"%photos/{name_of(1)}",)
        ).fetchone()[0]
        d = photo_details(cat, photo)
        assert d is not None and d.path.endswith(name_of(1)) and d.exif_date
        # Photo 1 shows Ada, Bo and Cy, left to right as stored.
        assert [f.name for f in d.faces] == ["Ada", "Bo", "Cy"]
        assert {f.face_id for f in d.faces} == {ids[1], ids[5], ids[8]}
        assert d.summary() == "2 June 2021, 10:00 · 4000 × 3000 · 2.4 MB"
        svc.reject([ids[5]], svc.find("Bo").id)
        d = photo_details(cat, photo)
        assert [(f.name, f.source) for f in d.faces][1] == (None, None)
        assert photo_details(cat, 10**6) is None
    assert [human_size(n) for n in (999, 812_000, 2_400_000, 150_000_000)] == [
        "999 bytes",
        "812 KB",
        "2.4 MB",
        "150 MB",
    ]
