"""Questions the people service answers without changing anything: are two faces one
person, who is this face, which "same person?" questions are worth asking the user, which
people may be one, and how a person who is really several would split."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from album.people.errors import PeopleError
from album.people.group_store import GroupingStore
from album.people.overview import best_faces, face_rank
from album.people.split import SplitProposal, SubGroup, plan_split
from album.people.verification import (
    MergeSuggestion,
    Question,
    Verdict,
    merge_suggestions,
    same_person_queue,
    verify,
)

# A person's side views asked about at once: more than this many wait for the next batch.
BATCH_SIZE = 6
EXAMPLES = 3  # the person's best (frontal) faces shown beside them


@dataclass(frozen=True)
class SideViewBatch:
    """ "Which of these side views are this person?": side views (``faces``, most likely
    first, each with the probability the queue shows for it) asked about one person at
    once, beside that person's best faces (``examples``)."""

    person_id: int
    faces: tuple[int, ...]
    probabilities: tuple[float, ...]
    examples: tuple[int, ...]
    score: float = 0.0  # what its answer is expected to fix: its questions' scores summed


class PeopleReview(GroupingStore):
    """Verification, identification, the question queue and split proposals."""

    def verify(self, face_a: int, face_b: int) -> Verdict:
        va, vb = self._vectors([face_a, face_b])
        return verify(va, vb, self.spec)

    def identify(self, vectors: np.ndarray) -> list:
        """Recognition decisions (``album.people.recognition.Match``) for embeddings of faces
        that need not be in the catalog."""
        from album.people.recognition import identify

        return identify(
            np.atleast_2d(vectors), self.gallery(), self.threshold, self.settings.recognition
        )

    def queue(self, limit: int = 20, calibrated: bool = True) -> list[tuple[Question, int, int]]:
        """The most useful "same person?" questions: (question, face a id, face b id).
        ``calibrated``: False ranks and shows the model's raw probabilities (for fitting the
        calibration, ``album eval calibration``)."""
        ids, x, labels, fixed = self._state()
        if len(ids) < 2:
            return []
        pos = {int(f): i for i, f in enumerate(ids)}
        answered = [(pos[a], pos[b]) for a, b in self._answered() if a in pos and b in pos]
        quality, yaw = self._pose(ids)
        qs = same_person_queue(
            x,
            labels,
            self.threshold,
            self.probability,
            fixed=fixed,
            answered=answered,
            forbidden=self._forbidden_people(ids, labels),
            limit=limit,
            yaw=yaw,
            quality=quality,
            calibration=self.spec.question_calibration if calibrated else None,
            groups=self.spec.group_calibration if calibrated else None,
        )
        return [(q, int(ids[q.a]), int(ids[q.b])) for q in qs]

    def merge_suggestions(self, limit: int = 20) -> list[tuple[MergeSuggestion, int, int]]:
        """Pairs of people who may be one, closest first: (suggestion, face a, face b);
        ``suggestion.a`` / ``.b`` are person ids."""
        ids, x, labels, _ = self._state()
        if len(ids) < 2:
            return []
        sugg = merge_suggestions(
            x,
            labels,
            self.threshold,
            self.probability,
            forbidden=self._forbidden_people(ids, labels),
        )
        return [(m, int(ids[m.face_a]), int(ids[m.face_b])) for m in sugg[:limit]]

    def split_proposal(self, person_id: int, groups: int | None = None) -> SplitProposal:
        """The person's faces regrouped into sub-groups (``album.people.split``), for a person
        who is really two or more people. ``groups``: exactly this many sizeable sub-groups."""
        p = self.active(person_id)
        members = self._positive(p.id)
        if len(members) < 2:
            n = len(members)
            raise PeopleError(
                f"{self._label(p.id)} has {n} face{'' if n == 1 else 's'}: nothing to split"
            )
        ids = sorted(members)
        row = {f: i for i, f in enumerate(ids)}
        facts = self._face_facts(ids)
        by_photo: dict[str, list[int]] = defaultdict(list)
        for f in ids:
            by_photo[facts[f][0]].append(row[f])
        cannot = [(a, b) for rows in by_photo.values() for a in rows for b in rows if a < b]
        for a, partners in self._cannot_partners(ids).items():
            cannot += [(row[a], row[b]) for b in partners if a in row and b in row and a < b]
        must = [(row[a], row[b]) for a, b in self._must_links() if a in row and b in row]
        yaw = np.array([facts[f][1] or 0.0 for f in ids], dtype=np.float64)
        labels = plan_split(
            self._vectors(ids), cannot, must, self.threshold, groups=groups, yaw=yaw
        )
        out = []
        for c in range(int(labels.max()) + 1):
            faces = [ids[i] for i in np.flatnonzero(labels == c)]
            faces.sort(key=lambda f: face_rank(members[f], facts[f][1], facts[f][2], f))
            out.append(
                SubGroup(
                    tuple(faces),
                    sum(members[f] == "confirmed" for f in faces),
                    len({facts[f][0] for f in faces}),
                )
            )
        keep = max(range(len(out)), key=lambda i: (out[i].confirmed, len(out[i].faces), -i))
        return SplitProposal(p.id, tuple(out), keep)

    def side_view_batches(
        self,
        limit: int = 5,
        size: int = BATCH_SIZE,
        questions: list[tuple[Question, int, int]] | None = None,
    ) -> list[SideViewBatch]:
        """The queue's questions about side views (a side view left alone, or at the edge of
        its person) gathered per person they are asked about: one answer settles up to
        ``size`` of them (those whose answers are worth the most). Only people with at least
        two such side views; the batches worth the most first. ``questions``: the queue,
        when the caller has it (else its first 500 are read)."""
        asked: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)
        for q, a, b in self.queue(500) if questions is None else questions:
            if q.kind not in ("loose", "edge") or not q.side_view:
                continue
            target = self.person_of(b)
            if target is not None and a not in asked[target.person_id]:
                asked[target.person_id][a] = (q.probability, q.score)
        batches = []
        for person, faces in asked.items():
            for f in set(self._rejected(person)) & faces.keys():
                del faces[f]  # the user said no already
            if len(faces) < 2:
                continue  # one side view: a plain question
            worth = sorted(faces.items(), key=lambda kv: (-kv[1][1], kv[0]))[:size]
            ranked = sorted(worth, key=lambda kv: (-kv[1][0], kv[0]))  # most likely first
            examples = best_faces(self.catalog, person, EXAMPLES, faces)
            batches.append(
                SideViewBatch(
                    person,
                    tuple(f for f, _ in ranked),
                    tuple(p for _, (p, _) in ranked),
                    tuple(examples),
                    sum(score for _, (_, score) in ranked),
                )
            )
        batches.sort(key=lambda b: (-b.score, b.person_id))
        return batches[:limit]
