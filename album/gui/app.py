"""Starting the app: the QApplication, the style sheet, the main window; then (optionally)
a scan of a folder given on the command line."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from album.gui.widgets import icon
from album.resources import APP_ID, stylesheet

log = logging.getLogger(__name__)

STARTED = time.perf_counter()


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Album")
    app.setOrganizationName("album")
    app.setWindowIcon(icon("app"))
    # Wayland and the task bars match the window to the installed desktop entry by this name.
    app.setDesktopFileName(APP_ID)
    app.setStyleSheet(stylesheet())
    return app


def run(
    folder: str | None = None, library: str | None = None, quit_after_visible: bool = False
) -> int:
    """Open the window (on ``library`` or the default catalog); scan ``folder`` if given.

    ``quit_after_visible`` prints the seconds from process start to the window's first
    paint and quits (used to measure start-up).
    """
    app = make_app(sys.argv[:1])
    from album.gui.main_window import MainWindow

    window = MainWindow(library, QSettings("album", "album"))
    window.show()
    if quit_after_visible:
        when_exposed(window, lambda: (_report_visible(window), app.quit()))
    elif folder:
        path = str(Path(folder).expanduser())
        QTimer.singleShot(0, lambda: window.scan([path]))
    try:
        return app.exec()
    finally:
        from album.gui import core

        # A window closed within seconds of launch: the engine is still loading.
        if not window.wait_for_engine():
            log.warning("the engine was still loading at exit; the process may not end cleanly")
        core.shutdown()


def when_exposed(window, then: Callable[[], object]) -> None:
    """Call ``then`` once the window is on the screen and painted. Under a real display
    server the window is mapped, then exposed, some events after ``show()``; offscreen at once.
    """

    def check() -> None:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            window.repaint()  # paints now, as the first expose does
            then()
        else:
            QTimer.singleShot(5, check)

    QTimer.singleShot(0, check)


def _report_visible(window) -> None:
    """Print the start-up time and what the first screen shows (it is painted by then: the
    People grid or the welcome comes from plain SQL, before the engine loads)."""
    start = _process_start()
    now = time.time()
    page = window.people_page
    if page.stack.currentWidget() is page.view:
        screen = f"people: {page.model.rowCount()}"
    else:
        screen = "welcome" if page.choose.isVisibleTo(page) else page.empty_text.text()
    print(
        f"visible after {now - start:.2f} s from process start "
        f"({time.perf_counter() - STARTED:.2f} s after album.gui.app was imported, "
        f"{time.process_time():.2f} s CPU) on "
        f"{QApplication.platformName()}; first screen: {screen}",
        flush=True,
    )


def _process_start() -> float:
    """The process's start time (Linux /proc), else the import time of this module."""
    try:
        ticks = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time() - (time.perf_counter() - STARTED)
