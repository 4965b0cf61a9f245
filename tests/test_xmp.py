"""Face names in XMP, both ways, checked against exiftool (the reference tool).

* Reading: MWG regions in every RDF spelling that exiftool, digiKam (Exiv2) and Lightroom
  write, Microsoft Photo regions, XMP embedded in JPEG (with Extended XMP), TIFF, PNG, WebP,
  HEIC and DNG, and sidecars named either way.
* The scan: names that exiftool wrote into real photos with real faces (embedded and in
  sidecars, MWG and Microsoft), for all 8 EXIF orientations, become confirmed names on the
  right faces; a decision taken in the app is never overridden; the import is idempotent.
* Writing: our sidecars read back by exiftool give the same names and areas.

The exiftool tests skip when it is missing (Debian: libimage-exiftool-perl; ``make test``
installs it where it can).
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from rawfiles import stored, write_dng
from test_scan import snapshot

from album.catalog import Catalog
from album.cli import main
from album.people import export as ex
from album.people.metadata import (
    Region,
    XmpError,
    embedded_xmp,
    import_embedded_names,
    match_regions,
    parse_regions,
    photo_regions,
    region_box,
    sidecars,
)
from album.people.service import PeopleService
from album.scan import Scanner
from album.scan.writer import iou

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="exiftool not installed (Debian package libimage-exiftool-perl; 'make test' "
    "installs it when run as root with apt-get)",
)

HEAD = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
    'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
    'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">'
    '<rdf:Description rdf:about="">'
)
TAIL = "</rdf:Description></rdf:RDF></x:xmpmeta>"
REGIONS = [("Ada Lovelace", (0.25, 0.4, 0.1, 0.15)), ("Bob & Co", (0.7, 0.45, 0.12, 0.2))]


def _area_attrs(a) -> str:
    return (
        f'stArea:x="{a[0]}" stArea:y="{a[1]}" stArea:w="{a[2]}" stArea:h="{a[3]}" '
        'stArea:unit="normalized"'
    )


def _area_elements(a) -> str:
    return (
        f"<stArea:x>{a[0]}</stArea:x><stArea:y>{a[1]}</stArea:y><stArea:w>{a[2]}</stArea:w>"
        f"<stArea:h>{a[3]}</stArea:h><stArea:unit>normalized</stArea:unit>"
    )


SPELLINGS = {
    # Lightroom Classic, Exiv2 (digiKam) and ours: a Description with attributes in each li.
    "li > Description attributes": lambda n, a: (
        f'<rdf:li><rdf:Description mwg-rs:Name="{n}" mwg-rs:Type="Face">'
        f"<mwg-rs:Area {_area_attrs(a)}/></rdf:Description></rdf:li>"
    ),
    # exiftool: parseType="Resource" everywhere, fields as elements.
    "li parseType=Resource": lambda n, a: (
        f'<rdf:li rdf:parseType="Resource"><mwg-rs:Area rdf:parseType="Resource">'
        f"{_area_elements(a)}</mwg-rs:Area><mwg-rs:Name>{n}</mwg-rs:Name>"
        "<mwg-rs:Type>Face</mwg-rs:Type></rdf:li>"
    ),
    # Full RDF: nested Descriptions with element fields.
    "li > Description elements": lambda n, a: (
        f"<rdf:li><rdf:Description><mwg-rs:Name>{n}</mwg-rs:Name>"
        "<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area><rdf:Description>"
        f"{_area_elements(a)}</rdf:Description></mwg-rs:Area></rdf:Description></rdf:li>"
    ),
    # Shorthand: struct fields as attributes of rdf:li itself.
    "attributes on li": lambda n, a: (
        f'<rdf:li mwg-rs:Name="{n}" mwg-rs:Type="Face"><mwg-rs:Area {_area_attrs(a)}/></rdf:li>'
    ),
}


def mwg_document(spelling: str, dims: str = "attributes") -> str:
    """REGIONS plus an unnamed face and a pet (both to be skipped) in one spelling."""
    li = SPELLINGS[spelling]
    items = "".join(li(n.replace("&", "&amp;"), a) for n, a in REGIONS)
    items += li("", (0.5, 0.5, 0.1, 0.1)).replace('mwg-rs:Name=""', "")
    items += li("Rex", (0.1, 0.9, 0.05, 0.05)).replace(">Face<", ">Pet<").replace('"Face"', '"Pet"')
    applied = (
        '<mwg-rs:AppliedToDimensions stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>'
        if dims == "attributes"
        else '<mwg-rs:AppliedToDimensions rdf:parseType="Resource"><stDim:w>4000</stDim:w>'
        "<stDim:h>3000</stDim:h><stDim:unit>pixel</stDim:unit></mwg-rs:AppliedToDimensions>"
    )
    return (
        f'{HEAD}<mwg-rs:Regions rdf:parseType="Resource">{applied}'
        f"<mwg-rs:RegionList><rdf:Bag>{items}</rdf:Bag></mwg-rs:RegionList>"
        f"</mwg-rs:Regions>{TAIL}"
    )


@pytest.mark.parametrize("dims", ["attributes", "resource"])
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_mwg_regions_in_every_rdf_spelling(spelling: str, dims: str) -> None:
    regions = parse_regions(mwg_document(spelling, dims))
    assert [(r.name, r.area, r.applied_to, r.schema) for r in regions] == [
        (n, a, (4000.0, 3000.0), "mwg") for n, a in REGIONS
    ]


def test_microsoft_photo_regions() -> None:
    # Microsoft's own sample: nested Descriptions, https namespaces, "x, y, w, h" top-left.
    sample = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:MP="https://ns.microsoft.com/photo/1.2/">'
        "<MP:RegionInfo><rdf:Description "
        'xmlns:MPRI="https://ns.microsoft.com/photo/1.2/t/RegionInfo#"><MPRI:Regions><rdf:Bag>'
        '<rdf:li><rdf:Description xmlns:MPReg="https://ns.microsoft.com/photo/1.2/t/Region#">'
        "<MPReg:Rectangle>0.790650, 0.441734, 0.209350, 0.279133</MPReg:Rectangle>"
        "<MPReg:PersonDisplayName>John Doe</MPReg:PersonDisplayName></rdf:Description></rdf:li>"
        '<rdf:li><rdf:Description xmlns:MPReg="https://ns.microsoft.com/photo/1.2/t/Region#">'
        "<MPReg:Rectangle>0.2, 0.3, 0.1, 0.1</MPReg:Rectangle></rdf:Description></rdf:li>"
        "</rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    (r,) = parse_regions(sample)
    assert r.name == "John Doe" and r.schema == "mp" and r.applied_to is None
    assert np.allclose(
        r.area, (0.790650 + 0.209350 / 2, 0.441734 + 0.279133 / 2, 0.20935, 0.279133)
    )


def test_bad_xmp() -> None:
    with pytest.raises(XmpError):
        parse_regions(b"<x:xmpmeta><unclosed>")
    assert parse_regions(b"") == []
    doc = mwg_document("li parseType=Resource").replace("0.25", "NaN").replace("0.7<", "7<")
    assert parse_regions(doc) == []  # not a number, outside the image


def _xmp_packet() -> bytes:
    return mwg_document("li > Description attributes").encode()


def _extended_jpeg(path: Path) -> None:
    """A JPEG whose regions are only in Extended XMP (split over two APP1 segments), as
    Lightroom writes when the packet outgrows 64 KB."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (9, 9, 9)).save(buf, "JPEG")
    data = buf.getvalue()
    ext = _xmp_packet()
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    main_packet = (
        b"http://ns.adobe.com/xap/1.0/\x00"
        + (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
            f'xmpNote:HasExtendedXMP="{guid.decode()}"/></rdf:RDF></x:xmpmeta>'
        ).encode()
    )
    segments = [main_packet]
    half = len(ext) // 2
    for offset, chunk in ((half, ext[half:]), (0, ext[:half])):  # out of order on purpose
        segments.append(
            b"http://ns.adobe.com/xmp/extension/\x00"
            + guid
            + struct.pack(">II", len(ext), offset)
            + chunk
        )
    app1 = b"".join(b"\xff\xe1" + struct.pack(">H", len(s) + 2) + s for s in segments)
    path.write_bytes(data[:2] + app1 + data[2:])


