"""Taking the People view out of the catalog: folders per person, CSV/JSON, XMP sidecars; and
bringing names back in from sidecars other programs wrote.

Originals are never modified, moved or renamed: folders per person get copies or links, and
sidecars go to an output folder chosen by the user.

XMP sidecars follow the Metadata Working Group's region schema (``mwg-rs:Regions``, read by
digiKam, Lightroom Classic, Picasa, Immich...) and add ``Iptc4xmpExt:PersonInImage``. As the
MWG guidelines say, regions apply to the *stored* image: a photo with an EXIF orientation has
its upright face boxes turned back into the stored pixels' frame, normalized to 0..1 (centre
x, y and width, height), with ``AppliedToDimensions`` the stored size.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from album.catalog import Catalog, Photo
from album.catalog.records import display_path
from album.people.metadata import (  # noqa: F401  (from_stored, iou: used by importers too)
    Region,
    XmpError,
    from_stored,
    iou,
    match_regions,
    parse_regions,
    region_box,
)

log = logging.getLogger(__name__)

MARK = "<!-- album: people export -->"  # sidecars we wrote carry this and may be rewritten
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
}


class ExportError(ValueError):
    """The export cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class FaceRecord:
    """One labelled face, as exported."""

    face_id: int
    person_id: int
    name: str | None
    source: str  # confirmed, automatic or suggested
    confidence: float | None
    photo: str  # a present file showing it
    box: tuple[float, float, float, float]  # upright pixels (left, top, right, bottom)


@dataclass(frozen=True)
class ExportSummary:
    people: int
    photos: int
    files: int  # files written, copied or linked
    skipped: int  # already there (re-run) or not possible (see the log)


def labelled_faces(
    catalog: Catalog,
    named_only: bool = True,
    sources: Iterable[str] = ("confirmed", "automatic", "suggested"),
) -> list[FaceRecord]:
    """Every face with a positive assignment to an active (not merged) person, with one
    present photo file that shows it."""
    src = list(sources)
    rows = catalog.db.execute(
        f"SELECT a.face_id, a.person_id, p.name, a.source, a.confidence, f.box_left, f.box_top, "
        f"f.box_right, f.box_bottom, (SELECT ph.path FROM photos ph WHERE ph.content_hash = "
        f"f.content_hash AND ph.status = 'done' ORDER BY ph.id LIMIT 1) "
        f"FROM assignments a JOIN people p ON p.id = a.person_id JOIN faces f ON f.id = a.face_id "
        f"WHERE a.source IN ({','.join('?' * len(src))}) AND p.merged_into IS NULL "
        f"{'AND p.name IS NOT NULL' if named_only else ''} ORDER BY p.name, a.face_id",
        src,
    ).fetchall()
    out = []
    for fid, pid, name, source, conf, left, top, right, bottom, path in rows:
        if path is None:
            continue  # no file shows this face now
        path = os.fsdecode(path) if isinstance(path, bytes) else path
        out.append(FaceRecord(fid, pid, name, source, conf, path, (left, top, right, bottom)))
    return out


def safe_name(name: str) -> str:
    """A folder name for a person: path separators and control characters replaced."""
    text = "".join("_" if c in '/\\:*?"<>|' or not c.isprintable() else c for c in name)
    text = text.strip(" .")
    return text or "unnamed"


