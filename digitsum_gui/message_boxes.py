"""Message boxes: errors, notes and offers, opened without a modal loop.

Boxes that tell (errors, notes, offers) never use ``exec()``: a modal loop inside a slot
would stall the rows arriving from the worker (and a test). ``open_box`` opens one
window-modally and returns; every such box in the app goes through it. Only a question
whose answer the caller must have before it returns (cancel a run on close? delete?) asks
with ``QMessageBox.question``. The read-only windows (About, Model info) are
``digitsum_gui.info_dialogs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from collections.abc import Callable
    from os import PathLike

    from PySide6.QtWidgets import QWidget


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
    *,
    informative: str = "",
    details: str = "",
    on_yes: Callable[[], object] | None = None,
    default: QMessageBox.StandardButton | None = None,
) -> QMessageBox:
    """A message box, not yet shown, that deletes itself when closed; ``on_yes`` runs on Yes.

    ``default``: the button Enter presses (Qt's choice where None: Yes in a Yes/No box).
    """
    box = QMessageBox(icon, title, text, buttons, parent)
    if default is not None:
        box.setDefaultButton(default)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)
    if on_yes is not None:
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(on_yes)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # closed boxes never pile up under their parent
    return box


def open_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
    **kwargs,
) -> QMessageBox:
    """``message_box`` shown window-modally with ``open()``: the slot that asked returns at once.

    Keep the box (e.g. ``self._question = open_box(...)``) where a test or a later step needs it.
    """
    box = message_box(parent, icon, title, text, buttons, **kwargs)
    box.open()
    return box


def show_error(parent: QWidget | None, title: str, reason: str, details: str = "") -> QMessageBox:
    """A warning with a one-line ``reason`` and, if given, expandable ``details``."""
    details = details if details and details.strip() != reason.strip() else ""
    return open_box(parent, QMessageBox.Icon.Warning, title, reason, details=details)


def show_info(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """An information box that does not block."""
    return open_box(parent, QMessageBox.Icon.Information, title, text)


def open_or_offer_copy(parent: QWidget | None, path: str | PathLike[str], what: str) -> bool:
    """Open ``path`` (a file or folder) with the system's application for it.

    Where nothing opens it (no desktop launcher, as on many minimal Linux systems) the user
    is told so, with a button that copies the path: never a silent failure.
    """
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    box = message_box(
        parent,
        QMessageBox.Icon.Warning,
        f"Cannot open the {what}",
        f"No application on this system opened the {what}:\n{path}",
        QMessageBox.StandardButton.Close,
        informative="Copy its path and open it yourself.",
    )
    copy = box.addButton("Copy Path", QMessageBox.ButtonRole.AcceptRole)
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(str(path)))
    box.setDefaultButton(copy)
    box.open()
    return False
