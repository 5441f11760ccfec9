"""What the window says about the open folder's labels: where a typed sum went, and the accuracy.

The status bar's accuracy field (``digitsum_gui.labels_controller``), the line after each
saved sum (``digitsum_gui.review``) and after an undo (``digitsum_gui.undo``) word them
here; the labels are ``core.labels.folder_labels.FolderLabels``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.inputs.samples import is_installed_samples

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels


def why_elsewhere(labels: FolderLabels) -> str:
    """Why true sums go to the corrections file rather than the folder's labels.csv (one phrase), or ""."""
    if not labels.uses_corrections_file:
        return ""
    if not labels.folder.is_dir():
        return f"the folder {labels.folder} went away"
    if labels.problem:
        return f"its labels.csv cannot be read ({labels.problem})"
    if is_installed_samples(labels.folder):
        return "the app's own sample images are never changed"
    return f"the folder {labels.folder} cannot be written"


def where_saved(labels: FolderLabels) -> str:
    """Where the last sum went, for a status line: ``labels.csv``, or the corrections file's full path and why."""
    if not labels.uses_corrections_file:
        return labels.saved_to.name
    return f"in {labels.saved_to}, as {why_elsewhere(labels)}"


def accuracy_text(labels: FolderLabels | None, right: int, known: int) -> str:
    """``Right: 23/24 labelled (95.8%)`` for the status bar, or empty with no folder open.

    ``right`` and ``known`` are counted by ``labels.accuracy``.
    """
    if labels is None:
        return ""
    if not known:
        return "No true sums yet"
    return f"Right: {right}/{known} labelled ({right / known:.1%})"
