"""The app as installed from a wheel, outside the source tree: its data files (icons, style
sheet, desktop entry) come with it, ``album --version`` and ``album install-desktop`` work,
and the start-up check names a package that shadows ``models``.

The wheel is built from a copy of the repository's package sources (so the checkout gets no
``build/`` folder) without build isolation, and installed with ``--no-deps`` into a fresh
virtual environment that borrows this environment's site-packages through a ``.pth`` line
(a path line only: the editable install's finder there is not run), so nothing is
downloaded and ``album`` can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with album installed from a freshly built wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for pkg in ("album", "models", "training"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=ignore)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", dist, src],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("album-*.whl")
    env = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True)
    python = env / "bin" / "python"
    subprocess.run(
        [*pip, "--python", python, "install", "--no-deps", "--no-index", wheel],
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # This environment's packages (torch, PySide6, ...) after the wheel's own.
    Path(site, "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def _run(env: Path, *args: str | Path, cwd: Path, extra_env: dict | None = None):
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environ.update({"QT_QPA_PLATFORM": "offscreen", **(extra_env or {})})
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
    )


def test_wheel_carries_the_app_resources(installed: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import sys
            from pathlib import Path
            import album, models, training
            from album.resources import icon_names, resource_path, stylesheet
            from album.desktop import shadowed_packages
            from album.gui.app import make_app
            from album.gui.widgets import icon

            env = Path(sys.prefix).resolve()
            for mod in (album, models, training):
                assert env in Path(mod.__file__).resolve().parents, mod.__file__
            assert env in resource_path("style.qss").resolve().parents
            assert "QToolBar" in stylesheet()
            assert {"app", "scan", "yes", "no"} <= set(icon_names())
            assert shadowed_packages() == []
            app = make_app(["album"])
            assert not app.windowIcon().isNull()
            assert app.windowIcon().pixmap(64, 64).width() == 64
            assert not icon("scan").isNull() and icon("no-such-icon").isNull()
            assert "QToolBar" in app.styleSheet()
            assert app.desktopFileName() == "album"
            print("ok")
            """
        )
    )
    out = _run(installed, installed / "bin" / "python", probe, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_installed_commands(installed: Path, tmp_path: Path) -> None:
    album = installed / "bin" / "album"
    out = _run(installed, album, "--version", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "album 0.1.0"

    home = tmp_path / "data"
    out = _run(installed, album, "install-desktop", cwd=tmp_path, extra_env={"XDG_DATA_HOME": home})
    assert out.returncode == 0, out.stderr
    entry = (home / "applications" / "album.desktop").read_text()
    assert f"Exec={album.resolve()} gui\n" in entry
    assert "Icon=album\n" in entry and "Type=Application\n" in entry
    if shutil.which("desktop-file-validate"):  # freedesktop's own checker, where installed
        check = subprocess.run(
            ["desktop-file-validate", home / "applications" / "album.desktop"],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / "album.svg"
    png = home / "icons" / "hicolor" / "256x256" / "apps" / "album.png"
    assert svg.read_bytes().startswith(b"<svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = _run(
        installed,
        album,
        "install-desktop",
        "--uninstall",
        cwd=tmp_path,
        extra_env={"XDG_DATA_HOME": home},
    )
    assert out.returncode == 0, out.stderr
    assert not any(p.exists() for p in (svg, png, home / "applications" / "album.desktop"))


def test_start_up_names_a_shadowing_package(installed: Path, tmp_path: Path) -> None:
    # `python -m album` puts the current folder first on sys.path: a project folder with its
    # own models/ package would be imported instead of album's.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    out = _run(installed, installed / "bin" / "python", "-m", "album", "status", cwd=tmp_path)
    assert out.returncode == 2
    assert "album's package 'models'" in out.stderr
    assert str(tmp_path / "models") in out.stderr
