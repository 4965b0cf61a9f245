"""Offering a catalog made with an earlier default model the current one, once.

New catalogs use ``models.registry.DEFAULT_MODEL``. A catalog whose faces were embedded with
an earlier default is offered the switch (``album.scan.reembed``): the app asks once, in words,
with the time it will take; the command line says it in ``album status``. A catalog on a model
the user chose (downloaded, trained) is never asked.

>>> offer = switch_offer(catalog)
>>> if offer and user_agrees(offer.words()):
...     Reembedder(catalog, Embedder(offer.proposed)).run()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from album.catalog.store import Catalog, write_transaction
from models.registry import DEFAULT_MODEL, weights_present

# Models that were the default before the current one.
EARLIER_DEFAULTS = ("dlib-resnet-v1",)
# The catalog setting that remembers the default it was offered (asked once).
OFFERED_KEY = "models.offered_default"
# Re-embedding cost with the current default on a 2-core CPU (AVX512-BF16 EPYC, OpenVINO):
# 67 12 MP photos with 226 faces in 6.2 s. Reading a photo, and aligning and embedding a face
# (twice that without native bfloat16, where the networks compute in float32).
SECONDS_PER_PHOTO = 0.03
SECONDS_PER_FACE = 0.02


@dataclass(frozen=True)
class SwitchOffer:
    current: str
    proposed: str
    photos: int  # photos read again
    faces: int  # faces embedded again
    seconds: float  # estimated time on this computer

    def duration(self) -> str:
        """The estimate in words ("about 5 minutes")."""
        minutes = self.seconds / 60
        if minutes < 1.5:
            return "about a minute"
        if minutes < 90:
            return f"about {math.ceil(minutes)} minutes"
        return f"about {minutes / 60:.1f} hours"

    def words(self) -> str:
        return (
            f"Your photos' faces were recognised with {self.current}, the earlier default. "
            f"{self.proposed} is now the default: it tells people apart more reliably, above "
            "all faces seen from the side and people who look alike. Switching embeds the "
            f"{self.faces:,} faces of your {self.photos:,} photos again, {self.duration()} "
            "on this computer; it can be stopped and resumed. Your names, groups and answers "
            "are kept."
        )


def switch_offer(catalog: Catalog) -> SwitchOffer | None:
    """The switch to the current default this catalog should be offered, or None (already on
    it, a model the user chose, no faces, asked before, or the default's weights missing)."""
    current = catalog.model
    if current is None or current == DEFAULT_MODEL or current not in EARLIER_DEFAULTS:
        return None
    if not weights_present(DEFAULT_MODEL):
        return None
    if catalog.get_setting(OFFERED_KEY) == DEFAULT_MODEL:
        return None
    photos, faces = catalog.db.execute(
        "SELECT COUNT(DISTINCT content_hash), COUNT(*) FROM faces"
    ).fetchone()
    if not faces:
        return None
    from models.device import (
        resolve_device,  # torch: only once there is something to offer
        use_bf16,
    )

    per_face = SECONDS_PER_FACE * (1 if use_bf16(resolve_device(None)) else 2)
    seconds = photos * SECONDS_PER_PHOTO + faces * per_face
    return SwitchOffer(current, DEFAULT_MODEL, int(photos), int(faces), seconds)


def mark_offered(catalog: Catalog) -> None:
    """Remember that the catalog was asked (whatever the answer): it is not asked again."""
    with write_transaction(catalog.db):
        catalog.set_setting(OFFERED_KEY, DEFAULT_MODEL)
