"""How a catalog groups people: the clustering method and the distances, as saved in the
catalog's settings (``people.*`` keys), so the app and the command line group one catalog
alike."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from album.catalog import Catalog
from album.people.clustering import ClusterSettings
from album.people.keys import (
    ASSIGN_KEY,
    LEGACY_ASSIGN_KEY,
    METHOD_KEY,
    legacy_fraction,
    threshold_scale,
)
from album.people.recognition import RecognitionSettings


@dataclass(frozen=True)
class PeopleSettings:
    """method: 'hdbscan' or 'agglomerative'. threshold_scale: the same-person distance as a
    fraction of the model's threshold (1: the model's own), so that a setting keeps its meaning
    when the catalog switches models. Every distance setting (clustering, recognition) is a
    fraction of the resulting threshold. Saved in the catalog's settings as ``people.*`` keys,
    so the app and the command line group one catalog alike."""

    method: str = "hdbscan"
    threshold_scale: float = 1.0
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    recognition: RecognitionSettings = field(default_factory=RecognitionSettings)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> PeopleSettings:
        method = catalog.get_setting(METHOD_KEY, "hdbscan") or "hdbscan"
        rec = RecognitionSettings()
        assign = catalog.get_setting(ASSIGN_KEY)
        if assign is None and catalog.get_setting(LEGACY_ASSIGN_KEY) is not None:
            legacy = catalog.get_setting(LEGACY_ASSIGN_KEY)
            assign = "off" if legacy == "off" else str(legacy_fraction(catalog, legacy))
        if assign:
            rec = replace(rec, assign_below=None if assign == "off" else float(assign))
        return cls(method=method, threshold_scale=threshold_scale(catalog), recognition=rec)
