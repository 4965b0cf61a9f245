"""The Review page: suggested faces and possible merges, one question at a time (Y yes,
N no, S skip)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from album.gui.thumbs import ThumbnailCache
from album.gui.widgets import QuestionCard, icon
from album.people.overview import best_faces

if TYPE_CHECKING:
    from album.gui.core import ReviewItem, Session
    from album.gui.people_ops import Op


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
