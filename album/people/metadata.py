"""Face names that other programs stored in photo metadata (XMP), read into the catalog.

Two region schemas are read:

* MWG regions (``mwg-rs:Regions``: Lightroom Classic, digiKam, Picasa, exiftool, ours):
  centre x, y and width, height normalized to the *stored* image (before the EXIF
  orientation), with ``AppliedToDimensions`` the stored size.
* Microsoft Photo regions (``MP:RegionInfo``: Windows Live Photo Gallery, digiKam):
  ``MPReg:Rectangle`` "left, top, width, height" normalized, and ``MPReg:PersonDisplayName``.
  Microsoft's schema does not say which frame it uses; its own tools rotate the pixels
  rather than set an orientation, so the stored frame (as MWG) is assumed.

XMP is RDF, and writers spell the same structure several ways: a struct as
``rdf:parseType="Resource"``, as a nested ``rdf:Description``, or as attributes (on the
property element, on ``rdf:li`` or on the description); fields as attributes or elements.
:func:`parse_regions` reads the RDF structure rather than one spelling.

Where the XMP comes from: sidecars beside the photo (``photo.jpg.xmp`` as digiKam and
darktable name them, ``photo.xmp`` as Adobe does), and the packet embedded in the photo
(JPEG APP1, with Extended XMP; TIFF and TIFF-based RAW tag 700; PNG, WebP and HEIC through
Pillow). Photos are only ever read.

:func:`import_embedded_names` puts the names on the catalogued faces after a scan, as
confirmed names (a user's tagging in another program is a user decision), without ever
overriding a decision taken in this app.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from album.catalog import Catalog, Photo

log = logging.getLogger(__name__)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
# Microsoft's documentation spells its namespaces with https; its tools write http.
MP = ("http://ns.microsoft.com/photo/1.2/", "https://ns.microsoft.com/photo/1.2/")
MPRI = (
    "http://ns.microsoft.com/photo/1.2/t/RegionInfo#",
    "https://ns.microsoft.com/photo/1.2/t/RegionInfo#",
)
MPREG = (
    "http://ns.microsoft.com/photo/1.2/t/Region#",
    "https://ns.microsoft.com/photo/1.2/t/Region#",
)

MAX_XMP_BYTES = 16 << 20  # a sidecar or packet larger than this is not face metadata
SETTING = "metadata_names_run"  # the last scan run whose photos were looked at
_SWAPS = frozenset({5, 6, 7, 8})


class XmpError(ValueError):
    """An XMP document could not be read (the message says why)."""


@dataclass(frozen=True)
class Region:
    """A named face region as stored: ``area`` is centre x, y, width, height normalized to
    the frame it applies to (``applied_to``: AppliedToDimensions w, h, when given)."""

    name: str
    area: tuple[float, float, float, float]
    applied_to: tuple[float, float] | None = None
    schema: str = "mwg"  # "mwg" or "mp"


# --- RDF structures -----------------------------------------------------------------------


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _fields(el: ET.Element) -> dict[str, ET.Element | str]:
    """The fields of the struct value of ``el``, however it is spelled: attributes of ``el``
    (property element, ``rdf:li`` or ``rdf:Description``), child elements of a
    ``parseType="Resource"`` element, or attributes and children of a nested
    ``rdf:Description``. The first spelling of a field wins."""
    out: dict[str, ET.Element | str] = {}
    nodes = [el]
    if el.get(_q(RDF, "parseType")) != "Resource":
        nodes += [c for c in el if c.tag == _q(RDF, "Description")]
    for node in nodes:
        for key, value in node.attrib.items():
            if not key.startswith((f"{{{RDF}}}", f"{{{XML_NS}}}")):
                out.setdefault(key, value)
        for child in node:
            if child.tag != _q(RDF, "Description"):
                out.setdefault(child.tag, child)
    return out


def _field(fields: dict[str, ET.Element | str], names: Iterable[str]) -> ET.Element | str | None:
    for name in names:
        if name in fields:
            return fields[name]
    return None


def _text(value: ET.Element | str | None) -> str | None:
    """A simple value: an attribute, an element's text, ``rdf:value`` of a qualified value,
    or the first entry of a language alternative."""
    if value is None or isinstance(value, str):
        return value
    inner = value.find(f"{{{RDF}}}value")
    if inner is not None:
        return inner.text
    alt = value.find(f"{{{RDF}}}Alt")
    if alt is not None:
        li = alt.find(f"{{{RDF}}}li")
        return li.text if li is not None else None
    if value.get(_q(RDF, "resource")) is not None:
        return value.get(_q(RDF, "resource"))
    return value.text


def _items(value: ET.Element | str | None) -> list[ET.Element]:
    """The ``rdf:li`` entries of an array property (Bag, Seq or Alt)."""
    if value is None or isinstance(value, str):
        return []
    out: list[ET.Element] = []
    for container in value:
        if container.tag in (_q(RDF, "Bag"), _q(RDF, "Seq"), _q(RDF, "Alt")):
            out.extend(c for c in container if c.tag == _q(RDF, "li"))
    return out


def _number(value: ET.Element | str | None) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _plausible(area: tuple[float, float, float, float]) -> bool:
    x, y, w, h = area
    return 0 < w <= 1.01 and 0 < h <= 1.01 and -0.01 <= x <= 1.01 and -0.01 <= y <= 1.01


def parse_regions(data: bytes | str) -> list[Region]:
    """The named face regions (MWG and Microsoft) of one XMP document or packet.

    Regions without a name, of another type than Face (pets, focus areas), or with an
    area that is not normalized or not inside the image are left out.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    start = data.find(b"<")
    if start < 0:
        return []
    try:
        root = ET.fromstring(data[start:].rstrip(b"\x00 \t\r\n"))
    except ET.ParseError as exc:
        raise XmpError(f"not well-formed XMP ({exc})") from None
    return [*_mwg_regions(root), *_mp_regions(root)]


