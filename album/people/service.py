"""``PeopleService``: the People view's operations on a catalog, every one undoable, and
re-clustering that never overrides the user.

>>> from album.catalog import Catalog
>>> from album.people.service import PeopleService
>>> people = PeopleService(Catalog())
>>> people.recluster()                      # recognise known people, cluster the rest
>>> people.name(people.people()[0].id, "Ada")
>>> people.undo()

Vocabulary (see ARCHITECTURE.md, "Catalog"):

* A **person** is a ``people`` row. A **cluster** is a person made by clustering
  (``origin = 'cluster'``) that carries no user data yet: no name, no confirmed or rejected
  face, not hidden, no cover, not part of a merge. Re-clustering may renumber or drop
  clusters; every other person is kept.
* **Machine** assignments (``automatic``, ``suggested``) are rewritten by re-clustering;
  **user** assignments (``confirmed``, ``rejected``) only by the operations below.

Rules every operation keeps (the property tests check them after random sequences):

* no person holds two cannot-linked faces: two faces of one photo, or a pair the user said
  are different (``constraints``); a user decision that would break this is refused with
  ``ConstraintError``, a machine assignment in the way is dropped;
* re-clustering never changes a confirmed assignment and never loses a name;
* a rejected face never returns to the person who rejected it (also enforced by a trigger).

Operations that show the user a whole cluster (naming it, merging it into someone) confirm
the cluster's automatic faces: the user looked at them and said who they are. Suggested faces
stay suggestions until confirmed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from album.people.group_store import Replan
from album.people.offload import cluster  # in a child process when the app asks (the GIL)
from album.people.operations import PeopleOperations
from album.people.regroup import plan_regroup
from album.people.review import PeopleReview

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReclusterSummary:
    faces: int  # faces with an embedding of the model
    confirmed: int  # faces the user confirmed (untouched)
    assigned: int  # recognised and assigned automatically
    suggested: int  # recognised as a suggestion
    clustered: int  # unknown faces put in a cluster
    alone: int  # unknown faces left alone
    clusters: int  # clusters holding them
    new_clusters: int
    dropped_clusters: int
    seconds: float
    path: str  # clustering path taken ("hdbscan", "graph", "agglomerative")


class PeopleService(PeopleOperations, PeopleReview):
    """People operations on ``catalog`` for embeddings of ``model_id`` (default: the
    catalog's model, else the app's default model). The rooms it is built from: the store
    (``album.people.store``, ``album.people.group_store``: the SQL), the undo log
    (``album.people.undo_log``), the user operations (``album.people.operations``), the
    questions (``album.people.review``) and re-grouping (here, planned by
    ``album.people.regroup``)."""

    def recluster(self, method: str | None = None) -> ReclusterSummary:
        """Recognise unconfirmed faces against confirmed ones, cluster the rest, and rewrite
        the machine assignments. Confirmed and rejected assignments, names and every other
        user decision are left as they are; clusters keep their ids where their faces stay
        together.

        A writer job (``album.catalog.lock``): raises ``CatalogLockedError`` while a scan or
        another re-cluster runs. The plan comes from one consistent snapshot and is computed
        outside any transaction, so the user keeps working meanwhile; if the user changed
        something by the time it is written, it is planned once more, and a second change
        only makes the write leave alone what the user touched."""
        from album.catalog.lock import writer_job

        start = time.perf_counter()
        with writer_job(self.catalog, "re-cluster", str(self.catalog.path)):
            try:
                try:
                    return self._recluster(method, start, replan=True)
                except Replan:
                    log.info("re-cluster: the user changed people meanwhile; planning again")
                    return self._recluster(method, start, replan=False)
            finally:
                self.catalog.end_read()  # a snapshot an error left open

    def _recluster(self, method: str | None, start: float, replan: bool) -> ReclusterSummary:
        # The snapshot: every read up to end_read() sees the catalog at one moment.
        self.catalog.begin_read()
        version = self._user_version()
        snapshot_clusters = self.cluster_ids()
        snap = self._snapshot()
        self.catalog.end_read()
        plan = plan_regroup(
            snap,
            self.threshold,
            self.settings.recognition,
            self.settings.cluster,
            method or self.settings.method,
            cluster,
        )
        new_clusters, dropped = self._write_regroup(plan, snapshot_clusters, version, replan)
        recognised = plan.recognised
        index = {int(f) for f in snap.ids}
        return ReclusterSummary(
            faces=len(snap.ids),
            confirmed=sum(1 for f in snap.confirmed if f in index),
            assigned=sum(1 for v in recognised.values() if v[1] == "automatic"),
            suggested=sum(1 for v in recognised.values() if v[1] == "suggested"),
            clustered=len(plan.clustered),
            alone=plan.unknown - len(plan.clustered),
            clusters=plan.clusters,
            new_clusters=new_clusters,
            dropped_clusters=dropped,
            seconds=time.perf_counter() - start,
            path=plan.report.path,
        )
