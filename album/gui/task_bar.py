"""The window's task bar: the running job's text, progress with counts, ETA, Pause / Resume
and Cancel; shown while a job runs."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from album.gui.jobs import Job, JobProgress, JobRunner, format_eta
from album.gui.widgets import icon


class TaskBar(QWidget):
    """The running job: text, a progress bar with counts, ETA, Pause/Resume and Cancel."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskBar")
        self.runner = runner
        self.text = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(260)
        self.bar.setTextVisible(True)
        self.eta = QLabel()
        self.eta.setObjectName("dim")
        self.pause = QPushButton(icon("pause"), "Pause")
        self.cancel = QPushButton(icon("cancel"), "Cancel")
        self.cancel.setToolTip("Stop after the photos in progress; scanning again resumes")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        lay.addWidget(self.text)
        lay.addWidget(self.bar)
        lay.addWidget(self.eta)
        lay.addStretch(1)
        lay.addWidget(self.pause)
        lay.addWidget(self.cancel)
        self.pause.clicked.connect(self._pause)
        self.cancel.clicked.connect(self._cancel)
        runner.started.connect(self._started)
        runner.progress.connect(self.show_progress)
        runner.busy_changed.connect(lambda busy: self.setVisible(busy))
        self.hide()

    def _started(self, job: Job) -> None:
        self.text.setText(job.title)
        self.bar.setRange(0, 0)
        self.eta.clear()
        self.pause.setText("Pause")
        self.pause.setVisible(job.pausable)
        self.cancel.setEnabled(job.cancellable)
        self.cancel.setText("Cancel")

    def show_progress(self, p: JobProgress) -> None:
        self.text.setText(p.text)
        if p.total > 0:
            self.bar.setRange(0, p.total)
            # The text first: setValue repaints the bar at once, with the format it has.
            self.bar.setFormat(f"{p.done} / {p.total}")
            self.bar.setValue(p.done)
        else:
            self.bar.setRange(0, 0)
        self.eta.setText(format_eta(p.eta_seconds))

    def _pause(self) -> None:
        c = self.runner.control
        if c is None:
            return
        if c.paused:
            c.resume()
            self.pause.setText("Pause")
        else:
            c.pause()
            self.pause.setText("Resume")

    def _cancel(self) -> None:
        self.runner.cancel()
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