def _mwg_regions(root: ET.Element) -> list[Region]:
    """The named face regions of every ``mwg-rs:Regions`` under ``root``."""
    out: list[Region] = []
    for regions in root.iter(_q(MWG_RS, "Regions")):
        fields = _fields(regions)
        applied = _mwg_applied_to(_field(fields, [_q(MWG_RS, "AppliedToDimensions")]))
        for li in _items(_field(fields, [_q(MWG_RS, "RegionList")])):
            region = _mwg_region(_fields(li), applied)
            if region is not None:
                out.append(region)
    return out


def _mwg_applied_to(dims: ET.Element | str | None) -> tuple[float, float] | None:
    """``AppliedToDimensions`` as (w, h), or None when absent or not positive."""
    if not isinstance(dims, ET.Element):
        return None
    d = _fields(dims)
    w, h = _number(d.get(_q(ST_DIM, "w"))), _number(d.get(_q(ST_DIM, "h")))
    if w and h and w > 0 and h > 0:
        return (w, h)
    return None


def _mwg_region(
    r: dict[str, ET.Element | str], applied: tuple[float, float] | None
) -> Region | None:
    """One ``mwg-rs:RegionList`` entry as a Region; None unless it is a named face with a
    plausible normalized area."""
    name = (_text(r.get(_q(MWG_RS, "Name"))) or "").strip()
    kind = (_text(r.get(_q(MWG_RS, "Type"))) or "Face").strip()
    area_el = r.get(_q(MWG_RS, "Area"))
    if not name or kind != "Face" or not isinstance(area_el, ET.Element):
        return None
    a = _fields(area_el)
    unit = (_text(a.get(_q(ST_AREA, "unit"))) or "normalized").strip()
    vals = [_number(a.get(_q(ST_AREA, k))) for k in ("x", "y", "w", "h")]
    if unit != "normalized" or any(v is None for v in vals):
        return None
    area = (vals[0], vals[1], vals[2], vals[3])
    if not _plausible(area):  # type: ignore[arg-type]
        return None
    return Region(name, area, applied, "mwg")  # type: ignore[arg-type]


