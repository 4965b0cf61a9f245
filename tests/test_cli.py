"""The command line, end to end on real photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from album.cli import main


def test_compare_same_and_different(lfw, capsys) -> None:
    a = lfw / "Colin_Powell" / "Colin_Powell_0001.jpg"
    b = lfw / "Colin_Powell" / "Colin_Powell_0002.jpg"
    c = lfw / "Serena_Williams" / "Serena_Williams_0001.jpg"
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "A1 - B1" in out and "same person" in out
    assert main(["compare", str(a), str(c)]) == 0
    out = capsys.readouterr().out
    assert "different people" in out


def test_compare_reports_bad_files(tmp_path, capsys) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    assert main(["compare", str(bad), str(bad)]) == 2
    assert "broken.jpg" in capsys.readouterr().err


def test_compare_photo_without_face(lfw, tmp_path, capsys) -> None:
    from PIL import Image

    blank = tmp_path / "wall.png"
    Image.new("RGB", (300, 200), (200, 190, 180)).save(blank)
    face = lfw / "Colin_Powell" / "Colin_Powell_0001.jpg"
    assert main(["compare", str(face), str(blank)]) == 1
    assert "0 faces" in capsys.readouterr().out


def _mini_lfw(lfw: Path, root: Path) -> Path:
    """A one-fold LFW with 6 matched and 6 mismatched pairs, in the official format."""
    matched = [
        ("Colin_Powell", 1, 2),
        ("Tony_Blair", 1, 3),
        ("George_W_Bush", 2, 5),
        ("Serena_Williams", 1, 2),
        ("Hans_Blix", 1, 2),
        ("Yao_Ming", 1, 3),
    ]
    mismatched = [
        ("Colin_Powell", 1, "Tony_Blair", 1),
        ("Serena_Williams", 1, "Yao_Ming", 1),
        ("Hans_Blix", 2, "George_W_Bush", 2),
        ("Tony_Blair", 3, "Serena_Williams", 2),
        ("Yao_Ming", 3, "Colin_Powell", 2),
        ("George_W_Bush", 5, "Hans_Blix", 1),
    ]
    lines = ["1\t6"]
    lines += [f"{n}\t{i}\t{j}" for n, i, j in matched]
    lines += [f"{a}\t{i}\t{b}\t{j}" for a, i, b, j in mismatched]
    for name in {m[0] for m in matched}:
        shutil.copytree(lfw / name, root / name)
    (root / "pairs.txt").write_text("\n".join(lines) + "\n")
    return root


def test_eval_lfw_end_to_end(lfw, tmp_path, capsys) -> None:
    data = _mini_lfw(lfw, tmp_path / "lfw")
    out_json, plot = tmp_path / "r.json", tmp_path / "roc.png"
    assert (
        main(["eval", "lfw", "--data", str(data), "--json", str(out_json), "--plot", str(plot)])
        == 0
    )
    figures = json.loads(out_json.read_text())
    for key in ("accuracy", "accuracy_std", "val_at_far_1e-3", "auc", "no_face"):
        assert key in figures
    assert figures["pairs"] == 12 and figures["accuracy"] == 1.0 and figures["auc"] == 1.0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "accuracy" in capsys.readouterr().out


def test_eval_lfw_without_pairs_file(tmp_path, capsys) -> None:
    assert main(["eval", "lfw", "--data", str(tmp_path)]) == 2
    assert "pairs.txt" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--help"], ["compare", "--help"], ["eval", "lfw", "--help"]])
def test_help(args, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 0
    assert "usage: album" in capsys.readouterr().out


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """`album people | head`: no BrokenPipeError traceback when the reader goes away."""
    import subprocess
    import sys

    from album.catalog import Catalog
    from album.people import PeopleService
    from album.people.synthetic import fill_catalog, synthetic_people

    x, _ = synthetic_people(1500, 2, spread=0.2, seed=1)
    with Catalog(tmp_path / "c.db") as cat:
        fill_catalog(cat, x, list(range(len(x))))
        PeopleService(cat).recluster()
    cmd = [sys.executable, "-m", "album", "--library", str(tmp_path / "c.db"), "people"]
    cmd += ["--limit", "5000"]  # more than a pipe holds
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    err = proc.stderr.read().decode()
    proc.wait(60)
    assert first and "Traceback" not in err and "BrokenPipe" not in err, err
