"""Help > Sample Images (and the empty window's Try the Sample Images): open a copy, say where.

The installed ``resources/samples`` is never opened itself: sums typed there would rewrite the
installation's ``labels.csv``. ``core.inputs.samples.copy_samples`` copies it into the data folder and
the window opens the copy; the status bar says where it is, when the folder opens and again
when its first run ends (the run's own messages would otherwise cover it at once).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar, QWidget

from digitsum_gui.actions import ActionSpec, make_actions
from digitsum_gui.message_boxes import show_error
from digitsum_gui.paths import home_relative

if TYPE_CHECKING:
    from digitsum_gui.window_state import WindowState


class SampleImages(QObject):
    """Opens the copy of the sample images in one ``MainWindow``.

    Parameters
    ----------
    open_folder : callable
        ``MainWindow.open_folder``: opens a folder, False when it could not.
    status : QStatusBar
        Where the copy's place is said.
    state : WindowState
        What is open, whether a run goes on.
    scratch_dir : Path
        Where the copy goes (``ModelStore.samples_dir``).
    parent : QWidget
        The window: an error box opens over it.

    Attributes
    ----------
    action_specs, actions
        Help > Sample Images (``sample_images``), as spec and ``QAction``. The window also
        connects its empty hint's Try the Sample Images to ``open`` and its ``run_finished``
        to ``say_after_run``.
    """

    def __init__(
        self,
        open_folder: Callable[[str | Path], bool],
        status: QStatusBar,
        state: WindowState,
        scratch_dir: Path,
        parent: QWidget,
    ):
        super().__init__(parent)
        self.parent_widget, self.open_folder, self.status, self.state = parent, open_folder, status, state
        self.scratch_dir = Path(scratch_dir)
        self.note = ""  # what the status bar says about the copy; "" once said after its run
        self._folder = ""  # the copy, as the window names what it opened
        self.action_specs = [
            ActionSpec(
                "sample_images",
                "&Sample Images",
                self.open,
                tip="Open a copy of the 24 sample images that come with the app, with their true sums",
            )
        ]
        self.actions = make_actions(self.action_specs, parent)
        self.action = self.actions["sample_images"]

    def open(self) -> bool:
        """Copy the samples (keeping sums typed into an earlier copy) and open the copy."""
        from core.inputs.samples import SamplesError, copy_samples

        try:
            folder = copy_samples(self.scratch_dir)
        except SamplesError as exc:
            show_error(self.parent_widget, "Sample images not opened", str(exc))
            return False
        if not self.open_folder(folder):
            return False
        self._folder = os.path.abspath(folder)
        # short: beside it the status bar's model name and figure give way to it while it shows
        self.note = f"Sample images: a copy in {home_relative(folder)}"
        said = self.status.currentMessage()  # "press Predict (F5)" where nothing runs by itself
        self.status.showMessage(f"{said}. {self.note}" if said and not self.state.running else self.note)
        return True

    def say_after_run(self, cancelled: bool) -> None:
        """After the copy's run: the run's ending, then where the copy is."""
        if not self.note:
            return
        if self.state.source != [self._folder]:
            self.note = ""  # another folder was opened meanwhile
        elif not cancelled:  # (a run given up for the samples ends cancelled: the samples' own follows)
            self.status.showMessage(f"{self.status.currentMessage()}. {self.note}")
            self.note = ""