def _mp_regions(root: ET.Element) -> list[Region]:
    """The named face regions of every Microsoft ``MP:RegionInfo`` under ``root``."""
    out: list[Region] = []
    for info in (el for ns in MP for el in root.iter(_q(ns, "RegionInfo"))):
        fields = _fields(info)
        for li in _items(_field(fields, [_q(ns, "Regions") for ns in MPRI])):
            region = _mp_region(_fields(li))
            if region is not None:
                out.append(region)
    return out


def _mp_region(r: dict[str, ET.Element | str]) -> Region | None:
    """One Microsoft region as a Region (its rectangle turned into centre, size); None
    unless it has a name and a plausible normalized rectangle."""
    name = (_text(_field(r, [_q(ns, "PersonDisplayName") for ns in MPREG])) or "").strip()
    rect = _text(_field(r, [_q(ns, "Rectangle") for ns in MPREG]))
    if not name or not rect:
        return None
    try:
        left, top, w, h = (float(v) for v in rect.split(","))
    except ValueError:
        return None
    area = (left + w / 2, top + h / 2, w, h)
    if all(math.isfinite(v) for v in area) and _plausible(area):
        return Region(name, area, None, "mp")
    return None


# --- where the XMP is ---------------------------------------------------------------------


def sidecars(
    photo: str | os.PathLike[str], listings: dict[Path, set[str]] | None = None
) -> list[Path]:
    """The XMP sidecars beside ``photo`` that exist: ``photo.jpg.xmp`` (digiKam, darktable)
    and ``photo.xmp`` (Adobe), either case of the extension. ``listings`` caches each
    folder's ``.xmp`` names across calls (one listing per folder, not per photo)."""
    p = Path(photo)
    cache = listings if listings is not None else {}
    names = cache.get(p.parent)
    if names is None:
        try:
            with os.scandir(p.parent) as it:
                names = {e.name for e in it if e.name[-4:].lower() == ".xmp"}
        except OSError:
            names = set()
        cache[p.parent] = names
    out = []
    for base in (p.name, p.stem):
        for ext in (".xmp", ".XMP", ".Xmp"):
            if base + ext in names and (p.parent / (base + ext)) not in out:
                out.append(p.parent / (base + ext))
    return out


def _read_limited(path: Path) -> bytes:
    with open(path, "rb") as fp:
        data = fp.read(MAX_XMP_BYTES + 1)
    if len(data) > MAX_XMP_BYTES:
        raise XmpError(f"{path.name}: larger than {MAX_XMP_BYTES >> 20} MB")
    return data


_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"


def _jpeg_xmp(fp: BinaryIO) -> list[bytes]:
    """XMP packets of a JPEG's APP1 segments (the standard packet, then each Extended XMP
    reassembled); only the header segments before the image data are read."""
    if fp.read(2) != b"\xff\xd8":
        return []
    main: list[bytes] = []
    extended: dict[bytes, dict[int, bytes]] = {}
    sizes: dict[bytes, int] = {}
    for payload in _jpeg_app1_payloads(fp):
        if payload.startswith(_XMP_APP1):
            main.append(payload[len(_XMP_APP1) :])
        elif payload.startswith(_XMP_EXT_APP1) and len(payload) >= len(_XMP_EXT_APP1) + 40:
            rest = payload[len(_XMP_EXT_APP1) :]
            guid, total, offset = rest[:32], *struct.unpack(">II", rest[32:40])
            if total <= MAX_XMP_BYTES:
                extended.setdefault(guid, {})[offset] = rest[40:]
                sizes[guid] = total
    out = list(main)
    for guid, chunks in extended.items():
        data = b"".join(chunks[k] for k in sorted(chunks))
        if len(data) == sizes[guid]:
            out.append(data)
    return out


