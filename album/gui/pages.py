"""The main window's pages: the People grid, one person's page, and Review."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedLayout,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.grids import FlowingGrid, grid
from album.gui.library import PhotoQuery
from album.gui.models import (
    FaceDelegate,
    FaceIdRole,
    FaceRow,
    FacesModel,
    PeopleFilter,
    PeopleModel,
    PersonDelegate,
    PersonIdRole,
    PhotoDelegate,
    PhotoIdRole,
    PhotoRow,
    PhotosModel,
    SectionRole,
    SourceRole,
)
from album.gui.thumbs import ThumbnailCache, placeholder
from album.gui.widgets import OfferBar, PromptBar, QuestionCard, icon
from album.people.overview import PersonOverview, best_faces, sort_people

if TYPE_CHECKING:
    from album.gui.core import ReviewItem, Session

log = logging.getLogger(__name__)

# op(fn) runs ``fn(people_service)`` for the user, shows errors, refreshes the views.
Op = Callable[[Callable[[Any], Any], str], Any]


class PeoplePage(QWidget):
    """Everyone, as round faces with names and photo counts: search by name, sort, people
    seen in few photos folded under "More people", hide people and show the hidden ones."""

    person_activated = Signal(int)
    choose_folder = Signal()
    sort_changed = Signal(str)
    hide_requested = Signal(list)  # person ids
    hidden_requested = Signal()  # show the list of hidden people
    photos_requested = Signal(list)  # person ids: show the photos with all of them
    split_requested = Signal(int)  # a person who is really two or more people

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PeopleModel(thumbs)
        self.filter = PeopleFilter(self)
        self.filter.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search people by name  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.title = QLabel("People")
        self.title.setObjectName("pageTitle")
        self.counts = QLabel()
        self.counts.setObjectName("dim")
        self.sort = QComboBox()
        self.sort.setObjectName("sortPeople")
        for text, key in (("Most photos", "photos"), ("Name", "name"), ("Recent photos", "recent")):
            self.sort.addItem(text, key)
        self.sort.setToolTip("Order of the people")
        self.sort.currentIndexChanged.connect(self._sort_changed)
        self.hidden_button = QToolButton()
        self.hidden_button.setText("Hidden people")
        self.hidden_button.setToolTip("The people you hid, to show them again")
        self.hidden_button.clicked.connect(self.hidden_requested)
        # The "More people" row is as wide as the view: a flowing list with per-item sizes.
        self.view = FlowingGrid(4, "peopleGrid")
        self.view.setModel(self.filter)
        self.view.setItemDelegate(PersonDelegate(self.model.size, self.view, self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.activated.connect(self._activated)
        self.view.clicked.connect(self._clicked)
        self.view.doubleClicked.connect(self._double_clicked)
        self._section_clicked = 0.0
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.hide_action = QAction("Hide from People  (H)", self.view)
        self.hide_action.triggered.connect(self._hide_selected)
        self.view.addAction(self.hide_action)
        self.photos_action = QAction("Photos with them together", self.view)
        self.photos_action.triggered.connect(
            lambda: self.photos_requested.emit(self.selected_people())
        )
        self.view.addAction(self.photos_action)
        self.split_action = QAction("Split…", self.view)
        self.split_action.setToolTip("Regroup a person who is really two or more people")
        self.split_action.triggered.connect(self._split_selected)
        self.split_action.setEnabled(False)  # one person at a time
        self.view.addAction(self.split_action)
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self.split_action.setEnabled(len(self.selected_people()) == 1)
        )
        QShortcut(
            QKeySequence("H"),
            self.view,
            self._hide_selected,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )

        self.empty = QWidget()
        e = QVBoxLayout(self.empty)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("emptyText")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.choose = QPushButton(icon("folder"), "Choose a photo folder…")
        self.choose.setObjectName("primary")
        self.choose.clicked.connect(self.choose_folder)
        e.addStretch(1)
        e.addWidget(self.empty_text)
        e.addWidget(self.choose, 0, Qt.AlignmentFlag.AlignHCenter)
        e.addStretch(2)

        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.counts)
        head.addStretch(1)
        head.addWidget(self.search, 1)
        head.addWidget(QLabel("Sort:"))
        head.addWidget(self.sort)
        head.addWidget(self.hidden_button)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(self.stack, 1)
        self.search.textChanged.connect(self.filter.set_text)
        self.search.returnPressed.connect(self._search_enter)
        self.set_empty("Loading…", show_button=False)
        self.setFocusProxy(self.view)

    def set_empty(self, text: str | None, show_button: bool = True) -> None:
        """Show ``text`` instead of the grid (None: show the grid)."""
        if text is None:
            self.stack.setCurrentWidget(self.view)
            return
        self.empty_text.setText(text)
        self.choose.setVisible(show_button)
        self.stack.setCurrentWidget(self.empty)

    def set_people(self, rows: list[PersonOverview], hidden: int = 0) -> None:
        """``rows``: the people to show (the core's overview); ``hidden``: how many are hidden."""
        self.model.set_people(rows)
        named = sum(1 for r in rows if r.name)
        self.counts.setText(f"{named} named · {len(rows) - named} unnamed")
        self.hidden_button.setText(f"Hidden people ({hidden})" if hidden else "Hidden people")
        self.hidden_button.setEnabled(hidden > 0)
        if self.view.model().rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.filter.index(0, 0))

    def set_sort(self, key: str) -> None:
        """Show the people in this order ('photos', 'name', 'recent')."""
        i = self.sort.findData(key)
        if i >= 0:
            self.sort.setCurrentIndex(i)

    def _sort_changed(self, *args) -> None:
        key = str(self.sort.currentData())
        self.model.set_sort(key)
        self.sort_changed.emit(key)

    def set_expanded(self, on: bool) -> None:
        """Open or fold "More people"."""
        self.filter.set_expanded(on)

    def _clicked(self, index) -> None:
        if index.data(SectionRole) is not None:  # one click opens or folds "More people"
            self._section_clicked = time.monotonic()
            self.set_expanded(not self.filter.expanded)

    def _activated(self, index) -> None:
        pid = index.data(PersonIdRole)
        if pid is not None:
            self.person_activated.emit(int(pid))
        elif index.data(SectionRole) is not None:
            # Enter on the heading; the second half of a double click was a click already.
            interval = QApplication.doubleClickInterval() / 1000
            if time.monotonic() - self._section_clicked > interval:
                self.set_expanded(not self.filter.expanded)

    def _double_clicked(self, index) -> None:
        pid = index.data(PersonIdRole)
        if pid is not None:
            self.person_activated.emit(int(pid))

    def _search_enter(self) -> None:
        if self.filter.rowCount():
            self.view.setFocus()
            self.view.setCurrentIndex(self.filter.index(0, 0))

    def selected_people(self) -> list[int]:
        return [
            int(pid)
            for i in self.view.selectionModel().selectedIndexes()
            if (pid := i.data(PersonIdRole)) is not None
        ]

    def _split_selected(self) -> None:
        people = self.selected_people()
        if len(people) == 1:
            self.split_requested.emit(people[0])

    def _hide_selected(self) -> None:
        people = self.selected_people()
        if not people and self.view.currentIndex().isValid():
            pid = self.view.currentIndex().data(PersonIdRole)
            people = [int(pid)] if pid is not None else []
        if people:
            self.hide_requested.emit(people)