def test_xmp_embedded_in_every_container(tmp_path: Path) -> None:
    packet = _xmp_packet()
    im = Image.new("RGB", (64, 48), (200, 100, 50))
    im.save(tmp_path / "a.jpg", xmp=packet)
    im.save(tmp_path / "a.webp", xmp=packet)
    im.save(tmp_path / "a.tif", tiffinfo={700: packet})
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode())
    im.save(tmp_path / "a.png", pnginfo=info)
    _extended_jpeg(tmp_path / "ext.jpg")
    names = ["a.jpg", "a.webp", "a.tif", "a.png", "ext.jpg"]
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        im.save(tmp_path / "a.heic", xmp=packet)
        names.append("a.heic")
    except (ImportError, OSError, ValueError):  # no HEIF encoder here: the others still count
        pass
    (tmp_path / "plain.jpg").write_bytes((tmp_path / "a.jpg").read_bytes()[:2] + b"\xff\xd9")
    before = snapshot(tmp_path)
    for name in names:
        assert embedded_xmp(tmp_path / name), name
        regions, problems = photo_regions(tmp_path / name)
        assert [r.name for r in regions] == [n for n, _ in REGIONS], name
        assert not problems
    assert embedded_xmp(tmp_path / "missing.jpg") == []
    assert embedded_xmp(tmp_path / "plain.jpg") == []
    assert snapshot(tmp_path) == before  # only read


