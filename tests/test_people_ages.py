"""Birth dates: ages in words, the undoable operation, and grouping that respects them."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.people.ages import age_text, parse_birth_date
from album.people.errors import PeopleError
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people


def test_ages_in_words() -> None:
    born = date(2020, 3, 15)
    assert age_text(born, date(2020, 3, 15)) == "newborn"
    assert age_text(born, date(2020, 3, 16)) == "1 day"
    assert age_text(born, date(2020, 3, 29)) == "2 weeks"
    assert age_text(born, date(2020, 4, 14)) == "4 weeks"
    assert age_text(born, date(2020, 4, 15)) == "1 month"
    assert age_text(born, datetime(2022, 3, 14, 23, 0)) == "23 months"
    assert age_text(born, date(2022, 3, 15)) == "2 years"
    assert age_text("2020-03-15", date(2031, 1, 1)) == "10 years"
    assert age_text(born, date(2020, 3, 14)) is None
    assert age_text(None, date(2020, 3, 14)) is None
    assert age_text(date(2020, 2, 29), date(2021, 2, 28)) == "11 months"


def test_birth_dates_typed_wrong_get_words() -> None:
    assert parse_birth_date(" 2001-05-03 ") == date(2001, 5, 3)
    for text, words in (
        ("3 May 2001", "YYYY-MM-DD"),
        ("2001-02-30", "YYYY-MM-DD"),
        ("2999-01-01", "in the future"),
        ("1700-01-01", "before 1850"),
    ):
        with pytest.raises(PeopleError, match=words):
            parse_birth_date(text)


@pytest.fixture
def family(tmp_path: Path):
    """Two people of 6 faces each, one photo per face, photos dated 2010..2021 in turn."""
    x, truth = synthetic_people(2, 6, spread=0.25, seed=4)
    with Catalog(tmp_path / "album.db") as cat:
        ids = fill_catalog(cat, x, np.arange(len(x)))
        with cat.write():
            for i, f in enumerate(ids):
                cat.db.execute(
                    "UPDATE photos SET taken_at = ? WHERE content_hash = "
                    "(SELECT content_hash FROM faces WHERE id = ?)",
                    (f"{2010 + i}-06-01T12:00:00", f),
                )
        svc = PeopleService(cat)
        svc.recluster()
        yield svc, ids, truth


def test_birth_date_is_undoable_and_survives_regrouping_and_merges(family) -> None:
    svc, ids, _truth = family
    emma = svc.person_of(ids[0]).person_id  # an unnamed cluster
    svc.set_birth_date(emma, "2012-01-01")
    assert svc.person(emma).birth_date == "2012-01-01"
    assert svc.history(1)[0].summary.endswith("born 2012-01-01")
    svc.recluster()  # a cluster with a birth date is the user's: it stays
    assert svc.person(emma) is not None and svc.person(emma).birth_date == "2012-01-01"
    svc.undo()
    assert svc.person(emma) is None or svc.person(emma).birth_date is None
    svc.recluster()
    emma = svc.person_of(ids[0]).person_id
    with pytest.raises(PeopleError, match="YYYY-MM-DD"):
        svc.set_birth_date(emma, "1.1.2012")
    # a merge keeps the birth date of either side
    other = svc.person_of(ids[6]).person_id
    svc.set_birth_date(other, "2009-09-09")
    svc.merge(other, emma)
    assert svc.person(emma).birth_date == "2009-09-09"
    svc.set_birth_date(emma, None)
    assert svc.person(emma).birth_date is None


def _new_photo(svc: PeopleService, vector: np.ndarray, number: int, taken: str) -> int:
    """A newly scanned photo holding one face with this embedding, taken on ``taken``."""
    [face] = fill_catalog(svc.catalog, vector[None], [number])
    with svc.catalog.write():
        svc.catalog.db.execute(
            "UPDATE photos SET taken_at = ? WHERE content_hash = ?", (taken, f"{number:064x}")
        )
    return face


def test_no_face_from_before_the_birth_date_is_grouped_as_that_person(family) -> None:
    svc, ids, _truth = family
    emma = svc.person_of(ids[0]).person_id
    svc.name(emma, "Emma")  # confirms her faces
    vector = svc.catalog.embedding(ids[0], "dlib-resnet-v1")
    before = _new_photo(svc, vector, 100, "2004-07-01T10:00:00")
    after = _new_photo(svc, vector, 101, "2016-07-01T10:00:00")
    svc.recluster()
    assert svc.person_of(before).person_id == emma == svc.person_of(after).person_id
    svc.set_birth_date(emma, "2005-01-01")
    svc.recluster()
    assert svc.person_of(after).person_id == emma
    label = svc.person_of(before)  # taken before she was born: not Emma
    assert label is None or label.person_id != emma
    undated = _new_photo(svc, vector, 102, None)  # no date: nothing known against it
    svc.recluster()
    assert svc.person_of(undated).person_id == emma


def test_cli_birth_date_and_photos_by_age(family, capsys) -> None:
    from album.cli import main

    svc, ids, _truth = family
    emma = svc.person_of(ids[0]).person_id
    svc.name(emma, "Emma")
    library = ["--library", str(svc.catalog.path)]
    assert main([*library, "person", "Emma", "--born", "2009-06-01"]) == 0
    out = capsys.readouterr().out
    assert "Emma: born 2009-06-01" in out and ", born 2009-06-01" in out
    assert main([*library, "photos", "--person", "Emma", "--oldest-first"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2010-06-01") and "[Emma (12 months)]" in lines[0]
    assert "[Emma (6 years)]" in lines[5] and lines[-1] == "6 photos"
    assert main([*library, "photos", "--person", "Emma", "--json"]) == 0
    newest = json.loads(capsys.readouterr().out)[0]
    assert newest["people"] == [{"id": emma, "name": "Emma", "age": "6 years"}]
    assert main([*library, "person", "Emma", "--born", "June 2009"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main([*library, "person", "Emma", "--born", "none"]) == 0
    assert "no birth date" in capsys.readouterr().out
