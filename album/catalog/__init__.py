"""The photo catalog: one SQLite file holding photos, faces, embeddings and the user's decisions.

>>> from album.catalog import Catalog
>>> with Catalog() as cat:                  # $ALBUM_HOME/catalog.db or the user data dir
...     print(cat.counts())
"""

from album.catalog.paths import cache_dir, default_catalog_path
from album.catalog.records import (
    Assignment,
    Constraint,
    Face,
    Folder,
    Person,
    Photo,
    ScanRun,
    StatusCounts,
)
from album.catalog.schema import SCHEMA_VERSION, SchemaError
from album.catalog.store import Catalog

__all__ = [
    "SCHEMA_VERSION",
    "Assignment",
    "Catalog",
    "Constraint",
    "Face",
    "Folder",
    "Person",
    "Photo",
    "ScanRun",
    "SchemaError",
    "StatusCounts",
    "cache_dir",
    "default_catalog_path",
]