def test_sidecar_names_and_precedence(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_1.CR2"
    photo.write_bytes(b"raw")
    assert sidecars(photo) == []
    (tmp_path / "IMG_1.xmp").write_text(mwg_document("attributes on li"))
    (tmp_path / "IMG_1.CR2.xmp").write_text(
        mwg_document("attributes on li").replace("Ada Lovelace", "Ada King")
    )
    assert [p.name for p in sidecars(photo)] == ["IMG_1.CR2.xmp", "IMG_1.xmp"]
    regions, problems = photo_regions(photo)
    # One region per name: "Ada King" from the first sidecar, the other names once.
    assert [r.name for r in regions] == ["Ada King", "Bob & Co", "Ada Lovelace"]
    (tmp_path / "IMG_1.xmp").write_text("<broken")
    regions, problems = photo_regions(photo)
    assert len(regions) == 2 and "IMG_1.xmp" in problems[0]


def test_regions_map_to_upright_faces() -> None:
    # A 4000x3000 photo stored for orientation 6 shows 3000x4000 upright.
    box = (600.0, 900.0, 1200.0, 1700.0)
    area = ex.to_stored(box, 3000, 4000, 6)
    right = Region("A", area, (4000, 3000))
    assert np.allclose(region_box(right, 3000, 4000, 6), box)
    # A writer that ignored the orientation: upright area, upright dimensions.
    upright_area = ((600 + 1200) / 2 / 3000, (900 + 1700) / 2 / 4000, 600 / 3000, 800 / 4000)
    assert np.allclose(region_box(Region("A", upright_area, (3000, 4000)), 3000, 4000, 6), box)
    # Loose and tight boxes still find their face; each face is taken once.
    faces = {1: (100, 100, 200, 220), 2: (400, 100, 500, 220)}
    pairs, missed = match_regions(
        faces,
        [("loose", (60, 50, 250, 280)), ("tight", (420, 130, 480, 200)), ("far", (0, 0, 9, 9))],
    )
    assert sorted(pairs) == [(1, "loose"), (2, "tight")] and missed == ["far"]


# --- exiftool and real faces ---------------------------------------------------------------


def exiftool(*args: str | Path) -> str:
    out = subprocess.run(
        [EXIFTOOL, "-q", *map(str, args)], capture_output=True, text=True, check=True
    )
    return out.stdout


def write_regions(jobs: dict[Path, dict], sidecar: str | None = None) -> None:
    """exiftool writes each file's tags (JSON structures) into the file, or into a new
    sidecar beside it: ``"ext"`` photo.jpg.xmp, ``"base"`` photo.xmp. One exiftool process
    runs all (``-execute``)."""
    args: list[str | Path] = []
    specs = []
    for i, (path, tags) in enumerate(sorted(jobs.items())):
        spec = path.parent / f"regions-{i}.json"
        spec.write_text(json.dumps([{"SourceFile": "*", **tags}]))
        specs.append(spec)
        args += ["-overwrite_original"] if sidecar is None else []
        args += [f"-j={spec}"]
        if sidecar is not None:
            target = path.name + ".xmp" if sidecar == "ext" else path.stem + ".xmp"
            args += ["-o", path.with_name(target)]
        args += [path, "-execute"]
    exiftool(*args[:-1])
    for spec in specs:
        spec.unlink()


def mwg_tags(named: list[tuple[str, tuple]], stored_size: tuple[int, int]) -> dict:
    return {
        "XMP-mwg-rs:RegionInfo": {
            "AppliedToDimensions": {"W": stored_size[0], "H": stored_size[1], "Unit": "pixel"},
            "RegionList": [
                {
                    "Area": dict(zip("XYWH", a, strict=True), Unit="normalized"),
                    "Name": n,
                    "Type": "Face",
                }
                for n, a in named
            ],
        }
    }


def mp_tags(named: list[tuple[str, tuple]]) -> dict:
    rects = [(x - w / 2, y - h / 2, w, h) for _, (x, y, w, h) in named]
    return {
        "XMP-MP:RegionInfoMP": {
            "Regions": [
                {"PersonDisplayName": n, "Rectangle": ", ".join(f"{v:.6f}" for v in r)}
                for (n, _), r in zip(named, rects, strict=True)
            ]
        }
    }


def grow(box: tuple, k: float) -> tuple:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = (box[2] - box[0]) * k, (box[3] - box[1]) * k
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


PEOPLE = {  # name: (LFW folder, (x, y, side) of the pasted LFW image)
    "Colin Powell": ("Colin_Powell", (90, 120, 300)),
    "Serena Williams": ("Serena_Williams", (560, 220, 280)),
}


@pytest.fixture(scope="module")
def tagged_album(lfw: Path, tmp_path_factory: pytest.TempPathFactory, detector, embedder):
    """Photos of two people, tagged by exiftool for all 8 orientations in four ways (MWG
    embedded, MWG in a photo.jpg.xmp or photo.xmp sidecar, Microsoft regions embedded), plus
    a DNG with a Lightroom-style photo.xmp sidecar; scanned into a catalog, then imported."""
    root = tmp_path_factory.mktemp("tagged")
    folder = root / "photos"
    folder.mkdir()
    size = (1000, 700)
    truth: dict[str, dict[str, tuple]] = {}  # file -> name -> upright face box
    canvases = {}
    for k, variant in enumerate(("emb", "ext", "base", "mp")):
        canvas = Image.new("RGB", size, (110 + 20 * k, 130, 150 - 10 * k))
        boxes = {}
        for name, (folder_name, (x, y, side)) in PEOPLE.items():
            src = Image.open(lfw / folder_name / f"{folder_name}_000{k + 1}.jpg").convert("RGB")
            f = detector.detect(np.asarray(src))[0]
            canvas.paste(src.resize((side, side), Image.Resampling.BICUBIC), (x, y))
            boxes[name] = tuple(f.box * side / 250 + (x, y, x, y))
        canvases[variant] = (np.asarray(canvas), boxes)
    exif = Image.Exif()
    jobs: dict[str, dict[Path, dict]] = {v: {} for v in canvases}
    for o in range(1, 9):
        exif[0x0112] = o
        stored_size = size if o < 5 else (size[1], size[0])
        for variant, (upright, boxes) in canvases.items():
            name = f"{variant}_{o}.jpg"
            path = folder / name
            pixels = np.array(stored(upright, o))
            pixels[0, 0] = (o, 0, 0)  # every file its own content
            Image.fromarray(pixels).save(path, quality=92, exif=exif.tobytes())
            # Other programs draw their own boxes: looser here, tighter there.
            named = [
                (n, ex.to_stored(grow(b, 1.3 if o % 2 else 0.8), *size, o))
                for n, b in boxes.items()
            ]
            tags = mp_tags(named) if variant == "mp" else mwg_tags(named, stored_size)
            jobs[variant][path] = tags
            truth[name] = boxes
    upright, boxes = canvases["base"]
    dng = write_dng(folder / "raw_6.dng", upright, 6)
    named = [(n, ex.to_stored(b, *size, 6)) for n, b in boxes.items()]
    jobs["base"][dng] = mwg_tags(named, (size[1], size[0]))  # Lightroom's RAW sidecar
    truth["raw_6.dng"] = boxes
    write_regions({**jobs["emb"], **jobs["mp"]})  # embedded in the photos
    write_regions(jobs["ext"], sidecar="ext")  # digiKam's photo.jpg.xmp
    write_regions(jobs["base"], sidecar="base")  # Adobe's photo.xmp
    files = snapshot(folder)
    db = root / "catalog.db"
    with Catalog(db) as cat:
        summary = Scanner(cat, detector, embedder).run([folder])
        assert summary.errors == 0
        result = import_embedded_names(cat)
    assert snapshot(folder) == files  # the import only reads the photos and sidecars
    return db, folder, truth, result


@needs_exiftool
def test_exiftool_writes_the_spellings_we_read(tagged_album) -> None:
    _db, folder, _truth, _ = tagged_album
    text = (folder / "ext_1.jpg.xmp").read_text()
    assert "<rdf:li rdf:parseType='Resource'>" in text  # the form the old reader missed
    assert "rdf:parseType='Resource'" in exiftool("-XMP", "-b", folder / "emb_3.jpg")
    assert "MPReg:Rectangle" in exiftool("-XMP", "-b", folder / "mp_5.jpg")


@needs_exiftool
def test_names_from_other_programs_land_on_the_right_faces(tagged_album) -> None:
    db, folder, truth, result = tagged_album
    assert result.photos == len(truth) == 33
    assert result.regions == 2 * 33 and result.named == 2 * 33, result.problems
    assert result.problems == []
    with Catalog(db) as cat:
        svc = PeopleService(cat)
        for name, boxes in truth.items():
            photo = cat.photo_by_path(folder / name)
            faces = cat.faces_of_photo(photo)
            assert len(faces) == 2, name
            for face in faces:
                label = svc.person_of(face.id)
                assert label is not None and label.source == "confirmed", name
                person = cat.person(label.person_id).name
                assert iou(face.box, boxes[person]) > 0.6, (name, person, face.box)
        assert sorted(p.name for p in svc.people(named_only=True)) == list(PEOPLE)
        # Idempotent: nothing new was scanned, nothing is read or named again.
        again = import_embedded_names(cat, svc)
        assert (again.photos, again.named) == (0, 0)


@needs_exiftool
def test_decisions_in_the_app_are_never_overridden(tagged_album, tmp_path: Path) -> None:
    db, folder, _truth, _ = tagged_album
    copy = tmp_path / "catalog.db"
    with Catalog(db) as src, Catalog(copy) as dst:
        src.db.conn.backup(dst.db.conn)
    with Catalog(copy) as cat:
        svc = PeopleService(cat)
        colin = svc.find("Colin Powell")
        a, b = (f.id for f in cat.faces_of_photo(cat.photo_by_path(folder / "emb_2.jpg")))
        a = next(f for f in (a, b) if svc.person_of(f).person_id == colin.id)
        b = next(f.face_id for f in svc.faces_of(colin.id) if f.face_id != a)
        svc.reject([a], colin.id)  # "not Colin"
        svc.enroll(b, "Someone Else")  # moved to another person by hand
        svc.undo()
        svc.undo()
        assert svc.person_of(a).person_id == colin.id  # undo puts the import back
        svc.reject([a], colin.id)
        svc.enroll(b, "Someone Else")
        again = import_embedded_names(cat, svc, all_photos=True)
        assert again.named == 0 and again.kept == 2 * 33  # all decided: none re-named
        assert svc.person_of(a) is None or svc.person_of(a).person_id != colin.id
        assert cat.person(svc.person_of(b).person_id).name == "Someone Else"


@needs_exiftool
def test_our_sidecars_read_back_in_exiftool(tagged_album, tmp_path: Path) -> None:
    """Every orientation: exiftool reads our sidecar with the names, the stored frame's
    dimensions, and areas on the faces exiftool's own regions marked."""
    db, folder, truth, _ = tagged_album
    out = tmp_path / "xmp"
    with Catalog(db) as cat:
        summary = ex.export_xmp(cat, out)
        assert summary.files == len(truth)
        photos = {name: cat.photo_by_path(folder / name) for name in truth}
        paths = {name: ex.sidecar_path(out, cat, p) for name, p in photos.items()}
        tag = "-XMP-mwg-rs:RegionInfo"
        read = json.loads(exiftool("-j", "-struct", "-n", tag, *paths.values()))
        by_file = {Path(info["SourceFile"]): info for info in read}
        for name, boxes in truth.items():
            photo = photos[name]
            regions = by_file[paths[name]]["RegionInfo"]
            dims = regions["AppliedToDimensions"]
            o = photo.orientation
            stored_size = (photo.width, photo.height) if o < 5 else (photo.height, photo.width)
            assert (dims["W"], dims["H"], dims["Unit"]) == (*stored_size, "pixel"), name
            assert sorted(r["Name"] for r in regions["RegionList"]) == list(PEOPLE), name
            for r in regions["RegionList"]:
                a = r["Area"]
                assert (r["Type"], a["Unit"]) == ("Face", "normalized")
                back = ex.from_stored(
                    (a["X"], a["Y"], a["W"], a["H"]), photo.width, photo.height, o
                )
                assert iou(back, boxes[r["Name"]]) > 0.6, (name, r)
                # Exactly our stored face box, turned into the stored frame.
                face = next(
                    f for f in cat.faces_of_photo(photo) if iou(f.box, boxes[r["Name"]]) > 0.6
                )
                want = ex.to_stored(face.box, photo.width, photo.height, o)
                assert np.allclose((a["X"], a["Y"], a["W"], a["H"]), want, atol=2e-6), name


@needs_exiftool
def test_cli_scan_and_import_report_metadata_names(lfw, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    person = "Colin_Powell"
    canvas = Image.new("RGB", (640, 480), (120, 130, 140))
    canvas.paste(Image.open(lfw / person / f"{person}_0001.jpg").convert("RGB"), (200, 100))
    canvas.save(folder / "p.jpg", quality=92)
    tags = mwg_tags([("Colin Powell", (0.52, 0.42, 0.2, 0.3))], (640, 480))
    write_regions({folder / "p.jpg": tags})
    lib = ["--library", str(tmp_path / "c.db")]
    assert main([*lib, "scan", "--no-progress", "--json", str(folder)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["metadata_names"] == {"regions": 1, "named": 1, "kept": 0}
    assert main([*lib, "import", "--photos", "--dry-run"]) == 0
    assert "0 faces would be named (1 left as they are, 1 photos read)" in capsys.readouterr().out
    assert main([*lib, "person", "Colin Powell"]) == 0
    assert "p.jpg" in capsys.readouterr().out