def _jpeg_app1_payloads(fp: BinaryIO) -> Iterator[bytes]:
    """The payloads of the APP1 segments among a JPEG's header segments, read from just after
    the SOI marker up to the start of scan (or the first thing that is not a segment)."""
    while True:
        marker = _jpeg_marker(fp)
        if marker is None or marker in (0xDA, 0xD9):
            # The end, or not a marker where one must be (keep what was found), or start of
            # scan / end of image: no metadata after this.
            return
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # standalone markers: no length, no payload
        raw = fp.read(2)
        if len(raw) < 2:
            return
        length = struct.unpack(">H", raw)[0] - 2
        if length < 0:
            return
        if marker != 0xE1:
            fp.seek(length, os.SEEK_CUR)
            continue
        yield fp.read(length)


def _jpeg_marker(fp: BinaryIO) -> int | None:
    """The next marker code (fill bytes skipped), or None at the end of the file or where the
    bytes are not a marker."""
    if fp.read(1) != b"\xff":
        return None
    marker = fp.read(1)
    while marker == b"\xff":
        marker = fp.read(1)
    return marker[0] if marker else None


_TIFF_MAGIC = {
    b"II*\x00": "<",
    b"MM\x00*": ">",
    b"IIRO": "<",  # Olympus ORF
    b"IIRS": "<",  # Olympus ORF
    b"MMOR": ">",  # Olympus ORF
    b"IIU\x00": "<",  # Panasonic RW2
}


