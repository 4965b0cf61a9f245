"""The main window's long tasks: starting them (scan, regroup, export, the Settings
dialog's fetch, re-embed and training, the offered model switch) and telling the user how
they ended."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import QFileDialog, QMessageBox

from album.gui import core
from album.gui.jobs import Job, JobError, JobKind

log = logging.getLogger(__name__)


class WindowJobs:
    """The window's jobs, mixed into ``MainWindow``: it provides ``runner``, ``session``,
    ``settings``, ``ready``, the actions, ``people_page``, ``refresh`` and the messages
    (``PeopleOps``)."""

    def start_job(self, job: Job, on_done: Callable[[Any], None] | None = None) -> bool:
        if not self.runner.start(job, on_done):
            self.show_message(f"Wait for “{self.runner.current}” to finish first", error=True)
            return False
        return True

    def _busy_changed(self, busy: bool) -> None:
        for a in (self.a_scan, self.a_group, self.a_export):
            a.setEnabled(not busy and (self.ready or a is self.a_scan))
        self.a_add.setEnabled(not busy)

    def add_folder(self) -> None:
        start = str(self.settings.value("last_folder", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Choose a photo folder", start)
        if folder:
            self.scan([folder])

    def scan(self, folders: list[str] | None = None) -> bool:
        """Scan ``folders`` (added to the catalog), or every known folder."""
        if folders:
            self.settings.setValue("last_folder", folders[-1])
            folders = [os.path.abspath(f) for f in folders]
        else:
            folders = [f.path for f in self.session.catalog.folders()]
        if not folders:
            self.add_folder()
            return False
        self.last_folders = folders
        device = str(self.settings.value("device", "auto"))
        started = self.start_job(core.scan_job(self.session.path, folders, device))
        if started and not self.people_page.model.rowCount():
            self.people_page.set_empty(
                "Looking for faces… people appear here as they are found.", show_button=False
            )
        return started

    def recluster(self) -> None:
        if self.ready:
            self.start_job(core.recluster_job(self.session.path))

    def export(self) -> None:
        out = QFileDialog.getExistingDirectory(self, "Export people to folder")
        if out:
            self.start_job(core.export_job(self.session.path, Path(out)))

    def open_settings(self) -> None:
        from album.gui.dialogs import SettingsDialog

        d = SettingsDialog(self.session, self.settings, self)
        d.add_folder_requested.connect(lambda: (d.accept(), self.add_folder()))
        d.scan_requested.connect(lambda: (d.accept(), self.scan()))
        d.fetch_requested.connect(
            lambda name, file: self.start_job(core.fetch_weights_job(name, file or None))
        )
        d.reembed_requested.connect(
            lambda name: (
                d.accept(),
                self.start_job(
                    core.reembed_job(
                        self.session.path, name, str(self.settings.value("device", "auto"))
                    )
                ),
            )
        )
        d.train_requested.connect(
            lambda base: (
                d.accept(),
                self.start_job(
                    core.train_job(
                        self.session.path,
                        base,
                        personal_model_name(base),
                        str(self.settings.value("device", "auto")),
                    ),
                ),
            )
        )
        d.accepted.connect(self.refresh)
        d.open()
        self.settings_dialog = d

    def _job_finished(self, job: Job, result: Any) -> None:
        self.last_result = result
        if job.kind is JobKind.SCAN:
            s = result.scan
            text = (
                f"Scan stopped after {s.photos} photos; scan again to resume"
                if s.cancelled
                else f"Scanned {s.photos} new photos, {s.faces} faces"
            )
            if s.errors:
                text += f", {s.errors} unreadable"
            if result.names is not None and result.names.named:
                text += f" · {result.names.named} named from the photos' metadata"
            if result.cluster is not None:
                text += f" · {result.cluster.clusters} groups"
            self.show_message(text)
        elif job.kind is JobKind.EXPORT:
            self.show_message(
                f"Exported {result.people} people ({result.photos} photos) to {result.folder}"
            )
        elif job.kind is JobKind.TRAINING:
            from album.gui.dialogs import training_finished

            training_finished(self, result)  # what changed, in words; offers to re-group
        elif job.kind in (JobKind.GROUPING, JobKind.ADOPT):
            self.show_message(
                f"Grouped into {result.clusters} unnamed groups "
                f"({result.assigned} faces recognised)"
            )
        if job.refresh:
            self.refresh()

    def _job_failed(self, job: Job | str, err: JobError) -> None:
        """A job failed (or, ``job`` a title, loading the core did)."""
        title = job.title if isinstance(job, Job) else job
        self.last_error = err
        log.error("job %s failed: %s\n%s", title, err, err.details)
        with contextlib.suppress(Exception):  # the failure itself is what the user must see
            self.refresh()
        self.show_error(f"{title} failed", str(err), err.details)

    def offer_default_model(self) -> None:
        """Once per catalog: a catalog on an earlier default model is offered the current one,
        in words, with the time it takes (``album.scan.model_switch``)."""
        from album.scan.model_switch import mark_offered, switch_offer

        if self.runner.busy or not shiboken6.isValid(self):
            return  # asked when the app next opens
        offer = switch_offer(self.session.catalog)
        if offer is None:
            return
        try:
            mark_offered(self.session.catalog)
        except sqlite3.OperationalError:  # busy: another program writes the catalog
            return  # asked when the app next opens
        box = QMessageBox(self, icon=QMessageBox.Icon.Question, text=offer.words())
        box.setWindowTitle("A better face model")
        box.setInformativeText("You can also switch later in Settings, under Face model.")
        switch = box.addButton("Switch now", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(switch)

        def answered() -> None:
            if box.clickedButton() is switch:
                device = str(self.settings.value("device", "auto"))
                self.start_job(core.reembed_job(self.session.path, offer.proposed, device))

        box.finished.connect(answered)
        box.open()
        self.model_offer = box


def personal_model_name(base: str) -> str:
    """A new personal model's name: its base's, made a file name ("dlib+sface" ->
    "dlib-sface"), with the date and time."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '-', base)}-mine-{time.strftime('%Y%m%d-%H%M')}"
