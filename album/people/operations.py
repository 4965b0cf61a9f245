"""The user's operations on people: name, merge, split, move, enroll, mark by hand, reject,
hide, birth date, cover, confirm and answer. Each is undoable and runs in one write
transaction (``album.people.undo_log.user_operation``); none overrides a decision the user
made before without saying so (see ``album.people.service``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from album.catalog import Person
from album.people.ages import parse_birth_date
from album.people.errors import ConstraintError, PeopleError
from album.people.overview import best_faces
from album.people.split import SplitPart
from album.people.store import FaceLabel, PeopleStore
from album.people.undo_log import Undo, user_operation


class PeopleOperations(PeopleStore):
    """The undoable user operations (``PeopleService``'s verbs)."""

    @user_operation
    def name(self, person_id: int, name: str) -> Person:
        """Name a person or cluster. A name another person already has merges this one into
        that person. Naming an unnamed cluster confirms its automatic faces."""
        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        p = self.active(person_id)
        other = self.by_name(name)
        if other is not None and other.id != p.id:
            return self.merge(p.id, other.id)
        with self._operation("name") as undo:
            old = p.name
            self._touch(undo, p.id, name=name)
            confirmed = 0
            if old is None:
                auto = {f: "confirmed" for f, s in self._positive(p.id).items() if s == "automatic"}
                confirmed = self._join(undo, p.id, auto)
            undo.summary = (
                f"named cluster {p.id} {name!r}"
                + (f" ({confirmed} faces confirmed)" if confirmed else "")
                if old is None
                else f"renamed {old!r} to {name!r}"
            )
        return self.person(p.id)

    def rename(self, person_id: int, name: str) -> Person:
        """Same as ``name`` (a name in use merges into its holder)."""
        return self.name(person_id, name)

    @user_operation
    def merge(self, source_id: int, target_id: int) -> Person:
        """Merge person ``source_id`` into ``target_id``. Refused if a confirmed face of one is
        in the same photo as, or marked different from, a confirmed face of the other. An
        unnamed source's automatic faces become confirmed (the user vouched for the cluster)."""
        src, dst = self.active(source_id), self.active(target_id)
        if src.id == dst.id:
            raise PeopleError(
                f"{self._label(src.id)} and {self._label(dst.id)} are already one person"
            )
        with self._operation("merge") as undo:
            moved = self._merge_into(undo, src, dst)
            undo.summary = (
                f"merged {self._label(src.id)} into {self._label(dst.id)} ({moved} faces)"
            )
        return self.person(dst.id)

    def _merge_into(self, undo: Undo, src: Person, dst: Person) -> int:
        """Move ``src``'s faces and rejections to ``dst`` and mark it merged; returns how many
        faces moved (see ``merge``)."""
        joining = {}
        for f, s in self._positive(src.id).items():
            joining[f] = (
                "confirmed" if s == "confirmed" or (s == "automatic" and src.name is None) else s
            )
        moved = self._join(undo, dst.id, joining)
        # Faces the source's user rejected are not the target either (unless confirmed).
        for f in self._rejected(src.id):
            mine = self.person_of(f)
            if mine is None or mine.person_id != dst.id or mine.source != "confirmed":
                if mine is not None and mine.person_id == dst.id:
                    self._drop_positive(undo, [f], dst.id)
                self._reject(undo, f, dst.id)
        self._drop_positive(undo, list(self._positive(src.id)), src.id)
        self._touch(undo, src.id, merged_into=dst.id)
        if dst.birth_date is None and src.birth_date is not None:
            self._touch(undo, dst.id, birth_date=src.birth_date)
        if dst.cover_face_id is None and src.cover_face_id is not None:
            members = self._positive(dst.id)
            if src.cover_face_id in members:
                self._touch(undo, dst.id, cover_face_id=src.cover_face_id)
        return moved

    @user_operation
    def split(self, person_id: int, face_ids: Iterable[int], name: str | None = None) -> Person:
        """Take faces out of a person into a new person (or the person called ``name``)."""
        p = self.active(person_id)
        faces = self._require_faces(face_ids)
        members = self._positive(p.id)
        strangers = [f for f in faces if f not in members]
        if strangers:
            raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
        target = self.by_name(name) if name else None
        if target is not None and target.id == p.id:
            raise PeopleError(f"the faces are already {name}")
        with self._operation("split") as undo:
            tid = (
                target.id
                if target is not None
                else self._new_person(undo, name.strip() if name else None)
            )
            self._join(undo, tid, {f: "confirmed" for f in faces}, reject_from_old=True)
            undo.summary = (
                f"split {len(faces)} faces from {self._label(p.id)} into {self._label(tid)}"
            )
        return self.person(tid)

    @user_operation
    def split_apart(self, person_id: int, parts: Sequence[SplitPart]) -> list[Person]:
        """Apply the user's choices for sub-groups of a person in one undoable step: each
        part stays, becomes a new person or goes to a named one (its faces confirmed there and
        rejected here). Returns the people the faces went to."""
        p = self.active(person_id)
        members = self._positive(p.id)
        seen: set[int] = set()
        for part in parts:
            faces = self._require_faces(part.faces)
            strangers = [f for f in faces if f not in members]
            if strangers:
                raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
            if seen & set(faces):
                raise PeopleError(f"face {min(seen & set(faces))} is in two sub-groups")
            seen |= set(faces)
        moving = [
            part
            for part in parts
            if part.to is not None and (not part.to.strip() or self._other(p.id, part.to))
        ]
        if not moving:
            raise PeopleError(f"every sub-group stays with {self._label(p.id)}: nothing to do")
        label = self._label(p.id)
        targets: list[int] = []
        with self._operation("split") as undo:
            for part in moving:
                name = (part.to or "").strip()
                target = self.by_name(name) if name else None
                tid = target.id if target is not None else self._new_person(undo, name or None)
                self._join(undo, tid, {f: "confirmed" for f in part.faces}, reject_from_old=True)
                targets.append(tid)
            moved = sum(len(part.faces) for part in moving)
            undo.summary = f"split {moved} faces of {label} into " + ", ".join(
                dict.fromkeys(self._label(t) for t in targets)
            )
        return [self.person(t) for t in dict.fromkeys(targets)]

    def _other(self, person_id: int, name: str) -> bool:
        """Whether ``name`` is someone other than person ``person_id``."""
        found = self.by_name(name.strip())
        return found is None or found.id != person_id

    @user_operation
    def move(self, face_ids: Iterable[int], person_id: int) -> Person:
        """These faces are this person: confirmed there, rejected from where they were."""
        faces = self._require_faces(face_ids)
        p = self.active(person_id)
        with self._operation("move") as undo:
            self._join(undo, p.id, {f: "confirmed" for f in faces}, reject_from_old=True)
            undo.summary = f"moved {len(faces)} faces to {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def enroll(self, face_id: int, name: str) -> Person:
        """One-shot enrollment: this face is ``name`` (a new person unless the name exists)."""
        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        existing = self.by_name(name)
        if existing is not None:
            return self.move([face_id], existing.id)
        faces = self._require_faces([face_id])
        with self._operation("enroll") as undo:
            pid = self._new_person(undo, name)
            self._join(undo, pid, {faces[0]: "confirmed"}, reject_from_old=True)
            undo.summary = f"face {faces[0]} is {name!r} (new person)"
        return self.person(pid)

    def add_manual_face(self, photo_id: int, box, name: str, embedder=None, detector=None) -> int:
        """A face the scan missed, drawn by hand as ``box`` (original photo pixels) on photo
        ``photo_id``, stored and confirmed as ``name`` (an existing person of that name, else
        a new one) in one undoable operation; returns its face id. Loads the models (slow):
        ``measure_face`` and ``add_face`` split the engine's part from the catalog's."""
        from album.people.manual import measure_face

        if not name.strip():
            raise PeopleError("a name cannot be empty")
        face = measure_face(self.catalog, photo_id, box, self.model_id, embedder, detector)
        return self.add_face(face, name)

    @user_operation
    def add_face(self, face, name: str) -> int:
        """Store a measured hand-marked face (``album.people.manual.ManualFace``) as a face of
        its photo's content with its embedding, and confirm it as ``name``; returns its id.
        Confirmed, it carries user data, so rescans keep it. Undo deletes it again."""
        from album.scan.writer import iou

        name = name.strip()
        if not name:
            raise PeopleError("a name cannot be empty")
        if face.model_id != self.model_id:
            raise PeopleError(
                f"the face was embedded with {face.model_id!r}, not {self.model_id!r}"
            )
        box = tuple(round(float(v), 1) for v in face.box)
        for f in self.catalog.faces_of_photo(face.photo_id):
            if iou(f.box, box) >= 0.5:
                raise PeopleError(f"face {f.id} is already there")
        existing = self.by_name(name)
        with self._operation("add face") as undo:
            fid = self._insert_face(undo, face, box)
            pid = existing.id if existing is not None else self._new_person(undo, name)
            self._join(undo, pid, {fid: "confirmed"})
            undo.summary = f"marked face {fid} by hand as {name!r}" + (
                "" if existing is not None else " (new person)"
            )
        return fid

    @user_operation
    def label_faces(
        self, pairs: Iterable[tuple[int, str]], action: str = "import"
    ) -> tuple[int, list[str]]:
        """Name many faces at once (e.g. from XMP sidecars), as one undoable operation: each
        face is confirmed as the person of that name (created if needed). Faces that would
        clash with a confirmed face are skipped. Returns (faces named, problems)."""
        problems: list[str] = []
        done = 0
        with self._operation(action) as undo:
            people: dict[str, int] = {}
            for face_id, name in pairs:
                name = name.strip()
                key = name.lower()
                if not name or self.catalog.face(face_id) is None:
                    continue
                if key not in people:
                    existing = self.by_name(name)
                    people[key] = existing.id if existing else self._new_person(undo, name)
                cur = self.person_of(face_id)
                if cur is not None and cur.person_id == people[key] and cur.source == "confirmed":
                    continue
                try:
                    with self._savepoint():
                        self._join(undo, people[key], {face_id: "confirmed"}, reject_from_old=True)
                    done += 1
                except ConstraintError as exc:
                    problems.append(f"face {face_id} as {name}: {exc}")
            undo.summary = f"{action}: {done} faces named"
        return done, problems

    @user_operation
    def reject(self, face_ids: Iterable[int], person_id: int | None = None) -> int:
        """Not this person: each face is rejected from ``person_id`` (default: the person it
        is assigned to now). Returns how many rejections were recorded."""
        faces = self._require_faces(face_ids)
        target = self.active(person_id).id if person_id is not None else None
        with self._operation("reject") as undo:
            n = 0
            names = set()
            for f in faces:
                pid = target
                if pid is None:
                    cur = self.person_of(f)
                    if cur is None:
                        continue
                    pid = cur.person_id
                self._reject(undo, f, pid)
                names.add(self._label(pid))
                n += 1
            if n == 0:
                raise PeopleError("none of these faces belongs to anybody")
            undo.summary = (
                f"{n} face{'s' if n != 1 else ''} marked as not {', '.join(sorted(names))}"
            )
        return n

    @user_operation
    def hide(self, person_id: int, hidden: bool = True) -> Person:
        p = self.active(person_id)
        with self._operation("hide" if hidden else "unhide") as undo:
            self._touch(undo, p.id, hidden=int(hidden))
            undo.summary = f"{'hid' if hidden else 'showed'} {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def set_birth_date(self, person_id: int, born: str | date | None) -> Person:
        """Give a person a birth date (YYYY-MM-DD; None clears it): ages in their timeline,
        and a face in a photo taken before it is never grouped as them."""
        p = self.active(person_id)
        value = None
        if born is not None:
            value = (born if isinstance(born, date) else parse_birth_date(born)).isoformat()
        if value == p.birth_date:
            return p
        with self._operation("birth date") as undo:
            self._touch(undo, p.id, birth_date=value)
            undo.summary = (
                f"{self._label(p.id)} born {value}"
                if value
                else f"{self._label(p.id)}: no birth date"
            )
        return self.person(p.id)

    @user_operation
    def set_cover(self, person_id: int, face_id: int) -> Person:
        p = self.active(person_id)
        if face_id not in self._positive(p.id):
            raise PeopleError(f"face {face_id} is not {self._label(p.id)}")
        with self._operation("cover") as undo:
            self._touch(undo, p.id, cover_face_id=int(face_id))
            undo.summary = f"face {face_id} is the cover of {self._label(p.id)}"
        return self.person(p.id)

    @user_operation
    def confirm(self, person_id: int, face_ids: Iterable[int] | None = None) -> int:
        """Confirm a person's suggested and automatic faces (all, or those given)."""
        p = self.active(person_id)
        members = self._positive(p.id)
        wanted = members.keys() if face_ids is None else self._require_faces(face_ids)
        strangers = [f for f in wanted if f not in members]
        if strangers:
            raise PeopleError(f"face {strangers[0]} is not {self._label(p.id)}")
        todo = {f: "confirmed" for f in wanted if members[f] != "confirmed"}
        if not todo:
            return 0
        with self._operation("confirm") as undo:
            n = self._join(undo, p.id, todo)
            undo.summary = f"confirmed {n} faces of {self._label(p.id)}"
        return n

    @user_operation
    def answer(self, face_a: int, face_b: int, same: bool, leaving: int | None = None) -> None:
        """The user's answer to "same person?" for two faces: stored as a must-link or
        cannot-link constraint and applied at once (people merged, a face taken out).

        ``leaving``: on "different" for two faces of one person, the face that leaves it (the
        face the question was about); by default the one that fits the person worse."""
        a, b = sorted(self._require_faces([face_a, face_b]))
        if leaving is not None and leaving not in (a, b):
            raise PeopleError(f"face {leaving} is not one of the two faces answered about")
        if a == b:
            raise PeopleError("a face is always the same person as itself")
        pa, pb = self.person_of(a), self.person_of(b)
        with self._operation("answer") as undo:
            self._save_constraint(undo, a, b)
            if same:
                if self._photos([a, b])[a] == self._photos([a, b])[b]:
                    raise ConstraintError(f"faces {a} and {b} are in the same photo")
                self._constraint(a, b, "must-link")
                undo.summary = f"faces {a} and {b}: same person"
                self._apply_same(undo, a, b, pa, pb)
            else:
                if pa and pb and pa.person_id == pb.person_id:
                    if pa.source == "confirmed" and pb.source == "confirmed":
                        raise ConstraintError(
                            f"faces {a} and {b} are both confirmed as "
                            f"{self._label(pa.person_id)}; move or reject one first"
                        )
                    if pa.source == "confirmed":
                        out = b
                    elif pb.source == "confirmed":
                        out = a
                    elif leaving is not None:
                        out = leaving
                    else:  # the face that fits the person worse leaves
                        out = self._farther(pa.person_id, a, b)
                    if leaving is not None:
                        # "Not this person": re-grouping keeps it away from all their faces,
                        # not only from the one it was shown beside.
                        self._reject(undo, out, pa.person_id)
                    else:
                        self._drop_positive(undo, [out], pa.person_id)
                self._constraint(a, b, "cannot-link")
                undo.summary = f"faces {a} and {b}: different people"

    def _farther(self, person_id: int, a: int, b: int) -> int:
        """Of faces ``a`` and ``b`` of a person, the one further (on average) from the
        person's other faces; ``b`` when the person has no other face."""
        others = [f for f in self._positive(person_id) if f not in (a, b)][:200]
        if not others:
            return b
        ref = self._vectors(others)
        va, vb = self._vectors([a, b])
        da = float(np.linalg.norm(ref - va, axis=1).mean())
        db = float(np.linalg.norm(ref - vb, axis=1).mean())
        return a if da > db else b

    def _apply_same(
        self, undo: Undo, a: int, b: int, pa: FaceLabel | None, pb: FaceLabel | None
    ) -> None:
        if pa and pb and pa.person_id == pb.person_id:
            return
        if pa is None and pb is None:
            pid = self._new_person(undo, None, origin="cluster")
            self._join(undo, pid, {a: "automatic", b: "automatic"})
            return

        # Join the other face (and its cluster) to the side with user data, else the bigger.
        def weight(p: FaceLabel | None) -> tuple:
            if p is None:
                return (-1, -1)
            person = self.person(p.person_id)
            return (
                int(person.name is not None or p.person_id not in self.cluster_ids()),
                len(self._positive(p.person_id)),
            )

        keep, other, other_face = (pa, pb, b) if weight(pa) >= weight(pb) else (pb, pa, a)
        assert keep is not None
        if other is None:
            source = "confirmed" if keep.source == "confirmed" else "automatic"
            self._join(undo, keep.person_id, {other_face: source})
        elif other.person_id in self.cluster_ids():
            joining = {f: s for f, s in self._positive(other.person_id).items()}
            joining[other_face] = "confirmed" if keep.source == "confirmed" else "automatic"
            self._join(undo, keep.person_id, joining)
        else:
            self._merge_into(undo, self.person(other.person_id), self.person(keep.person_id))

    @user_operation
    def answer_side_views(
        self, person_id: int, yes: Iterable[int], no: Iterable[int] = ()
    ) -> tuple[int, int]:
        """The user's answer to a batch of side views (``SideViewBatch``): the faces of
        ``yes`` are this person (confirmed where the person has confirmed faces, else
        linked to the face shown; taken from where they were), those of ``no`` are not
        (rejected: re-grouping never gives them to this person). One undoable step; returns
        (faces joined, faces rejected)."""
        p = self.active(person_id)
        yes_ids = self._require_faces(yes) if yes else []
        no_ids = self._require_faces(no) if no else []
        if not yes_ids and not no_ids:
            raise PeopleError("no face given")
        both = set(yes_ids) & set(no_ids)
        if both:
            raise PeopleError(f"face {min(both)} cannot be both {self._label(p.id)} and not")
        label = self._label(p.id)
        # The face they were shown beside: each answer is also "the same" or "not the same"
        # as it, so re-grouping keeps a side view with the person's frontal faces (a person
        # the user has not confirmed keeps no side view as a confirmed face of its own:
        # confirmed side views are not matched against) and the queue counts the answer.
        shown = best_faces(self.catalog, p.id, 1, [*yes_ids, *no_ids])
        source = "confirmed" if "confirmed" in self._positive(p.id).values() else "automatic"
        with self._operation("side views") as undo:
            joined = self._join(undo, p.id, {f: source for f in yes_ids}, reject_from_old=True)
            for f in no_ids:
                self._reject(undo, f, p.id)
            # (A face that could not join, say one in the same photo as the face shown, is
            # not linked either.)
            now = self._positive(p.id)
            links = [(f, "must-link") for f in yes_ids if f in now]
            links += [(f, "cannot-link") for f in no_ids]
            for f, kind in links if shown else ():
                self._save_constraint(undo, f, shown[0])
                self._constraint(f, shown[0], kind)
            undo.summary = f"side views: {joined} are {label}, {len(no_ids)} are not"
        return joined, len(no_ids)
