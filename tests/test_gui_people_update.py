"""The People grid updated in place after a regrouping (a scan's live grouping): only the
people that changed are removed, inserted, moved or repainted, and the grid keeps what the
user had (selection, current person, scroll position, sort, "More people" open or folded).
Driven through the real widgets (pytest-qt, offscreen); no engine needed.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import itertools
import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, QObject, QPersistentModelIndex, QPoint, Signal

pytestmark = pytest.mark.gui


class _Thumbs(QObject):
    """No thumbnails (placeholders): counts what the grid asks for."""

    ready = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.asked: list = []

    def get(self, key):
        self.asked.append(key)
        return None


def _person(pid: int, photos: int, name: str | None = None, hidden: bool = False):
    from album.people.overview import PersonOverview

    latest = datetime(2020, 1, 1) + timedelta(days=pid)
    return PersonOverview(pid, name, hidden, photos, photos, 0, latest)


def _crowd(n: int, seed: int = 0) -> list:
    """``n`` people: every fifth named, counts from 1 to 60 (about a third fold)."""
    rng = random.Random(seed)
    return [
        _person(i, rng.choice([1, 1, 2, rng.randint(3, 60)]), f"P{i:03d}" if i % 5 == 0 else None)
        for i in range(1, n + 1)
    ]


def _shown_page(qtbot, people: list, thumbs: _Thumbs | None = None):
    """A real People page showing ``people``, 1280x800, on the screen."""
    from album.gui.people_page import PeoplePage

    page = PeoplePage(thumbs or _Thumbs())
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.set_people(people)
    page.set_empty(None)
    page.show()
    qtbot.waitExposed(page)
    return page


def _regroup(people: list, rng: random.Random, next_id: int) -> tuple[list, int]:
    """What a live grouping does to the list: some people gone (merged), counts grown,
    a few named, new people."""
    out = []
    for p in people:
        r = rng.random()
        if r < 0.08:
            continue
        if r < 0.35:
            p = replace(p, photos=p.photos + rng.randint(1, 6))
        elif r < 0.38 and p.name is None:
            p = replace(p, name=f"N{p.id}")
        out.append(p)
    for _ in range(rng.randint(0, 25)):
        out.append(_person(next_id, rng.choice([1, 1, 2, 4, 9])))
        next_id += 1
    rng.shuffle(out)  # the overview comes in no particular order
    return out, next_id


def _shown_ids(page) -> list:
    """The grid's rows as the user sees them: person ids, "More" for the heading."""
    from album.gui.roles import PersonIdRole, SectionRole

    m = page.view.model()
    out = []
    for r in range(m.rowCount()):
        ix = m.index(r, 0)
        out.append("More" if ix.data(SectionRole) is not None else ix.data(PersonIdRole))
    return out


def _expected(people: list, sort: str, expanded: bool) -> list:
    from album.people.overview import split_people

    shown, more = split_people(people, sort)
    if not more:
        return [p.id for p in shown]
    return [p.id for p in shown] + ["More"] + ([p.id for p in more] if expanded else [])


def test_model_applies_each_regrouping_as_a_difference(qtbot) -> None:
    """Random regroupings in every sort order, folded and open: the rows are exactly the
    new people in order, every kept index follows its person, and nothing resets."""
    from PySide6.QtTest import QAbstractItemModelTester

    from album.gui.people_model import PeopleModel
    from album.gui.people_page import PeoplePage
    from album.gui.roles import PersonIdRole

    page = PeoplePage(_Thumbs())
    qtbot.addWidget(page)
    model = page.model
    mode = QAbstractItemModelTester.FailureReportingMode.Fatal
    testers = [QAbstractItemModelTester(m, mode) for m in (model, page.filter)]  # noqa: F841
    rng = random.Random(1)
    people = _crowd(120)
    next_id = 1000
    page.set_people(people)
    resets: list = []
    model.modelReset.connect(lambda: resets.append("model"))
    page.filter.modelReset.connect(lambda: resets.append("filter"))
    assert isinstance(model, PeopleModel)
    for step in range(24):
        sort = ("photos", "name", "recent")[step % 3]
        if model.sort != sort:
            page.set_sort(sort)
        page.set_expanded(step % 4 == 1)
        held = {
            QPersistentModelIndex(model.index(r)): model.data(model.index(r), PersonIdRole)
            for r in range(0, model.rowCount(), 7)
        }
        people, next_id = _regroup(people, rng, next_id)
        page.set_people(people)
        assert _shown_ids(page) == _expected(people, sort, page.filter.expanded), step
        assert model.people() == [p for p in model.people() if p in people]
        kept = {p.id for p in people}
        for ix, pid in held.items():
            if pid in kept:
                assert ix.isValid() and ix.data(PersonIdRole) == pid
            elif pid is not None:
                assert not ix.isValid()
        assert all(model.row_of(p.id) is not None for p in people)
    assert resets == []


