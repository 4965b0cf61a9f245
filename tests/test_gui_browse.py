"""Browsing photos by person in the app, driven through real widgets (pytest-qt, offscreen):
the person page opening on Photos, the photo viewer (next / previous, zoom, the file outside
the app), the People grid's sort, "More people" fold and hidden people.

The album is test_gui's: 12 LFW photos of three people, scanned with the real engine.
Set ALBUM_GUI_SCREENSHOTS=DIR to save screenshots.
"""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import hashlib
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")
pytest.importorskip("superqt")

from PySide6.QtCore import QObject, QPointF, Qt, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication
from test_gui import _open, _window, album, scanned, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.gui


@pytest.fixture
def dated(scanned: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the scanned catalog whose photos have EXIF dates in three months."""
    from album.catalog import Catalog

    catalog = tmp_path / "catalog.db"
    shutil.copy(scanned, catalog)
    with Catalog(catalog) as cat:
        for i, (pid,) in enumerate(cat.db.execute("SELECT id FROM photos ORDER BY id").fetchall()):
            taken = f"20{20 + i % 3}-0{1 + i % 3}-1{i % 9}T12:00:00"
            cat.db.execute("UPDATE photos SET taken_at = ? WHERE id = ?", (taken, pid))
    return catalog


class _Urls(QObject):
    """Stands in for the desktop: records the URLs the app asks it to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot("QUrl")
    def open(self, url) -> None:
        self.opened.append(url.toLocalFile())


def _digest(path: str) -> str:
    return hashlib.blake2b(Path(path).read_bytes()).hexdigest()


def test_viewer_next_previous_zoom_and_the_file_outside(qtbot, dated: Path, tmp_path) -> None:
    w = _window(qtbot, dated, tmp_path)
    page = w.person_page
    with qtbot.waitSignal(page.photos_loaded, timeout=10_000):
        pid = _open(qtbot, w, 0, view="photos")
    ids = page.photos_model.photo_ids()
    assert len(ids) >= 3
    view, model = page.photo_view, page.photos_model
    second = model.index(model._row_of[ids[1]])
    view.setCurrentIndex(second)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    v = w.viewer
    assert v is not None and v.isVisible() and v.photo.id == ids[1]
    assert v.photo_ids == ids and v.position.text() == f"2 of {len(ids)}"
    before = {i: _digest(w.session.catalog.photo(i).path) for i in ids}

    # The photo's date, size and path, and who is in it (names on the boxes too).
    d = v.details
    assert d is not None and d.path in v.title.text() and d.summary() == v.info.text()
    assert d.taken.strftime("%B %Y").split()[1] in v.info.text() and "KB" in v.info.text()
    name = w.session.catalog.person(pid).name or "Unnamed"
    assert v.people.text().startswith("In this photo:")
    assert any(f[2].rstrip("?") == name for f in v.canvas.faces)

    # Next / previous with the keys and the buttons, within the person's photos.
    qtbot.keyClick(v, Qt.Key.Key_Right)
    assert v.photo.id == ids[2]
    qtbot.mouseClick(v.prev_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(v, Qt.Key.Key_Left)
    assert v.photo.id == ids[0] and not v.prev_button.isEnabled()
    qtbot.keyClick(v, Qt.Key.Key_Left)  # stays on the first
    assert v.photo.id == ids[0]
    qtbot.keyClick(v, Qt.Key.Key_End)
    assert v.photo.id == ids[-1] and not v.next_button.isEnabled()
    qtbot.mouseClick(v.next_button, Qt.MouseButton.LeftButton)
    assert v.photo.id == ids[-1]
    qtbot.keyClick(v, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: v.canvas.pixmap is not None, timeout=20_000)

    # Zoom: fit, 100 %, the wheel (zooming in around the cursor), back to fit.
    assert v.canvas.zoom is None and not v.fit_button.isEnabled()
    fit = v.canvas.scale()
    assert fit > 1  # LFW photos are 250 px: fitting enlarges them
    qtbot.mouseClick(v.actual_button, Qt.MouseButton.LeftButton)
    assert v.canvas.zoom == 1.0 and v.canvas.scale() == 1.0 and v.zoom_text.text() == "100%"
    v.fit()
    centre = QPointF(v.canvas.width() / 2, v.canvas.height() / 3)
    under = v.canvas.to_photo(centre)
    v.canvas.wheel_zoom.emit(3.0, centre)  # what three notches of the wheel send
    assert v.canvas.zoom == pytest.approx(fit * 1.25**3)
    assert v.canvas.width() > v.area.viewport().width()  # scrolls now
    # the photo point that was under the cursor is still under it
    moved = v.canvas.mapTo(v.area.viewport(), v.canvas.to_widget(under))
    assert abs(moved.x() - centre.x()) <= 2 and abs(moved.y() - centre.y()) <= 2
    qtbot.keyClick(v, Qt.Key.Key_Minus)
    assert v.canvas.zoom == pytest.approx(fit * 1.25**2)
    qtbot.keyClick(v, Qt.Key.Key_F)
    assert v.canvas.zoom is None and v.canvas.scale() == pytest.approx(fit)
    shot(qtbot, v, w.thumbs, "photo-viewer")

    # Show in folder and open with the default application: URLs for the desktop.
    urls = _Urls()
    QDesktopServices.setUrlHandler("file", urls, "open")
    try:
        qtbot.mouseClick(v.folder_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(v.open_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    path = w.session.catalog.photo(ids[0]).path
    assert urls.opened == [str(Path(path).parent), path]
    # a file that went away: said in words, nothing opened
    gone = w.session.catalog.photo(ids[1]).path
    qtbot.keyClick(v, Qt.Key.Key_Right)
    moved_to = tmp_path / "elsewhere.jpg"
    shutil.move(gone, moved_to)
    try:
        assert not v.open_externally() and "not there any more" in v.note.text()
    finally:
        shutil.move(moved_to, gone)
    assert {i: _digest(w.session.catalog.photo(i).path) for i in ids} == before  # untouched

    # A face box opens its person.
    r = v.canvas._rect(v.canvas.faces[0][1])
    with qtbot.waitSignal(v.person_requested):
        qtbot.mouseClick(v.canvas, Qt.MouseButton.LeftButton, pos=r.center().toPoint())
    w.close()


@contextlib.contextmanager
def _one_photo_thumbs(tmp_path: Path, width: int, height: int):
    """A thumbnail cache (started) over a catalog of one plain photo; yields it and the
    photo's id."""
    import numpy as np
    from PIL import Image

    from album.catalog import Catalog
    from album.gui.thumbs import ThumbnailCache
    from album.people.synthetic import fill_catalog, synthetic_people

    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.full((height, width, 3), 120, np.uint8)).save(photo)
    x, _ = synthetic_people(1, 1, seed=1)
    db = tmp_path / "c.db"
    with Catalog(db) as cat:
        fill_catalog(cat, x, [0], size=(width, height))
        cat.db.execute("UPDATE photos SET path = ?", (str(photo),))
        pid = cat.db.execute("SELECT id FROM photos").fetchone()[0]
    thumbs = ThumbnailCache(db, tmp_path / "thumbs")
    thumbs.start()
    try:
        yield thumbs, pid
    finally:
        thumbs.close()


def test_full_size_photo_for_zooming_in(qtbot, tmp_path: Path) -> None:
    """Past the cached 1600 px rendition, the viewer shows the photo at its own size."""
    with _one_photo_thumbs(tmp_path, 2400, 1800) as (thumbs, pid):
        key = ("full", pid, 0)
        assert thumbs.get(key) is None
        qtbot.waitUntil(lambda: thumbs.get(key) is not None, timeout=20_000)
        pm = thumbs.get(key)
        assert (pm.width(), pm.height()) == (2400, 1800)


def test_stale_thumbnails_stay_until_the_fresh_ones_arrive(qtbot, tmp_path: Path) -> None:
    """After a regrouping the People grid keeps showing the old covers while the new ones
    load (invalidate with keep_stale), instead of placeholders; a plain invalidate forgets."""
    with _one_photo_thumbs(tmp_path, 400, 300) as (thumbs, pid):
        key = ("photo", pid, 64)
        assert thumbs.get(key) is None
        qtbot.waitUntil(lambda: thumbs.get(key) is not None, timeout=20_000)
        old = thumbs.get(key)
        thumbs.invalidate("photo", keep_stale=True)
        assert thumbs.get(key) is old  # shown while the fresh one loads
        qtbot.waitUntil(lambda: thumbs.get(key) is not old, timeout=20_000)
        assert thumbs.get(key) is not None
        thumbs.invalidate("photo")
        assert thumbs.get(key) is None  # forgotten: the caller shows a placeholder


def test_people_sort_more_people_and_hidden(qtbot, dated: Path, tmp_path: Path) -> None:
    from album.catalog import Catalog
    from album.gui.roles import PersonIdRole
    from album.people.overview import people_overview, sort_people
    from album.people.service import PeopleService

    # One face split off on its own: an unnamed person seen in one photo ("More people").
    with Catalog(dated) as cat:
        svc = PeopleService(cat)
        big = max(svc.people(), key=lambda s: s.faces)
        lone = svc.split(big.id, [svc.faces_of(big.id)[0].face_id]).id
        svc.name(big.id, "Zed")
    w = _window(qtbot, dated, tmp_path)
    page = w.people_page
    model, grid = page.model, page.view
    rows = people_overview(w.session.catalog)
    assert model.section_row() is not None and grid.model().rowCount() == len(rows)  # folded
    assert lone not in [grid.model().index(r, 0).data(PersonIdRole) for r in range(len(rows))]
    expected = [r.id for r in sort_people(rows, "photos") if r.id != lone]
    assert [p.id for p in model.people()][: len(expected)] == expected
    shot(qtbot, w, w.thumbs, "people-grid")

    # "More people": a click opens and folds it.
    section = page.filter.mapFromSource(model.index(model.section_row()))
    rect = grid.visualRect(section)
    assert rect.width() > grid.viewport().width() // 2  # a row of its own
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert grid.model().rowCount() == len(rows) + 1 and "▾" in section.data()
    shot(qtbot, w, w.thumbs, "people-more")
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert grid.model().rowCount() == len(rows)
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    grid.setFocus()  # Enter on the heading opens it too
    grid.setCurrentIndex(section)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert grid.model().rowCount() == len(rows) + 1
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert grid.model().rowCount() == len(rows)

    # Sort by name: Zed, the only named person, first; the choice is remembered.
    page.sort.setCurrentIndex(page.sort.findData("name"))
    assert model.person_at(0).name == "Zed"
    assert w.settings.value("people/sort") == "name"
    page.sort.setCurrentIndex(page.sort.findData("recent"))
    assert [p.id for p in model.people()][: len(expected)] == [
        r.id for r in sort_people(rows, "recent") if r.id != lone
    ]

    # Hide Zed with H; the Hidden people list shows them again.
    zed = next(r for r in range(model.rowCount()) if model.data(model.index(r), 0) == "Zed")
    grid.setFocus()
    grid.setCurrentIndex(page.filter.mapFromSource(model.index(zed)))
    grid.selectionModel().clearSelection()
    qtbot.keyClick(grid, Qt.Key.Key_H)
    assert "Zed" not in [p.name for p in model.people()]
    assert page.hidden_button.isEnabled() and "(1)" in page.hidden_button.text()
    # A user decision: it stays through a regroup.
    with qtbot.waitSignal(w.runner.finished, timeout=90_000):
        w.recluster()
    assert "Zed" not in [p.name for p in model.people()]
    assert w.session.catalog.person(big.id).hidden
    qtbot.mouseClick(page.hidden_button, Qt.MouseButton.LeftButton)
    d = w.hidden_dialog
    assert d is not None and d.isVisible() and d.list.count() == 1
    assert d.list.item(0).text().startswith("Zed")
    shot(qtbot, d, w.thumbs, "hidden-people")
    d.list.setCurrentRow(0)
    qtbot.mouseClick(d.show_button, Qt.MouseButton.LeftButton)
    assert "Zed" in [p.name for p in model.people()] and d.list.count() == 0
    assert not page.hidden_button.isEnabled()
    w.undo()  # unhiding is undoable like every people operation
    assert "Zed" not in [p.name for p in model.people()]
    w.close()


def test_first_screen_before_the_engine(qtbot, dated: Path, tmp_path: Path, monkeypatch) -> None:
    """The People grid (or the welcome) shows before the core has loaded: it is plain SQL.
    A person opened meanwhile opens once the core is there."""
    import threading

    from PySide6.QtCore import QSettings

    from album.gui import core
    from album.gui.app import make_app
    from album.gui.main_window import MainWindow

    release = threading.Event()
    monkeypatch.setattr(core, "warm_up", lambda ctx=None: release.wait(60))
    make_app()
    w = MainWindow(dated, QSettings(str(tmp_path / "g.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    page = w.people_page
    assert not w.ready and page.model.rowCount() == 3
    assert page.stack.currentWidget() is page.view
    pid = page.model.person_at(0).id
    w.open_person(pid)
    assert w.stack.currentWidget() is page and "loaded" in w.statusBar().currentMessage()
    with qtbot.waitSignal(w.core_ready, timeout=10_000):
        release.set()
    assert w.stack.currentWidget() is w.person_page and w.person_page.person_id == pid
    w.close()


def test_library_timeline_filtered_by_people(qtbot, dated: Path, tmp_path: Path) -> None:
    from album.gui.photos_model import Heading
    from album.people.photos import photos_with

    w = _window(qtbot, dated, tmp_path)
    cat = w.session.catalog
    grid = w.people_page.model
    ada, bo = grid.person_at(0).id, grid.person_at(1).id
    w.op(lambda s: s.name(ada, "Ada"), "Named")
    w.op(lambda s: s.name(bo, "Bo"), "Named")
    page = w.library_page
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.keyClick(w, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert w.stack.currentWidget() is page
    every = photos_with(cat, [])
    assert page.model.photo_ids() == [p.photo_id for p in every] and len(every) == 12
    months = list(dict.fromkeys(p.taken.strftime("%B %Y") for p in every))
    assert page.model.headings() == months
    assert isinstance(page.model.row_at(0), Heading) and page.counts.text() == "12 photos"
    assert not page.mode.isVisible() and not page.clear_button.isVisible()

    # Type a name: the photos with Ada.
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.keyClicks(page.add, "ada")
        qtbot.keyClick(page.add, Qt.Key.Key_Return)
    assert page.people == [ada] and page.add.text() == ""
    assert page.model.photo_ids() == [p.photo_id for p in photos_with(cat, [ada])]
    assert page.counts.text() == "4 photos with Ada"
    # ... and Bo: never in one photo together (one face per LFW photo), said in words.
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.keyClicks(page.add, "Bo")
        qtbot.keyClick(page.add, Qt.Key.Key_Return)
    assert page.model.photo_ids() == [] and page.stack.currentWidget() is page.empty
    assert page.empty.text() == "No photos with Ada and Bo together yet."
    assert page.mode.isVisible()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.mode.setCurrentIndex(1)  # any of them
    assert page.model.photo_ids() == [p.photo_id for p in photos_with(cat, [ada, bo], True)]
    assert page.counts.text() == "8 photos with Ada or Bo"
    shot(qtbot, w, w.thumbs, "library")
    # An unknown name is said so; nothing changes.
    qtbot.keyClicks(page.add, "Nobody")
    qtbot.keyClick(page.add, Qt.Key.Key_Return)
    assert "No one is named “Nobody”" in page.counts.text() and page.people == [ada, bo]

    # A double click opens the viewer; next / previous go through these photos.
    ids = page.model.photo_ids()
    first = page.view.visualRect(page.model.index(1))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=first.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=first.center())
    v = w.viewer
    assert v is not None and v.isVisible() and v.photo_ids == ids and v.photo.id == ids[0]
    v.close()

    # Remove a chip: Bo only.
    chip = page.chips.itemAt(0).widget()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert page.people == [bo]
    assert page.model.photo_ids() == [p.photo_id for p in photos_with(cat, [bo])]

    # Only them, and without someone: "-name" leaves a person out.
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.mode.setCurrentIndex(page.mode.findData("only"))
    assert page.model.photo_ids() == [p.photo_id for p in photos_with(cat, [bo], only=True)]
    assert page.counts.text() == "4 photos with only Bo"
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert page.people == [] and page.without == [] and page.counts.text() == "12 photos"
    page.add.clear()  # still holds "Nobody", typed above
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.keyClicks(page.add, "-ada")
        qtbot.keyClick(page.add, Qt.Key.Key_Return)
    assert page.people == [] and page.without == [ada]
    assert page.model.photo_ids() == [p.photo_id for p in photos_with(cat, [], without=[ada])]
    assert page.counts.text() == "8 photos without Ada" and page.with_label.text() == "Without:"
    assert page.chips.itemAt(0).widget().text().startswith("not Ada")
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.keyClicks(page.add, "Bo")
        qtbot.keyClick(page.add, Qt.Key.Key_Return)
    assert page.people == [bo] and page.without == [ada]
    assert page.counts.text() == "4 photos with only Bo, without Ada"
    shot(qtbot, w, w.thumbs, "library-without")
    with qtbot.waitSignal(page.loaded, timeout=10_000):  # its chip takes Ada out of the filter
        qtbot.mouseClick(page.chips.itemAt(1).widget(), Qt.MouseButton.LeftButton)
    assert page.without == [] and page.counts.text() == "4 photos with only Bo"

    # From the People grid: select two people, "Photos with them together".
    w.show_people()
    pv = w.people_page.view
    sm = pv.selectionModel()
    sm.clear()
    from PySide6.QtCore import QItemSelectionModel

    for row in (0, 2):
        sm.select(pv.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    picked = w.people_page.selected_people()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        w.people_page.photos_action.trigger()
    assert w.stack.currentWidget() is page and page.people == picked and not page.any_of_them()
    w.close()


def test_people_appear_while_the_scan_runs(qtbot, album: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: F811
    """Live grouping (every 4 photos here): the People grid fills before the scan ends."""
    from album.people import scanning

    monkeypatch.setattr(scanning, "LIVE_EVERY_PHOTOS", 4)
    w = _window(qtbot, tmp_path / "catalog.db", tmp_path)
    groupings: list[int] = []  # photos done at each grouping
    w.runner.progress.connect(lambda p: p.event == "people" and groupings.append(p.done))
    filled: list[tuple[int, bool]] = []  # (people in the grid, scan running) at each update
    model = w.people_page.model
    model.updated.connect(lambda: filled.append((model.rowCount(), w.runner.busy)))
    # Once people are shown, each grouping changes the grid in place (no reset).
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: model.rowCount() and resets.append(model.rowCount()))
    with qtbot.waitSignal(w.runner.finished, timeout=90_000) as sig:
        assert w.scan([str(album)])
    assert sig.args[1].scan.photos == 12
    assert groupings and groupings[0] < 12, "no grouping during the scan"
    assert any(n > 0 and busy for n, busy in filled)  # people shown before the scan's end
    assert resets == []
    assert w.people_page.model.rowCount() == 3
    w.close()
