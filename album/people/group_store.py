"""The people store's whole-catalog side: what recognition, the question queue and
re-grouping read (every face, vector, assignment and constraint at one moment), and the one
write that puts a re-grouping plan (``album.people.regroup``) in the catalog."""

from __future__ import annotations

import numpy as np

from album.catalog.records import BOX_COLUMNS, stored_yaw
from album.catalog.schema import now
from album.people.recognition import Gallery
from album.people.regroup import RegroupPlan, Snapshot
from album.people.store import PeopleStore


class Replan(Exception):
    """The user changed people between a re-grouping's snapshot and its write."""


class GroupingStore(PeopleStore):
    """Reads of the whole catalog's people, and the re-grouping's write."""

    def gallery(self) -> Gallery:
        """Confirmed faces of active people, with their vectors."""
        rows = self._q(
            "SELECT a.face_id, a.person_id, e.vector FROM assignments a "
            "JOIN people p ON p.id = a.person_id JOIN embeddings e ON e.face_id = a.face_id "
            "AND e.model_id = ? WHERE a.source = 'confirmed' AND p.merged_into IS NULL "
            "ORDER BY a.face_id",
            (self.model_id,),
        )
        if not rows:
            return Gallery(np.zeros((0, 0), np.float32), [], [])
        vecs = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows])
        return Gallery(vecs, [r[1] for r in rows], [r[0] for r in rows])

    def _state(self):
        """Every embedded face: ids, vectors, person labels (-1: none), confirmed mask."""
        ids, x = self.catalog.embeddings(self.model_id)
        pos = dict(self._q("SELECT face_id, person_id FROM assignments WHERE source != 'rejected'"))
        conf = {r[0] for r in self._q("SELECT face_id FROM assignments WHERE source = 'confirmed'")}
        labels = np.array([pos.get(int(f), -1) for f in ids], dtype=np.int64)
        fixed = np.array([int(f) in conf for f in ids], dtype=bool)
        return ids, x, labels, fixed

    def _forbidden_people(self, ids: np.ndarray, labels: np.ndarray) -> set[tuple[int, int]]:
        """Pairs of people known to be different: a cannot-link or a shared photo."""
        person = {int(f): int(p) for f, p in zip(ids, labels, strict=True) if p >= 0}
        out = set()
        for a, b in self._q("SELECT face_a, face_b FROM constraints WHERE kind = 'cannot-link'"):
            pa, pb = person.get(a), person.get(b)
            if pa is not None and pb is not None and pa != pb:
                out.add((min(pa, pb), max(pa, pb)))
        for (members,) in self._q(
            "SELECT group_concat(a.person_id) FROM assignments a JOIN faces f "
            "ON f.id = a.face_id WHERE a.source != 'rejected' GROUP BY f.content_hash "
            "HAVING COUNT(*) > 1"
        ):
            ps = sorted({int(v) for v in members.split(",")})
            out.update((p, q) for i, p in enumerate(ps) for q in ps[i + 1 :])
        return out

    def _birth_dates(self) -> tuple[dict[int, str], dict[int, str]]:
        """(person -> birth date, face -> the date of its earliest photo) for the people with a
        birth date; the faces' dates are read only when someone has one."""
        born = dict(
            self._q(
                "SELECT id, birth_date FROM people WHERE birth_date IS NOT NULL "
                "AND merged_into IS NULL"
            )
        )
        if not born:
            return {}, {}
        taken = dict(
            self._q(
                "SELECT f.id, MIN(substr(ph.taken_at, 1, 10)) FROM faces f JOIN photos ph "
                "ON ph.content_hash = f.content_hash WHERE ph.taken_at IS NOT NULL GROUP BY f.id"
            )
        )
        return born, taken

    def _pose(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quality and yaw (degrees) of the faces ``ids``, in their order."""
        rows = {
            f: (q, stored_yaw(y, lm, box))
            for f, q, y, lm, *box in self._q(
                f"SELECT id, quality, yaw, landmarks, {BOX_COLUMNS} FROM faces"
            )
        }
        pairs = [rows.get(int(f), (1.0, 0.0)) for f in ids]
        return (
            np.array([q for q, _ in pairs], dtype=np.float64),
            np.array([y for _, y in pairs], dtype=np.float64),
        )

    def _user_version(self) -> tuple[int, int]:
        """Changes whenever a user operation is done or undone (the undo log only grows)."""
        row = self._q("SELECT COALESCE(MAX(id), 0), COUNT(undone_at) FROM people_log")[0]
        return int(row[0]), int(row[1])

    def _snapshot(self) -> Snapshot:
        """What re-grouping reads (inside ``begin_read``: one moment of the catalog)."""
        ids, x = self.catalog.embeddings(self.model_id)
        photo = dict(self._q("SELECT id, content_hash FROM faces"))
        quality, yaw = {}, {}
        for f, q, y, lm, *box in self._q(
            f"SELECT id, quality, yaw, landmarks, {BOX_COLUMNS} FROM faces"
        ):
            quality[f], yaw[f] = q, stored_yaw(y, lm, box)
        active = {r[0] for r in self._q("SELECT id FROM people WHERE merged_into IS NULL")}
        confirmed: dict[int, int] = {}
        rejected: set[tuple[int, int]] = set()
        machine_before: dict[int, int] = {}
        for f, p, s in self._q("SELECT face_id, person_id, source FROM assignments"):
            if s == "confirmed":
                confirmed[f] = p
            elif s == "rejected":
                rejected.add((f, p))
            else:
                machine_before[f] = p
        return Snapshot(
            ids,
            x,
            photo,
            quality,
            yaw,
            active,
            confirmed,
            rejected,
            machine_before,
            self._q("SELECT face_a, face_b, kind FROM constraints"),
            *self._birth_dates(),
        )

    def _answered(self) -> list[tuple[int, int]]:
        """Pairs of faces the user answered about (either way)."""
        return self._q("SELECT face_a, face_b FROM constraints")

    def _write_regroup(
        self, plan: RegroupPlan, snapshot_clusters: set[int], version: tuple[int, int], replan: bool
    ) -> tuple[int, int]:
        """Write ``plan`` in one transaction taken up front; returns (clusters made, clusters
        dropped). The user may have worked since the snapshot (``version``): then raise
        ``Replan`` if ``replan``, else write around the user's changes. Triggers already drop
        machine rows for faces confirmed or rejected meanwhile."""
        recognised, mapping = plan.recognised, dict(plan.mapping)
        new_clusters = 0
        t = now()
        with self.catalog.write():
            changed = self._user_version() != version
            if changed and replan:
                raise Replan
            # Only people that are still clusters (no user data: named, merged, confirmed or
            # rejected faces, hidden, cover) may be dropped, so no ON DELETE CASCADE can take
            # a user decision; and only those of the snapshot, not one made meanwhile.
            old_clusters = snapshot_clusters & self.cluster_ids()
            alive = {r[0] for r in self._q("SELECT id FROM people WHERE merged_into IS NULL")}
            self.db.execute("DELETE FROM assignments WHERE source IN ('automatic', 'suggested')")
            rows = [(f, p, s, d, t) for f, (p, s, d) in recognised.items() if p in alive]
            for c in sorted(set(plan.clustered.values())):
                if mapping.get(c) not in alive:  # new, or its person was merged or removed
                    mapping[c] = self.db.execute(
                        "INSERT INTO people (name, origin, created_at, updated_at) "
                        "VALUES (NULL, 'cluster', ?, ?)",
                        (t, t),
                    ).lastrowid
                    new_clusters += 1
            for f, c in plan.clustered.items():
                if (f, mapping[c]) not in plan.blocked:
                    rows.append((f, mapping[c], "automatic", None, t))
            # Faces a scan (or purge) deleted since the snapshot are skipped.
            self.db.conn.executemany(
                "INSERT INTO assignments (face_id, person_id, source, confidence, updated_at) "
                "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)",
                [(*r, r[0]) for r in rows],
            )
            if changed:  # constraints or confirmed faces added meanwhile: the machine gives way
                self._repair({r[1] for r in rows})
            dropped = [p for p in old_clusters if p not in mapping.values()]
            for s in range(0, len(dropped), 900):
                chunk = dropped[s : s + 900]
                self.db.execute(
                    f"DELETE FROM people WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            self.catalog.set_setting("people.clustered_at", t)
            self.catalog.set_setting("people.cluster_model", self.model_id)
        return new_clusters, len(dropped)
