"""Help > Sample Images (and the empty window's Try the Sample Images): open a copy, say where.

The installed ``resources/samples`` is never opened itself: sums typed there would rewrite the
installation's ``labels.csv``. ``core.inputs.samples.copy_samples`` copies it into the data folder and
the window opens the copy; the status bar says where it is, when the folder opens and again
when its first run ends (the run's own messages would otherwise cover it at once).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from digitsum_gui.message_boxes import show_error


class SampleImages(QObject):
    """Opens the copy of the sample images in one ``MainWindow``.

    Parameters
    ----------
    window : MainWindow
    scratch_dir : Path
        Where the copy goes (``ModelStore.samples_dir``).
    """

    def __init__(self, window, scratch_dir: Path):
        super().__init__(window)
        self.window, self.scratch_dir = window, Path(scratch_dir)
        self.note = ""  # what the status bar says about the copy; "" once said after its run
        self._folder = ""  # the copy, as the window names what it opened
        self.action = QAction("&Sample Images", window)
        self.action.setStatusTip("Open a copy of the 24 sample images that come with the app, with their true sums")
        self.action.triggered.connect(self.open)
        first = next(iter(window.help_menu.actions()), None)  # above About
        window.help_menu.insertAction(first, self.action)
        window.results.hint.samples_requested.connect(self.open)
        window.run_finished.connect(self._say_after_run)

    def open(self) -> bool:
        """Copy the samples (keeping sums typed into an earlier copy) and open the copy."""
        from core.inputs.samples import SamplesError, copy_samples

        try:
            folder = copy_samples(self.scratch_dir)
        except SamplesError as exc:
            show_error(self.window, "Sample images not opened", str(exc))
            return False
        if not self.window.open_folder(folder):
            return False
        self._folder = os.path.abspath(folder)
        self.note = f"Sample images: a copy in {folder} (sums typed there stay there; the app's own are never changed)"
        said = self.window.status.currentMessage()  # "press Predict (F5)" where nothing runs by itself
        self.window.status.showMessage(f"{said}. {self.note}" if said and not self.window.running else self.note)
        return True

    def _say_after_run(self, cancelled: bool) -> None:
        """After the copy's run: the run's ending, then where the copy is."""
        if not self.note:
            return
        if self.window.source != [self._folder]:
            self.note = ""  # another folder was opened meanwhile
        elif not cancelled:  # (a run given up for the samples ends cancelled: the samples' own follows)
            self.window.status.showMessage(f"{self.window.status.currentMessage()}. {self.note}")
            self.note = ""
