"""Catalog rows as dataclasses. Boxes are (left, top, right, bottom) in original photo pixels,
after EXIF orientation; landmarks are five (x, y) points in MTCNN's order, same pixels."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.pose import estimate_yaw

# A face row's box columns, in Box order (for SELECTs that read boxes).
BOX_COLUMNS = "box_left, box_top, box_right, box_bottom"

Box = tuple[float, float, float, float]


def path_to_db(path: str) -> str | bytes:
    """The value stored for ``path``: the text, or its raw bytes if it is not valid UTF-8.

    Linux file names are bytes; Python keeps undecodable ones as surrogate escapes, which
    SQLite cannot store as text.
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_db(value: str | bytes) -> str:
    return os.fsdecode(value) if isinstance(value, bytes) else value


def display_path(path: str) -> str:
    """``path`` printable on one line: undecodable bytes and control characters escaped."""
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Folder:
    id: int
    path: str
    added_at: str
    last_scan_at: str | None


@dataclass(frozen=True)
class Photo:
    """One file. ``status``: 'done' (read, faces stored), 'error' (``error`` says why) or
    'missing' (was catalogued, no longer on disk; its faces and labels are kept)."""

    id: int
    path: str
    folder_id: int | None
    size: int
    mtime_ns: int
    content_hash: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    orientation: int | None
    status: str
    error: str | None
    updated_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Photo:
        return cls(
            id=row["id"],
            path=path_from_db(row["path"]),
            folder_id=row["folder_id"],
            size=row["size"],
            mtime_ns=row["mtime_ns"],
            content_hash=row["content_hash"],
            width=row["width"],
            height=row["height"],
            taken_at=row["taken_at"],
            orientation=row["orientation"],
            status=row["status"],
            error=row["error"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True)
class Face:
    """A face found in photo content ``content_hash`` (shared by every copy of the file)."""

    id: int
    content_hash: str
    box: Box
    landmarks: tuple[tuple[float, float], ...]
    score: float
    quality: float
    yaw: float = 0.0  # estimated head turn in degrees (models.pose): 0 frontal, +-90 profile

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Face:
        return cls(
            id=row["id"],
            content_hash=row["content_hash"],
            box=(row["box_left"], row["box_top"], row["box_right"], row["box_bottom"]),
            landmarks=tuple((float(x), float(y)) for x, y in json.loads(row["landmarks"])),
            score=row["score"],
            quality=row["quality"],
            yaw=stored_yaw(
                row.get("yaw"),
                row["landmarks"],
                (row["box_left"], row["box_top"], row["box_right"], row["box_bottom"]),
            ),
        )


def stored_yaw(yaw: float | None, landmarks: str, box: Sequence[float]) -> float:
    """A face row's yaw: the stored value, else estimated from its landmarks and box (a row
    written without one), else 0 (no landmarks: a face drawn by hand on a synthetic
    catalog)."""
    if yaw is not None:
        return float(yaw)
    points = json.loads(landmarks) if landmarks else []
    if len(points) != 5:
        return 0.0
    return float(estimate_yaw(np.asarray(points, dtype=np.float64), np.asarray(box))[0])


@dataclass(frozen=True)
class Person:
    id: int
    name: str | None
    hidden: bool
    cover_face_id: int | None
    merged_into: int | None
    birth_date: str | None = None  # YYYY-MM-DD, given by the user

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Person:
        return cls(
            row["id"],
            row["name"],
            bool(row["hidden"]),
            row["cover_face_id"],
            row["merged_into"],
            row.get("birth_date"),
        )


@dataclass(frozen=True)
class Assignment:
    """face -> person. ``source``: 'automatic', 'suggested' (machine) or 'confirmed',
    'rejected' (the user's decisions)."""

    face_id: int
    person_id: int
    source: str
    confidence: float | None


@dataclass(frozen=True)
class Constraint:
    id: int
    face_a: int
    face_b: int
    kind: str  # 'cannot-link' or 'must-link'


@dataclass(frozen=True)
class ScanRun:
    id: int
    kind: str
    status: str
    started_at: str
    finished_at: str | None
    model_id: str
    photos_total: int
    photos_done: int
    faces_found: int
    errors: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ScanRun:
        return cls(
            row["id"],
            row["kind"],
            row["status"],
            row["started_at"],
            row["finished_at"],
            row["model_id"],
            row["photos_total"],
            row["photos_done"],
            row["faces_found"],
            row["errors"],
        )


@dataclass(frozen=True)
class StatusCounts:
    folders: int
    photos_done: int
    photos_error: int
    photos_missing: int
    faces: int
    faces_missing: int  # faces whose photo content is no longer present anywhere
    people: int
    embeddings: dict[str, int]  # model id -> faces embedded with it

    @property
    def photos(self) -> int:
        return self.photos_done + self.photos_error + self.photos_missing