def test_regrouping_keeps_selection_scroll_and_shows_the_right_people(qtbot) -> None:
    """The grid as the user has it (two people selected, scrolled down, "More people" open)
    stays so through a regrouping that drops, adds and recounts people, and the view shows
    exactly the new people; an empty list, then people again, still work."""
    from album.gui.people_page import PeoplePage
    from album.gui.roles import PersonIdRole

    thumbs = _Thumbs()
    page = PeoplePage(thumbs)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    people = _crowd(400, seed=3)
    page.set_people(people, hidden=2)
    page.set_empty(None)
    page.show()
    qtbot.waitExposed(page)
    view, model = page.view, page.model
    page.set_expanded(True)
    assert _shown_ids(page) == _expected(people, "photos", True)
    assert "(2)" in page.hidden_button.text()

    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum() // 3)
    qtbot.wait(20)
    top = view.indexAt(QPoint(10, 10))
    sm = view.selectionModel()
    # Two people in view, selected; the second current.
    grid = view.model()
    shown = [grid.index(r, 0) for r in range(grid.rowCount())]
    inside = [
        ix
        for ix in shown
        if view.viewport().rect().contains(view.visualRect(ix)) and ix.data(PersonIdRole)
    ]
    visible = inside[len(inside) // 2 : len(inside) // 2 + 2]
    picked = [ix.data(PersonIdRole) for ix in visible]
    assert None not in picked and picked[0] != picked[1]
    sm.clearSelection()
    for ix in visible:
        sm.select(ix, QItemSelectionModel.SelectionFlag.Select)
    sm.setCurrentIndex(visible[1], QItemSelectionModel.SelectionFlag.NoUpdate)
    scrolled = bar.value()
    first_shown = top.data(PersonIdRole)

    # A regrouping: the people above the picked ones stay as they are; people further down
    # merge away or get more photos, new ones arrive under "More people".
    order = [int(i) for i in _expected(people, "photos", True) if i != "More"]
    below = order[order.index(picked[1]) + 40 :]
    gone = set(below[::3])
    grown = set(below[1::3])
    after = [
        replace(p, photos=p.photos + 2) if p.id in grown else p for p in people if p.id not in gone
    ] + [_person(900 + i, 1) for i in range(30)]
    resets: list = []
    page.filter.modelReset.connect(lambda: resets.append(1))
    thumbs.asked.clear()
    page.set_people(after, hidden=3)
    qtbot.wait(50)  # the view's delayed layout

    assert resets == []
    assert _shown_ids(page) == _expected(after, "photos", True)
    assert sorted(page.selected_people()) == sorted(picked)
    assert view.currentIndex().data(PersonIdRole) == picked[1]
    assert bar.value() == scrolled
    assert view.indexAt(QPoint(10, 10)).data(PersonIdRole) == first_shown
    assert "(3)" in page.hidden_button.text()
    assert page.counts.text() == (
        f"{sum(1 for p in after if p.name)} named · {sum(1 for p in after if not p.name)} unnamed"
    )
    # Only visible people asked for their cover again (no reset repainting everything).
    assert thumbs.asked and len(set(thumbs.asked)) < 100

    # Sorting by name and folding "More people" still work on the updated rows.
    page.set_sort("name")
    assert model.person_at(0).name == "P005"
    page.set_expanded(False)
    assert _shown_ids(page) == _expected(after, "name", False)

    # Everyone gone (a catalog emptied), then back.
    page.set_people([])
    assert view.model().rowCount() == 0
    page.set_people(after)
    assert _shown_ids(page) == _expected(after, "name", False)


def test_a_regrouping_reloads_only_the_covers_of_people_that_changed(qtbot, tmp_path) -> None:
    """During a scan only changed people's covers reload (behind the old ones); a refresh
    after the user's changes reloads them all."""
    from PySide6.QtGui import QPixmap

    from album.gui.thumbs import ThumbnailCache

    thumbs = ThumbnailCache(tmp_path / "catalog.db")  # never started: nothing is made
    old = {pid: QPixmap(8, 8) for pid in (1, 2, 3)}
    for pid, pm in old.items():
        thumbs._pixmaps[("person", pid, 112)] = pm
    thumbs._pixmaps[("face", 7, 120, False)] = QPixmap(8, 8)
    thumbs.invalidate("person", keep_stale=True, ids={2})
    assert thumbs.get(("person", 1, 112)) is old[1]  # kept: not asked again
    assert ("person", 1, 112) not in thumbs._pending
    assert thumbs.get(("person", 2, 112)) is old[2]  # the old one while the new one loads
    assert ("person", 2, 112) in thumbs._pending
    thumbs.invalidate("person")
    assert thumbs.get(("person", 3, 112)) is None and ("face", 7, 120, False) in thumbs._pixmaps


def test_new_tiles_beyond_a_pass_budget_are_drawn_on_the_next_passes(qtbot, monkeypatch) -> None:
    """A grid shown at once (the first people of a scan, a jump down the list) draws its new
    tiles within a time budget per pass of the event loop, so the window keeps responding;
    the tiles left blank are drawn on the following passes until everyone in view is."""
    from album.gui.people_model import PersonDelegate
    from album.gui.roles import PersonIdRole

    monkeypatch.setattr(PersonDelegate, "RENDER_BUDGET", 1e-9)  # one new tile per pass
    page = _shown_page(qtbot, _crowd(400, seed=5))
    view, grid = page.view, page.view.model()
    delegate = view.itemDelegate()
    in_view = set()
    for r in range(grid.rowCount()):
        ix = grid.index(r, 0)
        if ix.data(PersonIdRole) is not None and view.visualRect(ix).intersects(
            view.viewport().rect()
        ):
            in_view.add(ix.data(PersonIdRole))
    assert len(in_view) > 10

    def drawn() -> set:
        return {key[0] for key in delegate._tiles}

    qtbot.waitUntil(lambda: in_view <= drawn())
    delegate._tiles.clear()
    qtbot.wait(20)  # a pass without drawing: its budget is unspent
    view.viewport().repaint()  # one paint of the whole grid
    assert len(drawn()) == 1
    qtbot.waitUntil(lambda: in_view <= drawn())  # the next passes draw the rest


def test_tiles_left_blank_are_drawn_alone_after_the_due_timers(qtbot, monkeypatch) -> None:
    """A later pass repaints only the tiles an earlier one left blank, and only after the
    timers (and input) due meanwhile have run: a regrouping during a scan never holds the
    event loop for two repaints of the whole grid in a row."""
    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtGui import QRegion

    from album.gui.people_model import PersonDelegate
    from album.gui.roles import PersonIdRole

    monkeypatch.setattr(PersonDelegate, "RENDER_BUDGET", 1e-9)  # one new tile per pass
    page = _shown_page(qtbot, _crowd(400, seed=5))
    view, grid = page.view, page.view.model()
    delegate = view.itemDelegate()
    where = {}  # the people in view, and where
    for r in range(grid.rowCount()):
        ix = grid.index(r, 0)
        rect = view.visualRect(ix)
        if ix.data(PersonIdRole) is not None and view.viewport().rect().intersects(rect):
            where[ix.data(PersonIdRole)] = rect
    qtbot.waitUntil(lambda: set(where) <= {key[0] for key in delegate._tiles})
    whole = [pid for pid in sorted(where) if view.viewport().rect().contains(where[pid])]
    redrawn = whole[3:6]  # three people whose tiles changed (a new cover, a count)
    for key in [k for k in delegate._tiles if k[0] in redrawn]:
        del delegate._tiles[key]

    events: list[tuple[str, QRegion | None]] = []

    class Spy(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                events.append(("paint", QRegion(event.region())))
            return False

    spy = Spy()
    view.viewport().installEventFilter(spy)
    ticker = QTimer()
    ticker.setInterval(0)  # runs on every pass of the loop that is free to run timers
    ticker.timeout.connect(lambda: events.append(("tick", None)))
    qtbot.wait(20)  # a pass without drawing: its budget is unspent
    ticker.start()
    view.viewport().update()  # the whole grid, as after rows moved
    qtbot.waitUntil(lambda: set(where) <= {key[0] for key in delegate._tiles})
    ticker.stop()
    view.viewport().removeEventFilter(spy)

    paints = [i for i, (kind, _) in enumerate(events) if kind == "paint"]
    assert len(paints) == 3  # the whole grid with one new tile, then one new tile per pass
    assert events[paints[0]][1].boundingRect() == view.viewport().rect()
    left = QRegion()
    for pid in redrawn:
        left = left.united(where[pid])
    for i in paints[1:]:
        region = events[i][1]
        assert region.subtracted(left).isEmpty()  # (QRegion.contains only overlaps)
    for a, b in itertools.pairwise(paints):
        assert ("tick", None) in events[a + 1 : b]  # the loop ran its timers in between


def test_a_cover_that_arrives_repaints_its_tile_alone(qtbot) -> None:
    """A face arriving for a person's tile repaints that tile. (A flowing list view would
    lay out every person again and repaint the whole grid for each of them: after a
    regrouping during a scan, dozens of covers arrive in a row.)"""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QRegion

    from album.gui.roles import PersonIdRole

    thumbs = _Thumbs()
    page = _shown_page(qtbot, _crowd(60, seed=3), thumbs)
    view, grid = page.view, page.view.model()
    rows = [grid.index(r, 0) for r in range(grid.rowCount())]
    in_view = {
        ix.data(PersonIdRole)
        for ix in rows
        if ix.data(PersonIdRole) is not None
        and view.visualRect(ix).intersects(view.viewport().rect())
    }
    tiles = view.itemDelegate()._tiles
    qtbot.waitUntil(lambda: in_view <= {key[0] for key in tiles})  # every tile drawn
    qtbot.wait(20)
    painted: list[QRegion] = []

    class Spy(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted.append(QRegion(event.region()))
            return False

    spy = Spy()
    view.viewport().installEventFilter(spy)
    for row in (2, 9):
        painted.clear()
        ix = view.model().index(row, 0)
        thumbs.ready.emit(("person", ix.data(PersonIdRole), page.model.size))
        qtbot.waitUntil(lambda: bool(painted))
        qtbot.wait(20)
        assert [r.boundingRect() for r in painted] == [view.visualRect(ix)]
    view.viewport().removeEventFilter(spy)
