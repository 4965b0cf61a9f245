"""The catalog settings that shape the people: their names, and the threshold they set (read
by ``album.people.service.PeopleSettings.from_catalog``, written by the app's Settings dialog
and ``album cluster``). A module of its own so the app can use them without loading the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from album.catalog import Catalog

METHOD_KEY = "people.method"  # "hdbscan" or "agglomerative"
THRESHOLD_KEY = "people.threshold_scale"  # same-person distance: a fraction of the model's
ASSIGN_KEY = "people.assign_fraction"  # assign without asking below this fraction; or "off"
LEGACY_THRESHOLD_KEY = "people.threshold"  # an absolute distance, from before fractions
LEGACY_ASSIGN_KEY = "people.assign_below"  # "off", or an absolute distance


def threshold_scale(catalog: Catalog) -> float:
    """The catalog's same-person threshold as a fraction of its model's (1 when unset). A
    distance saved by an older version is read against the model the catalog used then."""
    value = catalog.get_setting(THRESHOLD_KEY)
    if value:
        return float(value)
    legacy = catalog.get_setting(LEGACY_THRESHOLD_KEY)
    return legacy_fraction(catalog, legacy) if legacy else 1.0


def legacy_fraction(catalog: Catalog, distance: str) -> float:
    """An absolute distance saved by an older version, as a fraction of the threshold of the
    model the catalog used then (1 when it cannot be read)."""
    from models.registry import DEFAULT_MODEL, get_spec

    model = catalog.get_setting("people.cluster_model") or catalog.model or DEFAULT_MODEL
    try:
        return float(distance) / float(get_spec(model).threshold)
    except (KeyError, ValueError, ZeroDivisionError):
        return 1.0
