"""What the main window is doing, as plain data: what is open, which model, whether a run goes on.

Kept apart from the widgets (no Qt here) so that the controllers that need one fact (the
open folder, the model in use, whether a run is going) are handed this object, not the window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digitsum_gui.worker import ModelSummary


@dataclass
class WindowState:
    """The main window's state between events.

    Attributes
    ----------
    source : list of str
        The folders, files or arrays the table shows results for.
    summary : ModelSummary or None
        The model in use (None until one has loaded).
    rows_model : Path or None
        The model file the table's rows were read with.
    stop : threading.Event or None
        The running run's cancel flag; None while no run goes on.
    pending_run : bool
        Predict again when the cancelled run has finished.
    discard_rows : bool
        Rows still coming from a run whose table was cleared are dropped.
    rerun_after_load : bool
        Predict the open folder again once the model being loaded is in use.
    model_from_settings : bool
        The model being loaded is the one remembered in the settings (a bad one falls back
        to the bundled model quietly).
    """

    source: list[str] = field(default_factory=list)
    summary: ModelSummary | None = None
    rows_model: Path | None = None
    stop: threading.Event | None = None
    pending_run: bool = False
    discard_rows: bool = False
    rerun_after_load: bool = False
    model_from_settings: bool = False

    @property
    def running(self) -> bool:
        """Whether a run goes on (it has a cancel flag)."""
        return self.stop is not None