class HiddenPeopleDialog(QDialog):
    """The people the user hid, in one place: select some and show them again (or open one
    with a double click)."""

    unhide = Signal(list)  # person ids
    open_person = Signal(int)

    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hidden people")
        self.setObjectName("hiddenPeople")
        self.thumbs = thumbs
        self.icon_px = 64
        self.list = QListWidget()
        self.list.setObjectName("hiddenList")
        self.list.setIconSize(QSize(self.icon_px, self.icon_px))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemDoubleClicked.connect(
            lambda item: self.open_person.emit(int(item.data(PersonIdRole)))
        )
        self.text = QLabel()
        self.text.setObjectName("dim")
        self.text.setWordWrap(True)
        self.show_button = QPushButton("Show in People again")
        self.show_button.setObjectName("primary")
        self.show_button.clicked.connect(self._unhide)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        self.list.itemSelectionChanged.connect(self._update)
        thumbs.ready.connect(self._thumb_ready)
        self.resize(460, 520)

    def set_people(self, rows: list[PersonOverview]) -> None:
        self.list.clear()
        for r in sort_people(rows, "name"):
            n = f"{r.photos} photo{'s' if r.photos != 1 else ''}"
            item = QListWidgetItem(f"{r.label}\n{n}")
            item.setData(PersonIdRole, r.id)
            pm = self.thumbs.get(("person", r.id, self.icon_px))
            item.setIcon(QIcon(pm if pm is not None else placeholder(self.icon_px)))
            self.list.addItem(item)
        self.text.setText(
            "Hidden people stay hidden after scans and regrouping. Select people and show "
            "them again; double-click to open one."
            if rows
            else "Nobody is hidden."
        )
        self._update()

    def _update(self) -> None:
        n = len(self.list.selectedItems())
        self.show_button.setEnabled(n > 0)
        self.show_button.setText(f"Show {n} in People again" if n > 1 else "Show in People again")

    def _unhide(self) -> None:
        ids = [int(i.data(PersonIdRole)) for i in self.list.selectedItems()]
        if ids:
            self.unhide.emit(ids)

    def _thumb_ready(self, key: tuple) -> None:
        if key[0] != "person" or key[2] != self.icon_px:
            return
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(PersonIdRole) == key[1]:
                pm = self.thumbs.get(key)
                if pm is not None:
                    item.setIcon(QIcon(pm))


