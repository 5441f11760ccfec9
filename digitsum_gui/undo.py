"""Edit > Undo / Redo for the true sums: every sum typed or cleared, a bulk clear as one step.

A step keeps the labels files as they were before it and after it
(``core.labels.folder_labels.FolderLabels.snapshot``), so Undo gives back ``labels.csv`` itself, byte
for byte: a cleared row comes back in its place, with its digits and any other columns, not
at the end of the file. (Another window that saved into the same file meanwhile keeps its
corrections: then only the sums the step changed are put back; ``FolderLabels.restore``.)

The history belongs to the labels of one folder: opening another folder, or labels read again
because they changed on disk, starts it afresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from digitsum_gui.labels_status import where_saved

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels, LabelsSnapshot
    from digitsum_gui.table.model import PredictionTableModel


class TrueSumChange(QUndoCommand):
    """One step: the labels files before and after one edit (or one bulk clear).

    It is pushed once the change has been saved, so its first ``redo()`` (which ``push`` calls)
    has nothing to do.
    """

    def __init__(
        self, stack: LabelsUndoStack, labels: FolderLabels, before: LabelsSnapshot, after: LabelsSnapshot, text: str
    ):
        super().__init__(text)
        self._stack, self.labels, self.before, self.after = stack, labels, before, after
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._stack.put_back(self.labels, self.after, self.before, f"Redone: {self.text()}")

    def undo(self) -> None:
        self._stack.put_back(self.labels, self.before, self.after, f"Undone: {self.text()}")


class LabelsUndoStack(QUndoStack):
    """The undo history of the true sums shown by one ``PredictionTableModel``.

    Parameters
    ----------
    model : PredictionTableModel
        Its ``labels`` are what is recorded; it is refreshed after an undo or redo.

    Signals
    -------
    restored(str)
        An undo or redo put the labels back; what it did, in one line.
    failed(str)
        An undo or redo could not write a labels file (what is shown is what is on disk).
    """

    restored = Signal(str)
    failed = Signal(str)

    def __init__(self, model: PredictionTableModel):
        super().__init__(model)
        self.model = model
        self._depth = 0  # recordings open: a bulk clear holds one around each row's own

    @contextlib.contextmanager
    def recording(self, text: str) -> Iterator[None]:
        """Record what the block changes in the labels files as one undo step named ``text``.

        Nested recordings are part of the outermost one. Nothing is pushed when the files
        did not change (a sum typed again as it was, or a save that failed).
        """
        labels = self.model.labels
        if labels is None or self._depth:
            yield
            return
        before = labels.snapshot()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            after = labels.snapshot()
            if after.files != before.files:
                self.push(TrueSumChange(self, labels, before, after, text))

    def put_back(self, labels: FolderLabels, snapshot: LabelsSnapshot, now: LabelsSnapshot, said: str) -> None:
        """Make ``labels``' files ``snapshot`` again (they are ``now``), and say so as ``said``."""
        from core.files import WriteError

        try:
            labels.restore(snapshot, now)
        except WriteError as exc:
            self.failed.emit(f"{said} could not be saved: {exc}")
        else:
            self.restored.emit(f"{said} ({where_saved(labels)})")  # a corrections file by its full path and why
        if self.model.labels is labels:
            self.model.labels_restored()
