"""Export (folders per person, CSV/JSON, XMP sidecars), import from sidecars, and the People
commands end to end."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from album.catalog import Catalog
from album.cli import main
from album.people import export as ex
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog, synthetic_people


@pytest.fixture
def album(tmp_path: Path):
    """4 people x 3 faces in real (tiny) files under tmp/photos; photo 2 is rotated (EXIF 6)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    x, truth = synthetic_people(4, 3, seed=21)
    numbers = np.arange(len(truth))
    db = tmp_path / "album.db"
    with Catalog(db) as cat:
        cat.add_folder(photos)
        ids = fill_catalog(cat, x, numbers, folder=str(photos))
        for n in numbers:
            (photos / f"photo_{n:05d}.jpg").write_bytes(b"jpeg bytes %d" % n)
        cat.db.execute(
            "UPDATE photos SET orientation = 6, width = 3000, height = 4000 "
            "WHERE path LIKE '%photo_00002.jpg'"
        )
        svc = PeopleService(cat)
        svc.recluster()
        svc.name(svc.person_of(ids[0]).person_id, "Ada Lovelace")
        svc.name(svc.person_of(ids[3]).person_id, "Bob/Builder")
    return db, photos, ids


def test_by_person_copies_or_links_and_never_moves(album, tmp_path: Path) -> None:
    db, photos, _ids = album
    before = sorted(p.name for p in photos.iterdir())
    with Catalog(db) as cat:
        s = ex.export_by_person(cat, tmp_path / "out", "copy")
        assert (s.people, s.photos, s.files) == (2, 6, 6)
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
            "Ada Lovelace",
            "Bob_Builder",
        ]
        again = ex.export_by_person(cat, tmp_path / "out", "copy")
        assert again.files == 0 and again.skipped == 6
        linked = ex.export_by_person(cat, tmp_path / "links", "symlink")
        assert linked.files == 6
        link = next((tmp_path / "links" / "Ada Lovelace").iterdir())
        assert link.is_symlink() and link.resolve().parent == photos.resolve()
        hard = ex.export_by_person(cat, tmp_path / "hard", "hardlink")
        assert hard.files == 6
        with pytest.raises(ex.ExportError, match="inside the scanned folder"):
            ex.export_by_person(cat, photos / "export", "copy")
    assert sorted(p.name for p in photos.iterdir()) == before  # originals all still there


