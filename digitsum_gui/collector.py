"""Python's cycle collector, run on the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate when a threshold is
crossed: in this app often the prediction worker's thread. A cycle that holds Qt widgets
(a closed window is not freed by reference counting) then destroys them off the GUI thread,
which Qt does not allow: a fresh-clone test run crashed that way ("Fatal Python error:
Segmentation fault", "Garbage-collecting" on the worker thread while it built a model). So
the automatic collector is switched off and a timer on the GUI thread does its work, one
generation at a time when its threshold is passed, as pyqtgraph does.

A full collection in a process that holds torch takes 113-120 ms (measured), a stall the GUI
cannot afford during a run; ``settle`` does one and freezes what survives (``gc.freeze``:
torch, Qt, the model) once a model has loaded, so later full collections only look at what
came after.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200

_installed: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Turns Python's automatic collection off and collects from a timer on this thread."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(interval_ms)

    def collect_due(self) -> None:
        """Collect the oldest generation whose count passed its threshold (cheap when none did)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def settle(self) -> None:
        """One full collection now, then keep the survivors out of all later ones."""
        gc.collect()
        gc.freeze()


def collect_on_gui_thread() -> GuiThreadCollector:
    """Install the collector once per process (call on the GUI thread, with a QApplication)."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector()
    return _installed
