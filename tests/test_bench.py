"""`album bench scan`: figures scored against a synthetic album's truth, stage times, and the
side-by-side comparison of the earlier default with the current one, each in a fresh
process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_album import make_album  # noqa: E402

from album.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def album(lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench-album")
    make_album(lfw, out, 3, size=(1600, 1200), faces=(1, 2), face_size=(120, 300), seed=3)
    return out


def test_bench_scan_scores_the_album_and_times_every_stage(album, tmp_path, capsys) -> None:
    figures = tmp_path / "figures.json"
    args = ["bench", "scan", str(album), "--truth", str(album / "truth.json")]
    assert main([*args, "--json", str(figures)]) == 0
    out = capsys.readouterr().out
    f = json.loads(figures.read_text())
    truth = json.loads((album / "truth.json").read_text())["photos"]
    assert f["photos"] == 3 and f["truth_faces"] == sum(len(v) for v in truth.values())
    assert f["recall"] == 1.0 and f["precision"] == 1.0
    assert all(f["times"][k] > 0 for k in ("read", "detect", "align", "embed", "store"))
    assert "decode" in out and "align" in out and "write" in out and "openvino" in out


def test_bench_scan_compare_prints_both_defaults_side_by_side(album, capsys) -> None:
    truth = str(album / "truth.json")
    assert main(["bench", "scan", str(album), "--truth", truth, "--compare"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("dlib")]
    assert [r[:2] for r in rows] == [
        ["dlib-resnet-v1", "torch"],
        ["dlib+sface", "torch"],
        ["dlib+sface", "openvino"],
    ]
    assert rows[0][3] == "1.00x"  # the first row is the baseline
    assert all(r[5] == "100.0%" for r in rows)  # recall: every engine finds every face
    assert "decode limit" in out and "machine" in out and "1-photo scan" in out