def _tiff_xmp(fp: BinaryIO) -> list[bytes]:
    """Tag 700 (XMP) of IFD0 of a TIFF or a TIFF-based RAW (DNG, CR2, NEF, ARW, ORF, RW2,
    PEF...); only the directory and the packet are read."""
    head = fp.read(8)
    order = _TIFF_MAGIC.get(head[:4])
    if order is None or len(head) < 8:
        return []
    (ifd,) = struct.unpack(order + "I", head[4:8])
    fp.seek(ifd)
    raw = fp.read(2)
    if len(raw) < 2:
        return []
    (count,) = struct.unpack(order + "H", raw)
    entries = fp.read(12 * min(count, 4096))
    for i in range(len(entries) // 12):
        tag, kind, n, value = struct.unpack(order + "HHI4s", entries[12 * i : 12 * i + 12])
        if tag != 700 or kind not in (1, 7) or n == 0 or n > MAX_XMP_BYTES:
            continue
        if n <= 4:
            return [value[:n]]
        (offset,) = struct.unpack(order + "I", value)
        fp.seek(offset)
        return [fp.read(n)]
    return []


def embedded_xmp(path: str | os.PathLike[str]) -> list[bytes]:
    """The XMP packets embedded in the photo at ``path`` (empty when it has none or cannot
    be read). Reads only headers, never the pixels."""
    try:
        with open(path, "rb") as fp:
            head = fp.read(4)
            fp.seek(0)
            if head[:2] == b"\xff\xd8":
                return _jpeg_xmp(fp)
            if head in _TIFF_MAGIC:
                return _tiff_xmp(fp)
    except (OSError, struct.error, ValueError) as exc:
        log.info("%s: XMP not readable (%s)", path, exc)
        return []
    return _pillow_xmp(path)


def _pillow_xmp(path: str | os.PathLike[str]) -> list[bytes]:
    """PNG, WebP and HEIC keep XMP where Pillow (and pillow-heif) find it without decoding."""
    from PIL import Image

    from album.images.identify import heif_available

    formats = ["PNG", "WEBP"]
    if os.path.splitext(os.fspath(path))[1].lower() in (".heic", ".heif", ".hif"):
        if not heif_available():
            return []
        formats.append("HEIF")
    try:
        with Image.open(path, formats=formats) as im:
            value = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    except Exception as exc:  # any decoder trouble: no metadata, the scan reports the file
        log.info("%s: XMP not readable (%s)", path, exc)
        return []
    if isinstance(value, str):
        value = value.encode("utf-8")
    return [value] if isinstance(value, bytes) and value else []


def photo_regions(
    path: str | os.PathLike[str], listings: dict[Path, set[str]] | None = None
) -> tuple[list[Region], list[str]]:
    """The named face regions of a photo: its sidecars first (what a RAW workflow edits),
    then its embedded XMP; one region per name. Also the problems met, in words.
    ``listings``: see :func:`sidecars`."""
    regions: list[Region] = []
    problems: list[str] = []
    for sidecar in sidecars(path, listings):
        try:
            regions += parse_regions(_read_limited(sidecar))
        except (OSError, XmpError) as exc:
            problems.append(f"{sidecar}: {exc}")
    for packet in embedded_xmp(path):
        try:
            regions += parse_regions(packet)
        except XmpError as exc:
            problems.append(f"{path}: embedded XMP {exc}")
    seen: set[str] = set()
    unique = []
    for r in regions:
        if r.name.casefold() not in seen:
            seen.add(r.name.casefold())
            unique.append(r)
    return unique, problems


# --- from a region to a face --------------------------------------------------------------


def from_stored(
    area: tuple[float, float, float, float], width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """Normalized (cx, cy, w, h) in the stored frame -> upright pixel box (left, top, right,
    bottom); ``width``, ``height`` are the upright size."""
    x, y, w, h = area
    o = orientation or 1
    nx, ny = {
        1: (x, y),
        2: (1 - x, y),
        3: (1 - x, 1 - y),
        4: (x, 1 - y),
        5: (y, x),
        6: (1 - y, x),
        7: (1 - y, 1 - x),
        8: (y, 1 - x),
    }.get(o, (x, y))
    nw, nh = (h, w) if o in _SWAPS else (w, h)
    cx, cy, bw, bh = nx * width, ny * height, nw * width, nh * height
    return cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2


def region_box(
    region: Region, width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """The upright pixel box of ``region`` on a photo of upright size ``width`` x ``height``.

    Regions apply to the stored frame (MWG). A writer that ignored a 90-degree orientation
    gives itself away by AppliedToDimensions with the upright image's proportions instead of
    the stored one's: such a region is read in the upright frame.
    """
    o = orientation or 1
    if region.applied_to is not None and o in _SWAPS and width != height:
        aw, ah = region.applied_to
        if (aw > ah) == (width > height):
            o = 1
    return from_stored(region.area, width, height, o)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _inside(point: tuple[float, float], box: tuple[float, ...]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _centre(box: tuple[float, ...]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def match_regions(
    boxes: dict[int, tuple[float, float, float, float]],
    regions: list[tuple[str, tuple[float, float, float, float]]],
    min_iou: float = 0.3,
) -> tuple[list[tuple[int, str]], list[str]]:
    """Pair regions (name, upright box) with faces (id -> upright box): greatest overlap
    first, one face per region. Programs draw face boxes of different sizes, so a pair with
    less overlap than ``min_iou`` still counts when each box holds the other's centre.
    Returns (face id, name) pairs and the names no face was found for."""
    scored = []
    for ri, (_name, rbox) in enumerate(regions):
        for fid, fbox in boxes.items():
            score = iou(rbox, fbox)
            if score < min_iou and not (
                _inside(_centre(rbox), fbox) and _inside(_centre(fbox), rbox)
            ):
                continue
            scored.append((score, ri, fid))
    pairs: list[tuple[int, str]] = []
    used_faces: set[int] = set()
    used_regions: set[int] = set()
    for _score, ri, fid in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if ri in used_regions or fid in used_faces:
            continue
        used_regions.add(ri)
        used_faces.add(fid)
        pairs.append((fid, regions[ri][0]))
    missed = [name for i, (name, _) in enumerate(regions) if i not in used_regions]
    return pairs, missed


def match_photo(
    catalog: Catalog, photo: Photo, regions: list[Region]
) -> tuple[list[tuple[int, str]], list[str]]:
    """(face id, name) pairs for ``regions`` on the catalogued faces of ``photo``, and the
    names that matched no face."""
    w, h = photo.width or 1, photo.height or 1
    boxes = {f.id: f.box for f in catalog.faces_of_photo(photo)}
    placed = [(r.name, region_box(r, w, h, photo.orientation)) for r in regions]
    return match_regions(boxes, placed)


# --- the import after a scan --------------------------------------------------------------


@dataclass
class NamesImport:
    """What :func:`import_embedded_names` did."""

    photos: int = 0  # photos looked at
    regions: int = 0  # named face regions found in them
    named: int = 0  # faces given a name
    kept: int = 0  # faces left alone: already named so, or decided otherwise in this app
    problems: list[str] = field(default_factory=list)
    pairs: list[tuple[int, str]] = field(default_factory=list)  # (face id, name) to name


def _decided(service, face_id: int, name: str) -> bool:
    """True when the user decided about ``face_id`` in this app in a way the metadata must
    not undo: confirmed as someone (anyone), or rejected from the person called ``name``."""
    for a in service.catalog.assignments(face_id):
        if a.source == "confirmed":
            return True
        if a.source == "rejected":
            person = service.catalog.person(a.person_id)
            if person is not None and (person.name or "").casefold() == name.casefold():
                return True
    return False


def import_embedded_names(
    catalog: Catalog,
    service=None,
    all_photos: bool = False,
    progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
) -> NamesImport:
    """Name the faces of newly scanned photos after the face regions in their own metadata
    and sidecars, as confirmed names (one undoable operation, "metadata names").

    Looks at the photos stored by scan runs since the last call (``all_photos``: every
    catalogued photo), so a rescan does not read unchanged photos again and a name the user
    took away later is not put back. Never overrides a decision taken in this app: faces
    confirmed as anyone, or rejected from the person of that name, are left alone.
    ``service`` is a :class:`~album.people.service.PeopleService`, or a function that gives
    one; made when first needed if not given.
    ``dry_run``: only find the pairs (``NamesImport.pairs``); nothing is written.
    """

    @functools.cache
    def people():
        if service is None:
            from album.people.service import PeopleService

            return PeopleService(catalog)
        return service() if callable(service) else service

    last = int(catalog.get_setting(SETTING, "0") or 0)
    current = catalog.db.execute("SELECT coalesce(max(id), 0) FROM scan_runs").fetchone()[0]
    where = "status = 'done'"
    params: list[object] = []
    if not all_photos and last:
        where += " AND scan_run_id > ? AND scan_run_id <= ?"
        params = [last, current]
    rows = catalog.db.execute(f"SELECT id FROM photos WHERE {where} ORDER BY id", params)
    ids = [r[0] for r in rows.fetchall()]
    result = NamesImport()
    pairs = result.pairs
    listings: dict[Path, set[str]] = {}
    for i, photo_id in enumerate(ids):
        if progress is not None:
            progress(i, len(ids))
        photo = catalog.photo(photo_id)
        if photo is None or not photo.width or not photo.height:
            continue
        result.photos += 1
        regions, problems = photo_regions(photo.path, listings)
        result.problems += problems
        if not regions:
            continue
        result.regions += len(regions)
        found, missed = match_photo(catalog, photo, regions)
        result.problems += [f"{photo.path}: no face found where {n!r} is" for n in missed]
        for face_id, name in found:
            if _decided(people(), face_id, name):
                result.kept += 1
            else:
                pairs.append((face_id, name))
    if dry_run:
        return result
    if pairs:
        done, clashes = people().label_faces(pairs, action="metadata names")
        result.named = done
        result.kept += len(pairs) - done - len(clashes)
        result.problems += clashes
    if current > last:
        with catalog.write():
            catalog.set_setting(SETTING, str(current))
    if progress is not None:
        progress(len(ids), len(ids))
    return result
