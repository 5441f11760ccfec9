"""File > Open Recent: the folders opened last, kept in the app's settings.

A folder that no longer exists is dropped from the list when it is chosen (the window says
so once and keeps what it shows): it never becomes the last folder or moves to the top.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


def recent_folders(settings: QSettings) -> list[str]:
    """The remembered folders, most recent first."""
    value = settings.value("recent_folders", [])
    if isinstance(value, str):  # an INI file with one entry reads back as a string
        value = [value]
    return [str(v) for v in value or []]


def remember_folder(settings: QSettings, folder: str) -> None:
    """``folder`` was opened: it is the last folder and heads the list."""
    settings.setValue("last_folder", folder)
    recent = [folder] + [f for f in recent_folders(settings) if f != folder]
    settings.setValue("recent_folders", recent[:MAX_RECENT])


def forget_folder(settings: QSettings, folder: str) -> None:
    """Drop ``folder`` from the list (and as the last folder)."""
    settings.setValue("recent_folders", [f for f in recent_folders(settings) if f != folder])
    if settings.value("last_folder", "", type=str) == folder:
        settings.remove("last_folder")


def fill_recent_menu(menu: QMenu, settings: QSettings, open_folder: Callable[[str], object]) -> None:
    """Rebuild ``menu`` (on ``aboutToShow``): one entry per folder, calling ``open_folder(path)``."""
    menu.clear()
    folders = recent_folders(settings)
    for folder in folders:
        action = menu.addAction(folder)
        action.triggered.connect(lambda _=False, f=folder: open_folder(f))
    if not folders:
        menu.addAction("(none)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear Menu").triggered.connect(lambda: settings.remove("recent_folders"))
