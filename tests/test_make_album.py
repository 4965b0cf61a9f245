"""benchmarks/make_album.py: validation albums (split, cast, damage) and their truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_album import TIGHT_MARGIN, Damage, _rotated_box, make_album  # noqa: E402

from album.evaluation.splits import person_split  # noqa: E402


def test_rotated_box_is_the_axis_aligned_box_of_the_turned_box() -> None:
    box = [10.0, 20.0, 50.0, 80.0]  # 40 x 60, centre (30, 50)
    assert _rotated_box(box, (30.0, 50.0), 0.0) == pytest.approx(box)
    # a quarter turn swaps width and height about the centre
    assert _rotated_box(box, (30.0, 50.0), 90.0) == pytest.approx([0.0, 30.0, 60.0, 70.0])
    # 45 degrees: a square of side (w + h) / sqrt(2)
    r = _rotated_box(box, (30.0, 50.0), -45.0)
    side = 100 / np.sqrt(2)
    assert r == pytest.approx([30 - side / 2, 50 - side / 2, 30 + side / 2, 50 + side / 2])


@pytest.mark.parametrize("angle", [-45.0, -20.0, 10.0, 33.3, 45.0])
def test_upright_box_of_a_rotated_truth_face_is_recovered(angle: float) -> None:
    from album.evaluation.scan_bench import match_truth, upright_box

    face = [100.0, 200.0, 180.0, 300.0]  # 80 x 100
    box = [round(v, 1) for v in _rotated_box(face, (140.0, 250.0), angle)]
    record = {"box": box, "damage": {"width": 80, "rotation": angle}}
    assert upright_box(record) == pytest.approx(face, abs=0.5)
    assert upright_box({"box": face, "damage": {"width": 80, "rotation": 0.0}}) is None
    # a detector's upright box of the face matches the rotated face, whatever the angle
    assert match_truth([face], [record]) == [(0, 0)]


@pytest.fixture(scope="module")
def damaged(lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """4 small photos of a 3-person held-out cast, with every damage made frequent."""
    out = tmp_path_factory.mktemp("damaged")
    damage = Damage(
        blur_share=0.5,
        rotate_share=0.5,
        grayscale_share=0.5,
        tight_share=0.5,
        small_share=0.3,
        turned_share=0.5,
    )
    truth = make_album(
        lfw,
        out,
        4,
        size=(900, 700),
        faces=(2, 3),
        face_size=(60, 160),
        seed=11,
        split="test",
        people=3,
        per_person=4,
        damage=damage,
    )
    return out, truth


def test_truth_is_consistent_with_the_photos(damaged: tuple[Path, dict], lfw: Path) -> None:
    out, truth = damaged
    assert json.loads((out / "truth.json").read_text()) == truth
    assert truth["split"] == "test" and truth["seed"] == 11 and len(truth["people"]) == 3
    assert all(person_split(p) == "test" for p in truth["people"])
    assert set(truth["photos"]) == set(truth["photo_info"]) and len(truth["photos"]) == 4
    d = truth["damage"]
    for name, records in truth["photos"].items():
        info = truth["photo_info"][name]
        im = Image.open(out / name)
        assert list(im.size) == info["size"]
        assert im.mode == ("L" if info["grayscale"] else "RGB")
        assert d["jpeg_quality"][0] <= info["jpeg_quality"] <= d["jpeg_quality"][1]
        identities = [r["identity"] for r in records]
        assert len(set(identities)) == len(identities)  # one person at most once per photo
        assert set(identities) <= set(truth["people"])
        for r in records:
            left, top, right, bottom = r["box"]
            assert 0 <= left < right <= im.width and 0 <= top < bottom <= im.height
            assert r["source"].startswith(r["identity"] + "/") and (lfw / r["source"]).is_file()
            assert -90 <= r["yaw"] <= 90
            dm = r["damage"]
            assert dm["grayscale"] == info["grayscale"] and dm["tight_crop"] == info["tight_crop"]
            assert dm["jpeg_quality"] == info["jpeg_quality"]
            assert dm["blur"] == 0 or 0.01 * dm["width"] <= dm["blur"] <= 0.04 * dm["width"]
            assert dm["rotation"] == 0 or 10 <= abs(dm["rotation"]) <= 45
            if dm["rotation"] == 0 and not dm["tight_crop"]:
                assert right - left == pytest.approx(dm["width"], abs=0.2)
            elif dm["rotation"]:  # the axis-aligned box of a turned box is wider
                assert right - left > dm["width"]


def test_tight_crops_are_one_face_cut_to_its_box(damaged: tuple[Path, dict]) -> None:
    _, truth = damaged
    tight = [n for n, i in truth["photo_info"].items() if i["tight_crop"]]
    assert tight, "seed 11 with tight_share 0.5 makes tight crops"
    for name in tight:
        (r,) = truth["photos"][name]
        w, h = truth["photo_info"][name]["size"]
        assert max(w, h) < 1000  # a profile picture, not a 12 MP photo
        assert r["damage"]["rotation"] == 0
        bw, bh = r["box"][2] - r["box"][0], r["box"][3] - r["box"][1]
        # the face box plus 10% (less where the source image ends)
        assert bw <= w <= bw * (1 + TIGHT_MARGIN) + 2 and bh <= h <= bh * (1 + TIGHT_MARGIN) + 2
        assert 60 <= r["damage"]["width"] <= 300


def test_damage_ranges_and_pose_are_recorded(damaged: tuple[Path, dict]) -> None:
    _, truth = damaged
    records = [r for rs in truth["photos"].values() for r in rs]
    widths = [r["damage"]["width"] for r in records]
    assert min(widths) >= 24 and max(widths) <= 300
    assert any(r["damage"]["blur"] > 0 for r in records)
    assert any(r["damage"]["rotation"] != 0 for r in records)
    assert set(truth["damage"]) == set(Damage.__dataclass_fields__)
    assert truth["damage"]["tight_share"] == 0.5 and truth["damage"]["small"] == [24, 60]


def test_cfp_album_holds_real_side_views_of_one_half_of_the_people(cfp: Path, tmp_path) -> None:
    truth = make_album(
        Path("unused"),
        tmp_path / "album",
        photos=12,
        size=(1600, 1200),
        faces=(1, 3),
        face_size=(80, 200),
        seed=3,
        split="test",
        people=3,
        cfp=cfp,
        side_share=0.3,
    )
    records = [r for v in truth["photos"].values() for r in v]
    assert truth["source"] == "cfp" and len(truth["people"]) == 3
    assert {r["identity"] for r in records} <= set(truth["people"])
    assert all(person_split(p.removeprefix("cfp-")) == "test" for p in truth["people"])
    sides = [r for r in records if r["profile"]]
    assert 0 < len(sides) < len(records)
    assert all("/profile/" in r["source"] for r in sides)
    assert all((cfp / r["source"]).is_file() for r in records)
    # the truth records the stored yaw (models.pose.estimate_yaw), which calls most of CFP's
    # side views profiles (its recall is measured in tests/test_pose.py); frontal ones not
    assert np.mean([abs(r["yaw"]) >= 50 for r in sides]) >= 0.75
    assert not any(abs(r["yaw"]) >= 50 for r in records if not r["profile"])
    for name, faces in truth["photos"].items():
        assert Image.open(tmp_path / "album" / name).size == (1600, 1200)
        assert len({r["identity"] for r in faces}) == len(faces)
