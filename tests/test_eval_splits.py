"""The dev/test split of LFW's people, and the held-out mode of ``album eval cluster``."""

from __future__ import annotations

import numpy as np
import pytest

from album.evaluation.lfw_faces import LabelledFaces, select_people
from album.evaluation.splits import in_split, people_in, person_split

NAMES = [f"Person_{i:04d}" for i in range(2000)]


def test_split_is_fixed_by_name_and_about_half() -> None:
    halves = [person_split(n) for n in NAMES]
    assert set(halves) == {"dev", "test"}
    assert 0.45 < halves.count("dev") / len(halves) < 0.55
    assert [person_split(n) for n in NAMES] == halves  # no state, no randomness
    assert person_split("Colin_Powell") == person_split("Colin_Powell")


def test_halves_are_disjoint_and_cover_everyone() -> None:
    dev, test = people_in(NAMES, "dev"), people_in(NAMES, "test")
    assert not set(dev) & set(test)
    assert sorted(dev + test) == sorted(NAMES)
    assert people_in(NAMES, "all") == NAMES
    assert dev == [n for n in NAMES if n in set(dev)]  # input order kept
    assert all(in_split(n, "all") for n in NAMES[:10])


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        in_split("Colin_Powell", "train")


def _faces(found: bool) -> LabelledFaces:
    names = NAMES[:6]
    labels = np.repeat(np.arange(6), 3)
    x = np.eye(18, 8, dtype=np.float32)
    return LabelledFaces(
        embeddings=x,
        quality=np.linspace(0, 1, 18, dtype=np.float32),
        labels=labels,
        identities=names,
        files=[f"{names[k]}/{names[k]}_{i:04d}.jpg" for i, k in enumerate(labels)],
        model="dlib-resnet-v1",
        no_face=2,
        found=np.array([i not in (0, 17) for i in range(18)]) if found else None,
    )


@pytest.mark.parametrize("split", ["dev", "test"])
def test_select_people_keeps_one_half_with_consistent_labels(split: str) -> None:
    faces = _faces(found=True)
    part = select_people(faces, split)
    assert part.identities == [n for n in faces.identities if person_split(n) == split]
    assert len(part.files) == 3 * len(part.identities)
    for i, f in enumerate(part.files):
        j = faces.files.index(f)
        assert part.identities[part.labels[i]] == faces.identities[faces.labels[j]]
        np.testing.assert_array_equal(part.embeddings[i], faces.embeddings[j])
        assert part.quality[i] == faces.quality[j]
    assert part.no_face == int((~part.found).sum())


def test_select_people_from_an_old_cache_has_unknown_no_face() -> None:
    part = select_people(_faces(found=False), "dev")
    assert part.no_face == -1 and part.found is None
    assert select_people(_faces(found=False), "all").no_face == 2


def test_eval_cluster_accepts_a_split() -> None:
    from album.cli import build_parser

    args = build_parser().parse_args(["eval", "cluster", "--data", "x", "--split", "test"])
    assert args.split == "test"
    assert build_parser().parse_args(["eval", "cluster", "--data", "x"]).split == "all"
