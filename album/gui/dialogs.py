"""Dialogs: "Same person?" and Settings (the photo viewer is ``album.gui.viewer``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from album.gui.side_views_card import SideViewsCard
from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import QuestionCard
from album.people.overview import best_faces

if TYPE_CHECKING:
    from album.gui.core import PairQuestion, Session


class PairDialog(QDialog):
    """Two faces side by side with their photos, distance and probability; Yes / No / Skip
    (Y / N / S). Each answer is a constraint for the core (``PeopleService.answer``). Batches
    of side views come first, one person at a time (``SideViewsCard``,
    ``PeopleService.answer_side_views``)."""

    answered = Signal(int, int, bool)

    def __init__(
        self,
        session: Session,
        thumbs: ThumbnailCache,
        op: Callable[[Callable[[Any], Any], str], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Same person?")
        self.setObjectName("pairDialog")
        self.session, self.op = session, op
        self.questions: list[PairQuestion] = []
        self.pos = 0
        self.answers = 0
        self.card = QuestionCard(thumbs)
        self.card.question.setText("Same person?")
        self.card.answered.connect(self.answer)
        self.batches: list = []
        self.batch_pos = 0
        self.side_views = SideViewsCard(thumbs)
        self.side_views.answered.connect(self.answer_batch)
        self.side_views.skipped.connect(self._next_batch)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.card)
        self.pages.addWidget(self.side_views)
        self.progress = QLabel()
        self.progress.setObjectName("dim")
        close = QPushButton("Done")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addStretch(1)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages, 1)
        lay.addLayout(bottom)
        self.resize(760, 640)

    def set_questions(self, questions: list[PairQuestion], batches: Sequence = ()) -> None:
        self.questions, self.pos = list(questions), 0
        self.batches, self.batch_pos = list(batches), 0
        self._show()

    def current_batch(self):
        return self.batches[self.batch_pos] if self.batch_pos < len(self.batches) else None

    def answer_batch(self, person_id: int, yes: list[int], no: list[int]) -> None:
        done = self.op(lambda s: s.answer_side_views(person_id, yes, no), "Side views")
        if done is not False:
            self.answers += 1
        self._next_batch()

    def _next_batch(self) -> None:
        self.batch_pos += 1
        self._show()

    def _show_batch(self, batch) -> None:
        p = self.session.catalog.person(batch.person_id)
        self.side_views.show_batch(batch, p.name if p and p.name else "this person")
        left = len(self.batches) - self.batch_pos
        self.progress.setText(
            f"Side views: {left} {'person' if left == 1 else 'people'} to go, then "
            f"{len(self.questions)} questions · {self.answers} answered"
        )
        self.pages.setCurrentWidget(self.side_views)

    def current(self) -> PairQuestion | None:
        return self.questions[self.pos] if self.pos < len(self.questions) else None

    def _caption(self, face_id: int) -> str:
        lab = self.session.people.person_of(face_id)
        if lab is None:
            return "nobody yet"
        p = self.session.catalog.person(lab.person_id)
        return (p.name if p and p.name else "Unnamed") + (
            " · suggested" if lab.source == "suggested" else ""
        )

    def _show(self) -> None:
        batch = self.current_batch()
        if batch is not None:
            self._show_batch(batch)
            return
        self.pages.setCurrentWidget(self.card)
        q = self.current()
        self.card.set_enabled(q is not None)
        total = len(self.questions)
        self.progress.setText(
            f"Question {min(self.pos + 1, total)} of {total} · {self.answers} answered"
            if total
            else "No questions left"
        )
        if q is None:
            self.card.details.setText("No more questions. Close to update the people.")
            return
        people = self.session.people
        labels = {f: people.person_of(f) for f in (q.a, q.b)}
        # Two halves of one person (a split question): that person's faces say nothing.
        one = None not in labels.values() and len({lab.person_id for lab in labels.values()}) == 1
        for panel, f in ((self.card.left, q.a), (self.card.right, q.b)):
            photo = self.session.photo_of_face(f)
            box = self.session.face_in_photo(f, photo)
            panel.show_face(f, photo.id if photo else None, self._caption(f), box)
            lab = labels[f]
            # More of the person the face is compared with: not beside the face asked about
            # at an edge, nor for two halves of one person.
            if lab is not None and f != q.leaving and not (one and q.leaving is None):
                panel.show_more(
                    best_faces(self.session.catalog, lab.person_id, panel.MORE, (q.a, q.b))
                )
        # A pair the user picked is asked too: never shown as certain either (imported here:
        # the queue's module loads scipy, which the window must not wait for at start).
        from album.people.verification import within_shown_range

        shown = within_shown_range(q.probability)
        text = f"distance {q.distance:.3f} · probability same {shown:.0%}"
        if q.reason:
            text += f"\n{q.reason}"
        self.card.details.setText(text)
        self.card.yes.setFocus()

    def answer(self, answer: str) -> None:
        q = self.current()
        if q is None:
            return
        if answer in ("yes", "no"):
            same = answer == "yes"
            done = self.op(
                lambda s: s.answer(q.a, q.b, same, q.leaving),
                "Same person" if same else "Different people",
            )
            if done is not False:
                self.answers += 1
                self.answered.emit(q.a, q.b, same)
        self.pos += 1
        self._show()


class SettingsDialog(QDialog):
    """Folders, model (fetch / import FaceNet weights), device, threshold, auto-assign."""

    scan_requested = Signal()
    add_folder_requested = Signal()
    fetch_requested = Signal(str, str)  # model, file ('' to download)
    reembed_requested = Signal(str)
    train_requested = Signal(str)

    def __init__(
        self, session: Session, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.session, self.settings = session, settings
        cat = session.catalog
        self.folders = QListWidget()
        self.folders.addItems([f.path for f in cat.folders()])
        add = QPushButton("Add folder…")
        add.clicked.connect(self.add_folder_requested)
        scan = QPushButton("Scan now")
        scan.clicked.connect(self.scan_requested)
        fbuttons = QHBoxLayout()
        fbuttons.addWidget(add)
        fbuttons.addWidget(scan)
        fbuttons.addStretch(1)

        self.model = QComboBox()
        from models.registry import DEFAULT_MODEL, list_specs

        current = cat.model or DEFAULT_MODEL
        for spec in list_specs():
            self.model.addItem(f"{spec.name} — {spec.embedding_size}-d", spec.name)
            self.model.setItemData(
                self.model.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        self.model_status = QLabel()
        self.fetch = QPushButton("Download weights")
        self.import_ = QPushButton("Import weights…")
        self.reembed = QPushButton("Use this model (re-embed)")
        self.fetch.clicked.connect(lambda: self.fetch_requested.emit(self._model(), ""))
        self.import_.clicked.connect(self._import)
        self.reembed.clicked.connect(lambda: self.reembed_requested.emit(self._model()))
        self.train = QPushButton("Improve recognition from my labels")
        self.train.setToolTip(
            "Learn from the faces you confirmed, rejected and compared (model in use); the "
            "result is checked on faces held out from training and kept only if it "
            "recognises your people better"
        )
        self.train.clicked.connect(lambda: self.train_requested.emit(self._model()))
        self.model.currentIndexChanged.connect(self._model_changed)
        mbuttons = QHBoxLayout()
        for b in (self.fetch, self.import_, self.reembed, self.train):
            mbuttons.addWidget(b)
        mbuttons.addStretch(1)

        self.device = QComboBox()
        for d in ("auto", "cpu", "cuda"):
            self.device.addItem(d)
        self.device.setCurrentText(str(settings.value("device", "auto")))
        # A share of the model's own threshold, so it keeps its meaning across a model switch.
        self.threshold = QSpinBox()
        self.threshold.setRange(50, 150)
        self.threshold.setSingleStep(5)
        self.threshold.setSuffix(" % of the model's")
        self.threshold.setToolTip(
            "Below 100 %: stricter (fewer wrong faces, more groups to merge); above: looser"
        )
        from album.gui.core import ASSIGN_KEY, THRESHOLD_KEY
        from album.people.keys import threshold_scale

        self._keys = (THRESHOLD_KEY, ASSIGN_KEY)
        self.threshold.setValue(round(100 * threshold_scale(cat)))
        self.auto_assign = QCheckBox("Assign recognised faces automatically")
        self.auto_assign.setChecked(cat.get_setting(ASSIGN_KEY) != "off")

        form = QFormLayout()
        form.addRow("Photo folders", self.folders)
        form.addRow("", fbuttons)
        form.addRow("Face model", self.model)
        form.addRow("", self.model_status)
        form.addRow("", mbuttons)
        form.addRow("Device", self.device)
        form.addRow("Same-person threshold", self.threshold)
        form.addRow("", self.auto_assign)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self._model_changed()
        self.resize(620, 520)

    def _model(self) -> str:
        return str(self.model.currentData())

    def _model_changed(self, *args) -> None:
        name = self._model()
        from models import facenet

        downloadable = name in facenet.SOURCES
        ready = facenet.is_available(name) if downloadable else True
        self.fetch.setVisible(downloadable)
        self.import_.setVisible(downloadable)
        in_use = name == (self.session.catalog.model or "")
        self.reembed.setEnabled(ready and not in_use)
        self.model_status.setText(
            ("in use · " if in_use else "") + ("ready" if ready else "weights not downloaded")
        )

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Weights file", "", "Weights (*.pt *.pth *.safetensors)"
        )
        if path:
            self.fetch_requested.emit(self._model(), path)

    def accept(self) -> None:
        cat = self.session.catalog
        threshold_key, assign_key = self._keys
        self.settings.setValue("device", self.device.currentText())
        cat.set_setting(threshold_key, f"{self.threshold.value() / 100:.2f}")
        if self.auto_assign.isChecked():
            if cat.get_setting(assign_key) == "off":
                cat.delete_setting(assign_key)
        else:
            cat.set_setting(assign_key, "off")
        self.session.reload_settings()
        super().accept()


def training_finished(window: Any, result: Any) -> QMessageBox:
    """Say in words what "Improve recognition from my labels" changed (a
    ``training.personal.PersonalResult``) and, when the new model was kept, offer to re-group
    with it (the "Grouping" job). Non-blocking; the box is ``window.training_box``."""
    from album.gui import core

    box = QMessageBox(window)
    box.setWindowTitle("Improve recognition")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(result.summary())
    if result.kept:
        box.setInformativeText("Re-group your photos with the new model now?")
        regroup = box.addButton("Re-group with it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        regroup.clicked.connect(
            lambda: window.start_job(core.adopt_job(window.session.path, result))
        )
    else:
        box.addButton(QMessageBox.StandardButton.Ok)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    window.training_box = box
    window.show_message(result.summary().split(". ")[0])
    return box
