"""One person's page: their photos, newest first under month headings (with ages, given a
birth date), or their faces for fixing the grouping (rename / merge, confirm, not this
person, move, cover, hide, split)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.faces_model import FaceDelegate, FaceRow, FacesModel
from album.gui.grids import FlowingGrid, grid
from album.gui.library import PhotoQuery
from album.gui.photos_model import PhotoDelegate, PhotoRow, PhotosModel
from album.gui.roles import FaceIdRole, PhotoIdRole, SourceRole
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import OfferBar, PromptBar, icon

if TYPE_CHECKING:
    from album.gui.core import Session
    from album.gui.people_ops import Op


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
            s.name for s in self.session.people.people(named_only=True) if s.id != self.person_id
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
