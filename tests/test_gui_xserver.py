"""The app under a real X server (Xvfb) with Qt's xcb platform, as a desktop runs it; the other
GUI tests use Qt's offscreen platform. Each test runs the app in a child process: a process's
Qt platform is fixed when its QApplication is made.

``make test-tools`` installs Xvfb and the libraries Qt's xcb plugin links when they are
missing and it can (root with apt-get); otherwise these tests skip and say what is missing.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("superqt")

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]


def _missing_xcb_libraries() -> list[str]:
    """Libraries Qt's xcb platform plugin links that the system lacks (ldd's "not found")."""
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file() or shutil.which("ldd") is None:
        return []  # another layout: let Qt itself say what fails
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    return sorted({ln.split()[0] for ln in out.splitlines() if "not found" in ln})


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A fresh Xvfb server (1280x800, 24-bit); yields its DISPLAY, e.g. ``:1``."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb not found (make test-tools installs it; Debian package xvfb)")
    missing = _missing_xcb_libraries()
    if missing:
        pytest.skip(f"Qt's xcb plugin lacks {', '.join(missing)} (make test-tools installs them)")
    # -displayfd: the server takes a free display number itself and writes it to the pipe,
    # so parallel runs never race for one.
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    try:
        number = b""
        while not number.endswith(b"\n") and select.select([read], [], [], 30)[0]:
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
        if not number.strip():
            server.kill()
            pytest.fail(f"Xvfb did not start: {server.communicate()[1].decode()[-2000:]}")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read)
        server.terminate()
        server.wait(10)


def _run_app(display: str, args: list[str], timeout: float) -> str:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    out = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_first_screen_under_x(display: str, tmp_path: Path) -> None:
    """The app's own start-up report: the window exposed and painted on the X server."""
    out = _run_app(
        display,
        ["-m", "album.gui", "--library", str(tmp_path / "c.db"), "--quit-after-visible"],
        60,
    )
    assert re.search(
        r"visible after [\d.]+ s from process start .* on xcb; first screen: welcome", out
    ), out


def test_scan_under_x_and_screenshot_from_the_server(
    display: str, lfw: Path, tmp_path: Path
) -> None:
    """The stall benchmark (the real window scanning through the job runner) on four LFW
    photos of two people; its screenshots are read back from the X server."""
    from PIL import Image

    album = tmp_path / "album"
    album.mkdir()
    for name in ("Colin_Powell", "Tony_Blair"):
        for i in (1, 2):
            shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", album)
    shots = tmp_path / "shots"
    out = _run_app(display, ["-m", "album.gui.bench", str(album), "--shots", str(shots)], 240)

    assert "platform: xcb" in out, out
    scan = re.search(
        r"scanned (\d+) photos \((\d+) faces\).*longest event-loop stall (\d+) ms", out
    )
    assert scan, out
    assert int(scan[1]) == 4 and int(scan[2]) >= 4, out
    image = Image.open(shots / "people.png").convert("RGB")
    assert image.size == (1280, 800)
    # The window as the server shows it: the app's surfaces and many colours (text, icons, a
    # face tile), not the black of an unpainted framebuffer.
    colours = image.getcolors(1 << 20)
    assert colours is not None and len(colours) > 50
    assert max(colours)[1] != (0, 0, 0)