def export_by_person(
    catalog: Catalog,
    out: Path,
    mode: str = "copy",
    named_only: bool = True,
    confirmed_only: bool = False,
) -> ExportSummary:
    """One folder per person under ``out`` with the photos showing them (faces confirmed or
    assigned automatically; suggestions wait for the user), copied
    (``mode='copy'``), hard-linked (``'hardlink'``) or symlinked (``'symlink'``). Never moves;
    an existing file of the same name and size is left alone (re-runs add only what is new)."""
    if mode not in ("copy", "hardlink", "symlink"):
        raise ExportError(f"unknown mode {mode!r}: copy, hardlink or symlink")
    out = Path(out)
    sources = ("confirmed",) if confirmed_only else ("confirmed", "automatic")
    faces = labelled_faces(catalog, named_only, sources)
    by_person: dict[tuple[int, str], set[str]] = defaultdict(set)
    for f in faces:
        by_person[(f.person_id, f.name or f"cluster {f.person_id}")].add(f.photo)
    _refuse_inside_sources(catalog, out)
    files = skipped = 0
    photos: set[str] = set()
    for (_, label), paths in sorted(by_person.items(), key=lambda kv: kv[0][1].lower()):
        folder = out / safe_name(label)
        folder.mkdir(parents=True, exist_ok=True)
        used: dict[str, str] = {}
        for path in sorted(paths):
            photos.add(path)
            target = folder / _unique_name(Path(path).name, path, used)
            src = Path(path)
            if target.is_symlink() or (
                target.exists() and target.stat().st_size == src.stat().st_size
            ):
                skipped += 1  # there from an earlier run
                continue
            try:
                if mode == "copy":
                    shutil.copy2(src, target)
                elif mode == "hardlink":
                    os.link(src, target)
                else:
                    os.symlink(src.resolve(), target)
                files += 1
            except OSError as exc:
                log.warning("%s: %s", display_path(path), exc)
                skipped += 1
    return ExportSummary(len(by_person), len(photos), files, skipped)


def _unique_name(name: str, path: str, used: dict[str, str]) -> str:
    """``name``, or ``stem-2.ext`` ... when another photo of the folder has that name."""
    stem, ext = os.path.splitext(name)
    candidate, n = name, 1
    while candidate in used and used[candidate] != path:
        n += 1
        candidate = f"{stem}-{n}{ext}"
    used[candidate] = path
    return candidate


def _refuse_inside_sources(catalog: Catalog, out: Path) -> None:
    """Exports go next to the album, not into a scanned folder (a rescan would find them)."""
    target = out.resolve()
    for folder in catalog.folders():
        root = Path(folder.path).resolve()
        if target == root or root in target.parents:
            raise ExportError(
                f"{out} is inside the scanned folder {folder.path}; choose an "
                "output folder outside the album"
            )


# --- CSV and JSON --------------------------------------------------------------------------


FIELDS = [
    "face_id",
    "person_id",
    "name",
    "source",
    "confidence",
    "photo",
    "left",
    "top",
    "right",
    "bottom",
]


def export_csv(catalog: Catalog, path: Path, named_only: bool = False) -> int:
    """One row per labelled face (columns ``FIELDS``); returns the number of rows."""
    faces = labelled_faces(catalog, named_only)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for f in faces:
            w.writerow(
                [
                    f.face_id,
                    f.person_id,
                    f.name or "",
                    f.source,
                    "" if f.confidence is None else f"{f.confidence:.4f}",
                    display_path(f.photo),
                    *(f"{v:.1f}" for v in f.box),
                ]
            )
    return len(faces)


def export_json(catalog: Catalog, path: Path, named_only: bool = False) -> int:
    """``{"people": [{"id", "name", "hidden", "cover_face", "faces": [...]}]}``; returns the
    number of people."""
    faces = labelled_faces(catalog, named_only)
    people = {p.id: p for p in catalog.people()}
    grouped: dict[int, list[FaceRecord]] = defaultdict(list)
    for f in faces:
        grouped[f.person_id].append(f)
    doc = {
        "model": catalog.model,
        "people": [
            {
                "id": pid,
                "name": people[pid].name,
                "hidden": people[pid].hidden,
                "cover_face": people[pid].cover_face_id,
                "faces": [
                    {
                        "face": f.face_id,
                        "source": f.source,
                        "confidence": f.confidence,
                        "photo": display_path(f.photo),
                        "box": [round(v, 1) for v in f.box],
                    }
                    for f in fs
                ],
            }
            for pid, fs in sorted(grouped.items())
        ],
    }
    Path(path).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(doc["people"])


# --- XMP sidecars --------------------------------------------------------------------------


