"""Identity-balanced batches: P identities x K faces each (FaceNet section 3.2).

Only identities with at least two faces can give an anchor-positive pair, so only those are
drawn. An identity with fewer than K faces contributes all of them, topped up by repeats
(the augmentation makes repeated chips differ).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class PKSampler:
    """Batches of indices into ``labels``: P distinct identities, K faces of each.

    An epoch walks through the valid identities in a random order, P at a time, so each is seen
    about equally often; it has ``batches`` batches (default: enough batches for as many faces
    as the valid identities hold). ``epoch_batches(e)`` depends only on (seed, e), which makes
    a resumed run draw the same batches as an uninterrupted one. Iterating the sampler yields
    the batches of ``self.epoch`` (set it with :meth:`set_epoch`, like torch's
    DistributedSampler), so it can serve as a DataLoader ``batch_sampler``.
    """

    def __init__(
        self,
        labels: Sequence[int] | np.ndarray,
        p: int,
        k: int,
        batches: int | None = None,
        seed: int = 0,
    ) -> None:
        labels = np.asarray(labels)
        if p < 2 or k < 2:
            raise ValueError(f"need P >= 2 identities and K >= 2 faces per batch (got {p}x{k})")
        ids, counts = np.unique(labels, return_counts=True)
        valid = ids[counts >= 2]
        if len(valid) < p:
            raise ValueError(
                f"only {len(valid)} identities have two or more faces; a batch needs P={p}"
            )
        self.p, self.k, self.seed, self.epoch = p, k, seed, 0
        self.identities = valid
        self.members = {int(i): np.flatnonzero(labels == i) for i in valid}
        faces = int(sum(len(m) for m in self.members.values()))
        self.batches = batches if batches is not None else max(1, -(-faces // (p * k)))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.epoch_batches(self.epoch):
            yield batch.tolist()

    def epoch_batches(self, epoch: int) -> Iterator[np.ndarray]:
        """The ``batches`` index arrays (P*K,) of ``epoch``, identity-major (K faces of the
        first identity, then the second...)."""
        rng = np.random.default_rng([self.seed, epoch])
        queue: list[int] = []
        for _ in range(self.batches):
            chosen: list[int] = []
            while len(chosen) < self.p:
                if not queue:
                    queue = [int(i) for i in rng.permutation(self.identities)]
                ident = queue.pop()
                if ident in chosen:  # only at a reshuffle: keep it for the next batch
                    queue.insert(0, ident)
                    continue
                chosen.append(ident)
            yield np.concatenate([self._faces(i, rng) for i in chosen])

    def _faces(self, ident: int, rng: np.random.Generator) -> np.ndarray:
        members = self.members[ident]
        if len(members) >= self.k:
            return rng.choice(members, size=self.k, replace=False)
        extra = rng.choice(members, size=self.k - len(members), replace=True)
        return rng.permutation(np.concatenate([members, extra]))