class PersonPage(QWidget):
    """One person: their faces (lazy thumbnails), rename / merge, not this person, move,
    confirm suggestions, cover, hide; or their photos, newest first under month headings."""

    back = Signal()
    open_face = Signal(int)  # show the photo of this face
    open_photo = Signal(int, list)  # show this photo, within these (the Photos view's)
    photos_loaded = Signal()  # the Photos view has its rows
    compare = Signal(int, int)  # two selected faces: "Same person?"
    split_requested = Signal(int)  # this person is really two or more people

    def __init__(
        self, session: Session, thumbs: ThumbnailCache, op: Op, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self.thumbs, self.op = session, thumbs, op
        self.person_id: int | None = None
        self.model = FacesModel(thumbs)
        self.photos_model = PhotosModel(thumbs)
        self._faces_stale = True  # the faces model is read when the Faces view shows
        self.photos_query = PhotoQuery(session.path, self)
        self.photos_query.ready.connect(self._photos_ready)

        self.back_button = QToolButton()
        self.back_button.setIcon(icon("back"))
        self.back_button.setText("People")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.setToolTip("Back to People (Alt+Left, Esc)")
        self.back_button.clicked.connect(self.back)
        self.cover = QLabel()
        self.cover.setFixedSize(72, 72)
        self.name = QLineEdit()
        self.name.setObjectName("personName")
        self.name.setPlaceholderText("Add a name")
        self.name.setToolTip("Type a name and press Enter; an existing name offers a merge")
        self.name.returnPressed.connect(self._rename)
        self.info = QLabel()
        self.info.setObjectName("dim")
        self.born = None  # the person's birth date (YYYY-MM-DD), for ages
        self.birthday = QToolButton()
        self.birthday.setObjectName("birthday")
        self.birthday.setToolTip(
            "A birth date shows ages in the timeline, and no photo taken before it is grouped "
            "as this person"
        )
        self.birthday.clicked.connect(self._ask_born)
        self.order = QComboBox()
        self.order.addItems(["Newest first", "Oldest first"])
        self.order.setToolTip("Order of the photos (oldest first: by age, with a birth date)")
        self.order.currentIndexChanged.connect(lambda _: self._load_photos())
        self.born_prompt = PromptBar()
        self.born_prompt.accepted.connect(self._set_born)

        self.confirm_all = QPushButton(icon("yes"), "Confirm suggestions")
        self.confirm_all.setToolTip("Confirm the selected (or all) suggested faces (C)")
        self.not_this = QPushButton(icon("no"), "Not this person")
        self.not_this.setToolTip("The selected faces are not this person (Delete)")
        self.move_to = QPushButton("Move to…")
        self.move_to.setToolTip("Move the selected faces to another or a new person (M)")
        self.set_cover = QPushButton("Make cover")
        self.set_cover.setToolTip("Use the selected face as this person's picture")
        self.same = QPushButton(icon("pair"), "Same person?")
        self.same.setToolTip("Compare two selected faces")
        self.hide_person = QPushButton("Hide")
        self.hide_person.setToolTip("Hide this person from People")
        self.split_person = QPushButton("Split…")
        self.split_person.setToolTip("This person is really two or more people: regroup them")
        for b in (
            self.confirm_all,
            self.not_this,
            self.move_to,
            self.set_cover,
            self.same,
            self.hide_person,
            self.split_person,
        ):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.confirm_all.clicked.connect(self._confirm)
        self.not_this.clicked.connect(self._reject)
        self.move_to.clicked.connect(self._ask_move)
        self.set_cover.clicked.connect(self._cover)
        self.same.clicked.connect(self._compare)
        self.hide_person.clicked.connect(self._hide)
        self.split_person.clicked.connect(
            lambda: self.person_id is not None and self.split_requested.emit(self.person_id)
        )

        self.view = QListView()
        self.view.setObjectName("faceGrid")
        grid(self.view, 2)
        self.view.setModel(self.model)
        self.view.setItemDelegate(FaceDelegate(self.model.size, self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.activated.connect(lambda ix: self.open_face.emit(int(ix.data(FaceIdRole))))
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        self.photo_view = FlowingGrid(2, "photoGrid")  # month headings as wide as the view
        self.photo_view.setModel(self.photos_model)
        self.photo_view.setItemDelegate(
            PhotoDelegate(self.photos_model.size, self.photo_view, self.photo_view)
        )
        self.photo_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.photo_view.activated.connect(self._photo_activated)
        self.views = QStackedWidget()
        self.views.addWidget(self.view)
        self.views.addWidget(self.photo_view)
        self.views.setCurrentWidget(self.photo_view)
        self.faces_button = QToolButton()
        self.faces_button.setText("Faces")
        self.faces_button.setToolTip("Each face of this person, for fixing the grouping (F)")
        self.photos_button = QToolButton()
        self.photos_button.setText("Photos")
        self.photos_button.setToolTip("The photos this person is in, newest first (P)")
        for b in (self.faces_button, self.photos_button):
            b.setObjectName("viewToggle")
            b.setCheckable(True)
            b.setAutoExclusive(True)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.photos_button.setChecked(True)
        self.faces_button.clicked.connect(lambda: self.show_view("faces"))
        self.photos_button.clicked.connect(lambda: self.show_view("photos"))

        self.prompt = PromptBar()
        self.prompt.accepted.connect(self._move)
        self.offer = OfferBar()

        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addSpacing(8)
        head.addWidget(self.cover)
        names = QVBoxLayout()
        names.addWidget(self.name)
        facts = QHBoxLayout()
        facts.addWidget(self.info)
        facts.addWidget(self.birthday)
        facts.addStretch(1)
        names.addLayout(facts)
        head.addLayout(names, 1)
        head.addWidget(self.split_person)  # about the person, not the faces selected
        head.addWidget(self.hide_person)
        head.addSpacing(8)
        head.addWidget(self.faces_button)
        head.addWidget(self.photos_button)
        tools = QHBoxLayout()
        tools.addWidget(self.order)  # the Photos view's; the Faces view has its tools here
        self._face_tools = (
            self.confirm_all,
            self.not_this,
            self.move_to,
            self.set_cover,
            self.same,
        )
        for b in self._face_tools:
            tools.addWidget(b)
        tools.addStretch(1)
        for b in self._face_tools:
            b.hide()  # the page opens on the Photos view
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.offer)
        lay.addLayout(tools)
        lay.addWidget(self.prompt)
        lay.addWidget(self.born_prompt)
        lay.addWidget(self.views, 1)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.view, self._reject, context=ctx)
        QShortcut(QKeySequence("M"), self.view, self._ask_move, context=ctx)
        QShortcut(QKeySequence("C"), self.view, self._confirm, context=ctx)
        QShortcut(QKeySequence("Alt+Left"), self, self.back.emit, context=ctx)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.view, self.back.emit, context=ctx)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.photo_view, self.back.emit, context=ctx)
        QShortcut(QKeySequence("P"), self.view, lambda: self.show_view("photos"), context=ctx)
        QShortcut(QKeySequence("F"), self.photo_view, lambda: self.show_view("faces"), context=ctx)
        QShortcut(QKeySequence("F2"), self, self.name.setFocus, context=ctx)
        self.setTabOrder(self.back_button, self.name)
        self.setTabOrder(self.name, self.view)
        thumbs.ready.connect(self._thumb_ready)

    # --- loading ------------------------------------------------------------------------------

    def show_person(self, person_id: int) -> None:
        """Open on the person's photos (what people come for); Faces is one toggle away."""
        if person_id != self.person_id:
            self.photos_model.set_photos([])  # not the last person's, while these load
            self.model.set_faces([])
        self.person_id = person_id
        self.offer.hide()
        self.prompt.hide()
        self.show_view("photos", load=False)
        self.reload()  # reads the photos too
        self.current_view().setFocus()
        self.photo_view.scrollToTop()

    def showing_photos(self) -> bool:
        return self.views.currentWidget() is self.photo_view

    def current_view(self) -> QListView:
        return self.photo_view if self.showing_photos() else self.view

    def show_view(self, which: str, load: bool = True) -> None:
        """'faces' (for fixing the grouping) or 'photos' (whole photos, newest first)."""
        photos = which == "photos"
        self.photos_button.setChecked(photos)
        self.faces_button.setChecked(not photos)
        self.views.setCurrentWidget(self.photo_view if photos else self.view)
        for b in self._face_tools:
            b.setVisible(not photos)
        self.order.setVisible(photos)
        if photos and load:
            self._load_photos()
        if not photos and self._faces_stale:
            self._load_faces()
        self.current_view().setFocus()

    def _load_photos(self) -> None:
        if self.person_id is not None:
            self.photos_query.run([self.person_id])

    def _photos_ready(self, rows: list[PhotoRow]) -> None:
        self.photos_model.set_photos(rows, self.born, self.order.currentIndex() == 1)
        self.photos_loaded.emit()

    def _photo_activated(self, index) -> None:
        photo_id = index.data(PhotoIdRole)
        if photo_id is not None:
            self.open_photo.emit(int(photo_id), self.photos_model.photo_ids())

    def reload(self) -> None:
        """Re-read the person (following a merge), and the view shown: their photos, or
        their faces (read when the Faces view shows: a person in 10,000 photos has 10,000)."""
        if self.person_id is None:
            return
        svc = self.session.people
        person = svc.active(self.person_id)
        if person.id != self.person_id:
            self.model.set_faces([])
        self.person_id = person.id
        if self.showing_photos():
            self._faces_stale = True
        else:
            self._load_faces()
        self.name.setText(person.name or "")
        n = self.session.catalog.assignment_counts(person.id)
        suggested, confirmed = n.get("suggested", 0), n.get("confirmed", 0)
        total = suggested + confirmed + n.get("automatic", 0)
        text = f"{total} photos · {confirmed} confirmed"
        if suggested:
            text += f" · {suggested} suggested"
        if person.hidden:
            text += " · hidden"
        self.info.setText(text)
        self.hide_person.setText("Show" if person.hidden else "Hide")
        self.born = person.birth_date
        born = date.fromisoformat(self.born) if self.born else None
        self.birthday.setText(f"Born {born.day} {born:%B %Y}" if born else "Add birth date")
        if self.showing_photos():
            self._load_photos()
        self._cover_key = ("person", person.id, 72)
        self._thumb_ready(self._cover_key)
        self._update_buttons()

    def _load_faces(self) -> None:
        faces = self.session.people.faces_of(self.person_id)
        selected = set(self.selected_faces())
        self.model.set_faces([FaceRow(f.face_id, f.source, f.confidence) for f in faces])
        sm = self.view.selectionModel()
        for row in range(self.model.rowCount()):
            if self.model.face_at(row).face_id in selected:
                sm.select(self.model.index(row), QItemSelectionModel.SelectionFlag.Select)
        if self.model.rowCount() and not self.view.currentIndex().isValid():
            # The first face current (and selected, unless a selection was kept).
            flag = QItemSelectionModel.SelectionFlag
            sm.setCurrentIndex(
                self.model.index(0), flag.NoUpdate if selected else flag.ClearAndSelect
            )
        self._faces_stale = False
        self._update_buttons()

    def _thumb_ready(self, key: tuple) -> None:
        if getattr(self, "_cover_key", None) == key:
            pm = self.thumbs.get(key)
            if pm is not None:
                self.cover.setPixmap(pm)

    def selected_faces(self) -> list[int]:
        return sorted(int(i.data(FaceIdRole)) for i in self.view.selectionModel().selectedIndexes())

    def _targets(self) -> list[int]:
        """Selected faces, else the current one."""
        faces = self.selected_faces()
        if not faces and self.view.currentIndex().isValid():
            faces = [int(self.view.currentIndex().data(FaceIdRole))]
        return faces

    def _update_buttons(self, *args) -> None:
        n = len(self.selected_faces())
        self.not_this.setEnabled(n > 0)
        self.move_to.setEnabled(n > 0)
        self.set_cover.setEnabled(n == 1)
        self.same.setEnabled(n == 2)
        sel_suggested = any(
            i.data(SourceRole) != "confirmed" for i in self.view.selectionModel().selectedIndexes()
        )
        any_open = any(
            self.model.face_at(r).source != "confirmed" for r in range(self.model.rowCount())
        )
        self.confirm_all.setEnabled(sel_suggested or any_open)
        self.confirm_all.setText("Confirm selected" if sel_suggested else "Confirm all")

    # --- actions ------------------------------------------------------------------------------

    def _rename(self) -> None:
        pid = self.person_id
        text = self.name.text().strip()
        if pid is None or not text:
            return
        svc = self.session.people
        person = svc.active(pid)
        if text == (person.name or ""):
            return
        other = svc.by_name(text)
        if other is not None and other.id != pid:
            self.offer.offer(
                f"“{other.name}” already exists. Merge these "
                f"{len(svc.faces_of(pid))} photos into {other.name}?",
                f"Merge into {other.name}",
                lambda: self._merge_into(other.id),
            )
            return
        self.op(lambda s: s.name(pid, text), f"Named {text}")

    def _merge_into(self, target: int) -> None:
        pid = self.person_id
        result = self.op(lambda s: s.merge(pid, target), "Merged")
        if result is not False:  # False: refused (the status bar says why)
            self.person_id = result.id
            self.reload()

    def _confirm(self) -> None:
        pid = self.person_id
        faces = [
            f
            for f in self.selected_faces()
            if self.model.face_at(self.model._row_of[f]).source != "confirmed"
        ]
        self.op(lambda s: s.confirm(pid, faces or None), "Confirmed")

    def _reject(self) -> None:
        pid, faces = self.person_id, self._targets()
        if faces:
            n = len(faces)
            self.op(
                lambda s: s.reject(faces, pid),
                f"{n} photo{'s' if n != 1 else ''} marked as not this person",
            )

    def _ask_move(self) -> None:
        if not self._targets():
            return
        names = [
            s.person.name
            for s in self.session.people.people(named_only=True)
            if s.id != self.person_id
        ]
        self.prompt.ask("Move to:", names)

    def _move(self, name: str) -> None:
        pid, faces = self.person_id, self._targets()
        svc = self.session.people
        target = svc.by_name(name)
        if target is not None:
            self.op(lambda s: s.move(faces, target.id), f"Moved to {target.name}")
        else:
            self.op(lambda s: s.split(pid, faces, name), f"Moved to new person {name}")

    def _cover(self) -> None:
        pid, faces = self.person_id, self.selected_faces()
        if len(faces) == 1:
            self.op(lambda s: s.set_cover(pid, faces[0]), "Cover set")

    def _compare(self) -> None:
        faces = self.selected_faces()
        if len(faces) == 2:
            self.compare.emit(faces[0], faces[1])

    def _ask_born(self) -> None:
        self.born_prompt.ask("Born on (YYYY-MM-DD; empty: none):", [], self.born or "")

    def _set_born(self, text: str) -> None:
        pid, text = self.person_id, text.strip()
        if pid is None:
            return
        done = f"Birth date set to {text}" if text else "Birth date removed"
        self.op(lambda s: s.set_birth_date(pid, text or None), done)

    def _hide(self) -> None:
        pid = self.person_id
        hidden = self.hide_person.text() == "Hide"
        self.op(lambda s: s.hide(pid, hidden), "Hidden" if hidden else "Shown")