def to_stored(
    box: tuple[float, float, float, float], width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """Upright pixel box -> normalized (cx, cy, w, h) in the stored image's frame."""
    left, top, right, bottom = box
    nx, ny = (left + right) / 2 / width, (top + bottom) / 2 / height
    nw, nh = (right - left) / width, (bottom - top) / height
    o = orientation or 1
    x, y = {
        1: (nx, ny),
        2: (1 - nx, ny),
        3: (1 - nx, 1 - ny),
        4: (nx, 1 - ny),
        5: (ny, nx),
        6: (ny, 1 - nx),
        7: (1 - ny, 1 - nx),
        8: (1 - ny, nx),
    }.get(o, (nx, ny))
    w, h = (nh, nw) if o in (5, 6, 7, 8) else (nw, nh)
    return x, y, w, h


def sidecar_xml(photo: Photo, faces: list[FaceRecord]) -> str:
    """The XMP packet for one photo's named faces."""
    w, h = photo.width or 1, photo.height or 1
    stored_w, stored_h = (h, w) if (photo.orientation or 1) in (5, 6, 7, 8) else (w, h)
    regions, names = [], []
    for f in faces:
        x, y, rw, rh = to_stored(f.box, w, h, photo.orientation)
        regions.append(
            "      <rdf:li>\n"
            f'       <rdf:Description mwg-rs:Name={quoteattr(f.name or "")} mwg-rs:Type="Face">\n'
            f'        <mwg-rs:Area stArea:x="{x:.6f}" stArea:y="{y:.6f}" '
            f'stArea:w="{rw:.6f}" stArea:h="{rh:.6f}" stArea:unit="normalized"/>\n'
            "       </rdf:Description>\n"
            "      </rdf:li>\n"
        )
        if f.name and f.name not in names:
            names.append(f.name)
    people = "".join(f"     <rdf:li>{_text(n)}</rdf:li>\n" for n in names)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f"{MARK}\n"
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:mwg-rs="{NS["mwg-rs"]}"\n'
        f'    xmlns:stArea="{NS["stArea"]}"\n'
        f'    xmlns:stDim="{NS["stDim"]}"\n'
        f'    xmlns:Iptc4xmpExt="{NS["Iptc4xmpExt"]}">\n'
        '   <mwg-rs:Regions rdf:parseType="Resource">\n'
        f'    <mwg-rs:AppliedToDimensions stDim:w="{stored_w}" stDim:h="{stored_h}" '
        'stDim:unit="pixel"/>\n'
        "    <mwg-rs:RegionList>\n"
        "     <rdf:Bag>\n" + "".join(regions) + "     </rdf:Bag>\n"
        "    </mwg-rs:RegionList>\n"
        "   </mwg-rs:Regions>\n"
        "   <Iptc4xmpExt:PersonInImage>\n"
        "    <rdf:Bag>\n" + people + "    </rdf:Bag>\n"
        "   </Iptc4xmpExt:PersonInImage>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    )


def _text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sidecar_path(out: Path, catalog: Catalog, photo: Photo, style: str = "ext") -> Path:
    """Where the sidecar of ``photo`` goes under ``out``: its path inside its scanned folder
    (``<folder name>/<relative path>``), named ``photo.jpg.xmp`` (style 'ext', digiKam,
    darktable) or ``photo.xmp`` (style 'base', Adobe)."""
    path = Path(photo.path)
    rel: Path | None = None
    for folder in catalog.folders():
        root = Path(folder.path)
        if root in path.parents:
            rel = Path(root.name) / path.relative_to(root)
            break
    if rel is None:
        rel = Path(*path.parts[1:]) if path.is_absolute() else path
    name = rel.name + ".xmp" if style == "ext" else rel.stem + ".xmp"
    return Path(out) / rel.parent / name


def export_xmp(
    catalog: Catalog,
    out: Path,
    style: str = "ext",
    confirmed_only: bool = False,
    overwrite: bool = False,
) -> ExportSummary:
    """Write a sidecar under ``out`` for each photo with named faces (confirmed or assigned
    automatically, not mere suggestions). A sidecar that exists and was not written by this
    export is left alone unless ``overwrite``."""
    if style not in ("ext", "base"):
        raise ExportError("sidecar naming is 'ext' (photo.jpg.xmp) or 'base' (photo.xmp)")
    sources = ("confirmed",) if confirmed_only else ("confirmed", "automatic")
    faces = labelled_faces(catalog, True, sources)
    by_photo: dict[str, list[FaceRecord]] = defaultdict(list)
    for f in faces:
        by_photo[f.photo].append(f)
    originals = {p.path for p in catalog.photos()}
    files = skipped = 0
    for path, fs in sorted(by_photo.items()):
        photo = catalog.photo_by_path(path)
        if photo is None or not photo.width or not photo.height:
            skipped += 1
            continue
        target = sidecar_path(Path(out), catalog, photo, style)
        if str(target) in originals:
            raise ExportError(f"{target} is a catalogued photo; refusing to write over it")
        if target.exists() and not overwrite and MARK not in target.read_text(errors="replace"):
            log.warning("%s exists and was not written by album; left alone", target)
            skipped += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(sidecar_xml(photo, fs), encoding="utf-8")
        tmp.replace(target)
        files += 1
    return ExportSummary(len({f.person_id for f in faces}), len(by_photo), files, skipped)


# --- reading sidecars back -----------------------------------------------------------------


def read_regions(path: Path) -> list[Region]:
    """Named face regions (MWG and Microsoft, in any RDF spelling) of a sidecar."""
    try:
        with open(path, "rb") as fh:
            return parse_regions(fh.read())
    except (XmpError, OSError) as exc:
        raise ExportError(f"{path}: not a readable XMP file ({exc})") from None


def match_sidecars(
    catalog: Catalog, folder: Path, min_iou: float = 0.3
) -> tuple[list[tuple[int, str]], list[str]]:
    """(face id, name) pairs from the sidecars under ``folder``, matched to catalogued photos
    (by path, mirrored path or unique file name) and faces (best box overlap, see
    :func:`album.people.metadata.match_regions`); and a list of problems (unmatched sidecars
    or regions)."""
    photos = catalog.photos()
    by_name: dict[str, list[Photo]] = defaultdict(list)
    for p in photos:
        by_name[Path(p.path).name].append(p)
        by_name[Path(p.path).stem].append(p)
    pairs: list[tuple[int, str]] = []
    problems: list[str] = []
    for sidecar in sorted(Path(folder).rglob("*.xmp")):
        regions = read_regions(sidecar)
        if not regions:
            continue
        photo = _photo_for(sidecar, Path(folder), by_name)
        if photo is None:
            problems.append(f"{sidecar}: no catalogued photo matches it")
            continue
        w, h = photo.width or 1, photo.height or 1
        boxes = {f.id: f.box for f in catalog.faces_of_photo(photo)}
        placed = [(r.name, region_box(r, w, h, photo.orientation)) for r in regions]
        found, missed = match_regions(boxes, placed, min_iou)
        pairs += found
        problems += [f"{sidecar}: no face found where {name!r} is" for name in missed]
    return pairs, problems


def _photo_for(sidecar: Path, root: Path, by_name: dict[str, list[Photo]]) -> Photo | None:
    base = sidecar.name[: -len(".xmp")]
    rel = sidecar.relative_to(root).parent
    for key in (base, Path(base).stem):
        cands = by_name.get(key, [])
        if key == Path(base).stem and key != base:
            cands = [p for p in cands if Path(p.path).stem == key]
        if len(cands) == 1:
            return cands[0]
        # Several photos of that name: the one whose folders end like the sidecar's.
        fitting = [p for p in cands if _ends_with(Path(p.path).parent, rel)]
        if len(fitting) == 1:
            return fitting[0]
    return None


def _ends_with(path: Path, rel: Path) -> bool:
    parts, tail = path.parts, rel.parts
    if not tail:
        return True
    # Mirrored exports start with the scanned folder's name; compare as many parts as we can.
    return parts[-len(tail) :] == tail if len(tail) <= len(parts) else False
