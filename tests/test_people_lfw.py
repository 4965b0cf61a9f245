"""People on real faces: identification of an LFW photo, and the LFW clustering benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs
import pytest
from conftest import lfw_image

from album.catalog import Catalog
from album.cli import main
from album.people.service import PeopleService
from album.people.synthetic import fill_catalog


def test_identify_a_photo_against_named_people(
    lfw: Path, detector, embedder, tmp_path, capsys
) -> None:
    from album.evaluation.lfw import central_face

    people = {"Colin_Powell": [1, 2, 3], "Tony_Blair": [1, 2, 3]}
    vectors, photo_numbers, who = [], [], []
    for name, numbers in people.items():
        for n in numbers:
            im = lfw_image(lfw, name, n)
            face = central_face(detector.detect(im), im.shape[1], im.shape[0])
            vectors.append(embedder.embed(im, [face])[0])
            photo_numbers.append(len(photo_numbers))
            who.append(name)
    db = tmp_path / "album.db"
    with Catalog(db) as cat:
        ids = fill_catalog(cat, np.stack(vectors), photo_numbers, model_id=embedder.name)
        svc = PeopleService(cat)
        svc.enroll(ids[0], "Colin Powell")  # one photo is enough
        svc.enroll(ids[3], "Tony Blair")
    assert (
        main(
            ["--library", str(db), "identify", str(lfw / "Colin_Powell" / "Colin_Powell_0004.jpg")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Colin Powell" in out and "Tony Blair" not in out


@pytest.mark.slow
def test_lfw_clustering_reaches_the_target(lfw: Path) -> None:
    """BCubed F >= 0.97 on LFW people with >= 10 images, default settings, both HDBSCAN
    paths. The first run embeds 4,324 faces (about 20 min on two busy cores), then cached."""
    from album.evaluation.cluster_scores import score_clustering
    from album.evaluation.lfw_faces import load_lfw_faces
    from album.people.clustering import cluster
    from models.registry import get_spec

    cache = Path(platformdirs.user_cache_dir("album", appauthor=False)) / "people-eval"
    faces = load_lfw_faces(lfw, 10, cache=cache)
    assert len(faces.files) == 4324 and len(faces.identities) == 158
    threshold = get_spec(faces.model).threshold  # the default model's, not dlib's
    for path in ("hdbscan", "graph"):
        labels = cluster(faces.embeddings, faces.quality, path=path, threshold=threshold)
        s = score_clustering(faces.labels, labels)
        assert s.bcubed_f >= 0.97, (path, s)
