"""Photos by person (``album.people.photos`` and ``album photos``) on a real catalog file."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from album.catalog import Catalog
from album.cli import main
from album.people.photos import photos_with
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people

# Faces 0-3 are Ada, 4-7 Bo, 8-11 Cy. Ada and Bo share photos 0 and 1, all three photo 1.
PHOTO_OF = [0, 1, 2, 3, 0, 1, 4, 5, 1, 6, 7, 8]


def name_of(n: int) -> str:
    return f"photo_{n:05d}.jpg"


@pytest.fixture
def album(tmp_path: Path):
    x, _truth = synthetic_people(3, 4, seed=5)
    db = tmp_path / "album.db"
    with Catalog(db) as cat:
        ids = fill_catalog(cat, x, PHOTO_OF, folder=str(tmp_path / "photos"))
        set_photo = "UPDATE photos SET {} WHERE path LIKE ?"
        # EXIF dates: photo n taken in 2020 + n, except photo 4 (file date only, 2030).
        for n in range(9):
            if n == 4:
                mtime = int(datetime(2030, 1, 1).timestamp()) * 10**9
                cat.db.execute(set_photo.format("mtime_ns = ?"), (mtime, f"%{name_of(n)}"))
            else:
                taken = f"{2020 + n}-06-0{1 + n % 3}T10:00:00"
                cat.db.execute(set_photo.format("taken_at = ?"), (taken, f"%{name_of(n)}"))
        cat.db.execute(set_photo.format("status = 'missing'"), (f"%{name_of(3)}",))
        # A copy of photo 0 elsewhere: the same content, so the same faces.
        cat.db.execute(
            "INSERT INTO photos (path, size, mtime_ns, content_hash, taken_at, status, updated_at) "
            "SELECT ?, size, mtime_ns, content_hash, taken_at, 'done', updated_at FROM photos "
            "WHERE path LIKE ?",
            (str(tmp_path / "copy" / name_of(0)), f"%{name_of(0)}"),
        )
        svc = PeopleService(cat)
        svc.recluster()
        for face, name in ((0, "Ada"), (4, "Bo"), (8, "Cy")):
            svc.name(svc.person_of(ids[face]).person_id, name)
    return db, ids


def names(photos) -> list[str]:
    return [Path(p.path).parent.name + "/" + Path(p.path).name for p in photos]


def test_all_of_them_any_of_them_newest_first(album) -> None:
    db, _ids = album
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        ada, bo, cy = (svc.find(n).id for n in ("ada", "BO", "Cy"))
        both = photos_with(cat, [ada, bo])
        # Photo 1 (2021) before photo 0 (2020) and its copy (same date: the later row first).
        assert names(both) == ["photos/" + name_of(1), "copy/" + name_of(0), "photos/" + name_of(0)]
        assert [p.name for p in both[0].people] == ["Ada", "Bo", "Cy"]
        assert both[0].taken == datetime(2021, 6, 2, 10) and both[0].exif_date
        assert names(photos_with(cat, [ada, bo, cy])) == ["photos/" + name_of(1)]
        # Photo 3 (Ada) is missing.
        anyone = photos_with(cat, [ada, cy], any_=True)
        assert names(anyone) == [
            *("photos/" + name_of(n) for n in (8, 7, 6, 2, 1)),
            "copy/" + name_of(0),
            "photos/" + name_of(0),
        ]
        # No people: every readable photo; photo 4 has only a file date (2030): first.
        every = photos_with(cat, [])
        assert names(every)[0] == "photos/" + name_of(4) and not every[0].exif_date
        assert every[0].taken == datetime(2030, 1, 1) and [p.name for p in every[0].people] == [
            "Bo"
        ]
        assert len(every) == 9  # 9 files of which photo 3 is missing, plus the copy


def test_follows_the_current_assignments(album) -> None:
    db, ids = album
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        ada, bo, cy = (svc.find(n).id for n in ("Ada", "Bo", "Cy"))
        svc.reject([ids[4]], bo)  # Bo's face in photo 0: not Bo
        assert names(photos_with(cat, [ada, bo])) == ["photos/" + name_of(1)]
        assert [p.name for p in photos_with(cat, [ada])[-1].people] == ["Ada"]
        svc.move([ids[4]], cy)  # ... but Cy
        assert names(photos_with(cat, [ada, cy]))[-2:] == [
            "copy/" + name_of(0),
            "photos/" + name_of(0),
        ]
        svc.undo()
        svc.undo()
        assert len(photos_with(cat, [ada, bo])) == 3


def test_album_photos_command(album, capsys) -> None:
    db, _ids = album
    lib = ["--library", str(db)]
    assert main([*lib, "photos", "--person", "ada", "--person", "Bo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = [line for line in lines if name_of(0) in line or name_of(1) in line]
    assert len(shown) == 3 and "2021-06-02" in shown[0] and "[Ada, Bo, Cy]" in shown[0]
    assert not any(name_of(n) in "\n".join(lines) for n in (2, 4, 5, 6, 7, 8))
    assert main([*lib, "photos", "--person", "Ada", "--person", "Cy", "--any", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [os.path.basename(p["path"]) for p in doc[:2]] == [name_of(8), name_of(7)]
    assert len(doc) == 7 and doc[0]["taken"] == "2028-06-03T10:00:00"
    assert doc[0]["people"] == [{"id": doc[0]["people"][0]["id"], "name": "Cy"}]
    assert main([*lib, "photos", "--person", "Nobody"]) == 2
    assert "no person named 'Nobody'" in capsys.readouterr().err


def test_only_these_people_and_without_someone(album) -> None:
    db, ids = album
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        ada, bo, cy = (svc.find(n).id for n in ("Ada", "Bo", "Cy"))
        # Ada and Bo and nobody else: photo 0 and its copy (photo 1 also shows Cy).
        assert names(photos_with(cat, [ada, bo], only=True)) == [
            "copy/" + name_of(0),
            "photos/" + name_of(0),
        ]
        # Ada or Bo, nobody else (photo 3 is missing; photo 4 has only its file date, 2030).
        couple = photos_with(cat, [ada, bo], any_=True, only=True)
        assert names(couple) == [
            *("photos/" + name_of(n) for n in (4, 5, 2)),
            "copy/" + name_of(0),
            "photos/" + name_of(0),
        ]
        assert names(photos_with(cat, [ada], without=[cy])) == [
            "photos/" + name_of(2),
            "copy/" + name_of(0),
            "photos/" + name_of(0),
        ]
        assert cy not in {q.id for p in photos_with(cat, [], without=[cy]) for q in p.people}
        assert len(photos_with(cat, [], without=[cy])) == 9 - 4  # photos 1, 6, 7, 8 show Cy
        with pytest.raises(ValueError, match="needs the people"):
            photos_with(cat, [], only=True)
        # Bo's face in photo 0 taken away: a face that is nobody's, a stranger.
        svc.reject([ids[4]], bo)
        assert svc.person_of(ids[4]) is None
        alone = names(photos_with(cat, [ada], only=True))
        assert alone == ["photos/" + name_of(2), "copy/" + name_of(0), "photos/" + name_of(0)]
        strict = names(photos_with(cat, [ada], only=True, strangers=False))
        assert strict == ["photos/" + name_of(2)]


def test_album_photos_only_and_without(album, capsys) -> None:
    db, _ids = album
    lib = ["--library", str(db), "photos"]
    assert main([*lib, "--person", "Ada", "--person", "Bo", "--only", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {os.path.basename(p["path"]) for p in doc} == {name_of(0)} and len(doc) == 2
    assert main([*lib, "--person", "Bo", "--without", "cy", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(os.path.basename(p["path"]) for p in doc) == sorted(
        [name_of(0), name_of(0), name_of(4), name_of(5)]
    )
    assert main([*lib, "--only"]) == 2
    assert "--only needs --person" in capsys.readouterr().err
    assert main([*lib, "--person", "Ada", "--no-strangers"]) == 2
    assert "goes with --only" in capsys.readouterr().err
    assert main([*lib, "--without", "Nobody"]) == 2
    assert "no person named 'Nobody'" in capsys.readouterr().err
