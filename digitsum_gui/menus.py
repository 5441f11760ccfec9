"""The menu bar and the toolbar, as data: which action goes where, in one fixed order.

``MENUS`` lists each menu's entries by action name (``ActionSpec.name``), separators and
submenus included; ``TOOLBAR`` the toolbar's. ``install`` builds both from the actions that
the window and its controllers made (``digitsum_gui.actions``), so the order is this file's,
never the order in which the parts were constructed. An action named here that nobody made,
or one made that is named nowhere, is a mistake ``install`` refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

SEPARATOR = "-"


@dataclass(frozen=True)
class MenuSpec:
    """One menu of the menu bar: ``entries`` are action names, ``SEPARATOR`` or submenu names."""

    name: str
    title: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class SubmenuSpec:
    """A submenu whose entries change (File > Open Recent): ``fill(menu)`` runs before it shows."""

    name: str
    title: str
    fill: Callable[[QMenu], None]


MENUS = (
    MenuSpec(
        "file",
        "&File",
        ("open", "recent", "open_model", SEPARATOR, "export", "restore_labels_backup", SEPARATOR, "quit"),
    ),
    MenuSpec(
        "edit",
        "&Edit",
        (
            *("undo", "redo", SEPARATOR, "find", SEPARATOR),
            *("next_doubtful", "previous_doubtful", "accept_sum", "edit_true_sum", "clear_true_sum", SEPARATOR),
            *("open_image", "copy_path"),
        ),
    ),
    MenuSpec("view", "&View", ("detail_pane",)),
    MenuSpec(
        "model",
        "&Model",
        (
            *("predict", "cancel", "auto_predict", "second_look", SEPARATOR),
            *("retrain", "manage_models", SEPARATOR, "model_info"),
        ),
    ),
    MenuSpec("help", "&Help", ("keyboard_shortcuts", "sample_images", "about")),
)
TOOLBAR = ("open", "predict", "cancel", "export")


@dataclass
class Menus:
    """What ``install`` built: the menus and submenus by name, and the toolbar."""

    menus: dict[str, QMenu] = field(default_factory=dict)
    toolbar: QToolBar | None = None


def install(
    window: QMainWindow,
    actions: Mapping[str, QAction],
    submenus: tuple[SubmenuSpec, ...] = (),
    menus: tuple[MenuSpec, ...] = MENUS,
    toolbar: tuple[str, ...] = TOOLBAR,
) -> Menus:
    """Build ``window``'s menu bar and toolbar from ``actions`` in the order of ``menus`` and ``toolbar``.

    Parameters
    ----------
    window : QMainWindow
    actions : mapping of str to QAction
        Every action of the window by name (``make_actions`` of each part's ``action_specs``).
    submenus : tuple of SubmenuSpec
        The submenus that ``menus`` names.
    menus, toolbar
        The layout (default: ``MENUS`` and ``TOOLBAR``).

    Returns
    -------
    Menus

    Raises
    ------
    ValueError
        An entry names no action or submenu, or an action is in no menu and not on the toolbar.
    """
    placed = {entry for menu in menus for entry in menu.entries} | set(toolbar)
    by_name = {submenu.name: submenu for submenu in submenus}
    unknown = sorted(placed - set(actions) - set(by_name) - {SEPARATOR})
    unplaced = sorted(set(actions) - placed)
    if unknown or unplaced:
        raise ValueError(f"menus name unknown entries {unknown} and leave out actions {unplaced}")
    built = Menus()
    bar = window.menuBar()
    for spec in menus:
        menu = built.menus[spec.name] = bar.addMenu(spec.title)
        for entry in spec.entries:
            if entry == SEPARATOR:
                menu.addSeparator()
            elif entry in by_name:
                built.menus[entry] = _add_submenu(menu, by_name[entry])
            else:
                menu.addAction(actions[entry])

    built.toolbar = QToolBar("Main")
    built.toolbar.setObjectName("main_toolbar")  # saveState needs a name
    built.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    built.toolbar.setMovable(False)
    for name in toolbar:
        built.toolbar.addAction(actions[name])
    window.addToolBar(built.toolbar)
    return built


def _add_submenu(menu: QMenu, spec: SubmenuSpec) -> QMenu:
    submenu = menu.addMenu(spec.title)
    submenu.aboutToShow.connect(lambda: spec.fill(submenu))
    return submenu