class ReviewPage(QWidget):
    """Suggested faces and possible merges, one at a time: Y yes, N no, S skip."""

    load_requested = Signal()

    def __init__(
        self, session: Session, thumbs: ThumbnailCache, op: Op, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self.op = session, op
        self.items: list[ReviewItem] = []
        self.pos = 0
        self.answers = 0
        title = QLabel("Review")
        title.setObjectName("pageTitle")
        self.counter = QLabel()
        self.counter.setObjectName("dim")
        self.reload_button = QPushButton(icon("refresh"), "Refresh")
        self.reload_button.clicked.connect(self.load_requested)
        self.card = QuestionCard(thumbs)
        self.card.answered.connect(self.answer)
        self.done = QLabel("Nothing to review. Scan more photos or name more people.")
        self.done.setObjectName("emptyText")
        self.done.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.counter)
        head.addStretch(1)
        head.addWidget(self.reload_button)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.card, 1)
        lay.addWidget(self.done, 1)
        self.setFocusProxy(self.card)
        self.set_items([])

    def set_items(self, items: list[ReviewItem]) -> None:
        self.items, self.pos = list(items), 0
        self._show()

    def current(self) -> ReviewItem | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def _label(self, pid: int | None) -> str:
        if pid is None:
            return ""
        p = self.session.catalog.person(pid)
        return p.name if p and p.name else "this unnamed person"

    def _name(self, pid: int | None) -> str | None:
        p = self.session.catalog.person(pid) if pid is not None else None
        return p.name if p else None

    def _show(self) -> None:
        item = self.current()
        self.card.setVisible(item is not None)
        self.done.setVisible(item is None)
        n_sugg = sum(1 for i in self.items[self.pos :] if i.kind == "suggestion")
        n_merge = sum(1 for i in self.items[self.pos :] if i.kind == "merge")
        self.counter.setText(f"{n_sugg} suggested faces · {n_merge} possible merges left")
        if item is None:
            return
        photo_a = self.session.photo_of_face(item.face_a)
        if item.kind == "suggestion":
            self.card.question.setText(f"Is this {self._label(item.person_a)}?")
            self.card.left.show_face(
                item.face_a,
                photo_a.id if photo_a else None,
                "Suggested face",
                self.session.face_in_photo(item.face_a, photo_a),
            )
            pid = self.session.people.active(item.person_a).id
            best = best_faces(self.session.catalog, pid, 1 + self.card.right.MORE, (item.face_a,))
            photo_b = self.session.photo_of_face(best[0]) if best else None
            if best:
                self.card.right.show_face(
                    best[0],
                    photo_b.id if photo_b else None,
                    self._label(item.person_a).capitalize(),
                    self.session.face_in_photo(best[0], photo_b),
                )
                self.card.right.show_more(best[1:])
            d = f"distance {item.distance:.2f}" if item.distance is not None else ""
            self.card.details.setText(d)
        else:
            assert item.face_b is not None
            photo_b = self.session.photo_of_face(item.face_b)
            names = [self._name(item.person_a), self._name(item.person_b)]
            if all(names):
                q = f"Are {names[0]} and {names[1]} the same person?"
            elif any(names):
                q = f"Is this {next(n for n in names if n)} too?"
            else:
                q = "Are these two the same person?"
            self.card.question.setText(q)
            self.card.left.show_face(
                item.face_a,
                photo_a.id if photo_a else None,
                self._name(item.person_a) or "Unnamed",
                self.session.face_in_photo(item.face_a, photo_a),
            )
            self.card.right.show_face(
                item.face_b,
                photo_b.id if photo_b else None,
                self._name(item.person_b) or "Unnamed",
                self.session.face_in_photo(item.face_b, photo_b),
            )
            assert item.person_b is not None
            for panel, pid in ((self.card.left, item.person_a), (self.card.right, item.person_b)):
                active = self.session.people.active(pid).id
                panel.show_more(
                    best_faces(self.session.catalog, active, panel.MORE, (item.face_a, item.face_b))
                )
            self.card.details.setText(
                f"closest faces at distance {item.distance:.2f} · "
                f"P(same) {item.probability:.0%}  —  Yes merges them"
            )

    def answer(self, answer: str) -> None:
        item = self.current()
        if item is None:
            return
        if answer != "skip":
            if item.kind == "suggestion":
                fn = (
                    (lambda s: s.confirm(item.person_a, [item.face_a]))
                    if answer == "yes"
                    else (lambda s: s.reject([item.face_a], item.person_a))
                )
            else:
                fn = (
                    (lambda s: s.merge(*_merge_order(s, item)))
                    if answer == "yes"
                    else (lambda s: s.answer(item.face_a, item.face_b, False))
                )
            self.op(fn, "Confirmed" if answer == "yes" else "Rejected")
            self.answers += 1
        self.pos += 1
        # drop later items made moot (people merged away, faces already answered)
        self._show()


def _merge_order(svc, item) -> tuple[int, int]:
    """(source, target): merge into the named one, else the bigger one."""
    a, b = svc.active(item.person_a), svc.active(item.person_b)
    if (a.name is not None, len(svc.faces_of(a.id))) > (
        b.name is not None,
        len(svc.faces_of(b.id)),
    ):
        return b.id, a.id
    return a.id, b.id