def test_csv_and_json(album, tmp_path: Path) -> None:
    db, _photos, _ids = album
    with Catalog(db) as cat:
        assert ex.export_csv(cat, tmp_path / "f.csv") == 12
        assert ex.export_json(cat, tmp_path / "p.json") == 4
    with open(tmp_path / "f.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["name"] for r in rows} == {"Ada Lovelace", "Bob/Builder", ""}
    assert set(rows[0]) == set(ex.FIELDS)
    doc = json.loads((tmp_path / "p.json").read_text())
    ada = next(p for p in doc["people"] if p["name"] == "Ada Lovelace")
    assert len(ada["faces"]) == 3 and len(ada["faces"][0]["box"]) == 4


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_round_trip(orientation: int) -> None:
    box = (100.0, 200.0, 400.0, 600.0)
    w, h = (3000, 4000) if orientation >= 5 else (4000, 3000)
    area = ex.to_stored(box, w, h, orientation)
    assert np.allclose(ex.from_stored(area, w, h, orientation), box)


def test_rotated_photo_region_is_in_the_stored_frame() -> None:
    # Upright 3000x4000 from a stored 4000x3000 photo turned 90 degrees clockwise (EXIF 6): a
    # face at the upright top-left corner sits at the stored image's bottom-left.
    x, y, w, h = ex.to_stored((0, 0, 300, 400), 3000, 4000, 6)
    assert (x, y) == pytest.approx((0.05, 0.95)) and (w, h) == pytest.approx((0.1, 0.1))


def test_xmp_sidecars_round_trip_through_import(album, tmp_path: Path) -> None:
    db, _photos, _ids = album
    out = tmp_path / "xmp"
    with Catalog(db) as cat:
        s = ex.export_xmp(cat, out)
        assert s.files == 6
        sidecars = sorted(out.rglob("*.xmp"))
        assert sidecars[0].name.endswith(".jpg.xmp") and sidecars[0].parent.name == "photos"
        text = sidecars[0].read_text()
        assert "mwg-rs:Regions" in text and 'mwg-rs:Type="Face"' in text
        assert 'stArea:unit="normalized"' in text and "Iptc4xmpExt:PersonInImage" in text
        rotated = out / "photos" / "photo_00002.jpg.xmp"
        assert 'stDim:w="4000" stDim:h="3000"' in rotated.read_text()
        regions = ex.read_regions(rotated)
        assert [r.name for r in regions] == ["Ada Lovelace"]
        # A sidecar another program wrote is left alone.
        foreign = out / "photos" / "photo_00003.jpg.xmp"
        foreign.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
        assert ex.export_xmp(cat, out).skipped == 1
        assert "album" not in foreign.read_text()
        foreign.unlink()
        # A fresh catalog of the same photos gets the names back from the sidecars.
        svc = PeopleService(cat)
        for p in svc.people(named_only=True):
            svc.catalog.db.execute("UPDATE people SET name = NULL WHERE id = ?", (p.id,))
            svc.catalog.db.execute("DELETE FROM assignments WHERE person_id = ?", (p.id,))
        pairs, problems = ex.match_sidecars(cat, out)
        assert len(pairs) == 5 and not problems
        done, clashes = svc.label_faces(pairs)
        assert done == 5 and not clashes
        assert len(svc.faces_of(svc.find("Ada Lovelace").id)) == 3
        svc.undo()
        assert svc.by_name("Ada Lovelace") is None


def test_people_commands_end_to_end(album, tmp_path: Path, capsys) -> None:
    db, photos, ids = album
    lib = ["--library", str(db)]
    assert main([*lib, "cluster"]) == 0
    assert "clusters" in capsys.readouterr().out
    assert main([*lib, "people"]) == 0
    out = capsys.readouterr().out
    assert "Ada Lovelace" in out and "2 named" in out
    assert main([*lib, "person", "ada lovelace"]) == 0
    assert f"face {ids[0]:>7}" in capsys.readouterr().out
    clusters = [
        p for p in json.loads(_run(capsys, [*lib, "people", "--json"])) if p["name"] is None
    ]
    assert main([*lib, "name", str(clusters[0]["id"]), "Cy"]) == 0
    assert main([*lib, "merge", "Cy", "Ada Lovelace"]) == 0
    capsys.readouterr()
    assert main([*lib, "undo", "--list"]) == 0
    assert "merged" in capsys.readouterr().out
    assert main([*lib, "undo"]) == 0
    assert "undone: merged" in capsys.readouterr().out
    assert main([*lib, "reject", str(ids[1])]) == 0
    assert main([*lib, "verify", str(ids[0]), str(ids[2])]) == 0
    assert "same person" in capsys.readouterr().out
    # Both confirmed as Ada: "different" contradicts the user's own decisions and is refused.
    assert main([*lib, "verify", str(ids[0]), str(ids[2]), "--different"]) == 2
    assert "both confirmed" in capsys.readouterr().err
    assert main([*lib, "verify", str(ids[0]), str(ids[9]), "--different"]) == 0
    assert main([*lib, "queue", "--limit", "3"]) == 0
    questions = json.loads(_run(capsys, [*lib, "queue", "--limit", "3", "--json"]))
    assert questions
    for q in questions:  # shown within 1-99%, with the model's raw probability beside it
        assert 0.01 <= q["probability"] <= 0.99 and 0.0 <= q["raw_probability"] <= 1.0
        assert isinstance(q["side_view"], bool)
    assert main([*lib, "person", "Cy", "--hide"]) == 0
    assert main([*lib, "person", "Ada Lovelace", "--split", str(ids[0]), "--into", "Dee"]) == 0
    assert main([*lib, "people", "--merges"]) == 0
    assert (
        main(
            [
                *lib,
                "export",
                "--csv",
                str(tmp_path / "a.csv"),
                "--json",
                str(tmp_path / "a.json"),
                "--xmp",
                str(tmp_path / "x"),
                "--by-person",
                str(tmp_path / "bp"),
                "--link",
                "symlink",
            ]
        )
        == 0
    )
    assert main([*lib, "import", "--xmp", str(tmp_path / "x"), "--dry-run"]) == 0
    assert main([*lib, "import", "--xmp", str(tmp_path / "x")]) == 0
    capsys.readouterr()
    assert main([*lib, "person", "Nobody"]) == 2
    assert "no person named" in capsys.readouterr().err
    assert main([*lib, "reject", "abc"]) == 2
    assert sorted(os.listdir(photos)) == [f"photo_{n:05d}.jpg" for n in range(12)]


def _run(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out
