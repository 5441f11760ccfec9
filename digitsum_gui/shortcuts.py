"""Help > Keyboard Shortcuts: every key the window answers to, read from where it is defined.

Nothing here is a copy of a key kept elsewhere. The page is filled when it opens:

- from the window's actions (``QAction.shortcuts()``): the menus' (Ctrl+O, F5, Ctrl+Z, ...)
  and the table's own (``digitsum_gui.review``: Space, N, Shift+N, F2, Delete);
- from the ``Key`` entries below, for keys that are no action: the code that handles them asks
  the same entry (``Key.matches``), so a key moved there moves here (two are Qt's own: Esc in
  the cell, and Tab on a table whose tab-key navigation is off);
- from the buttons' underlined letters (Alt+D: Doubtful first), read from their text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from digitsum_gui.actions import ActionSpec, make_actions
from digitsum_gui.info_dialogs import fill_with_close_button
from digitsum_gui.style import bold

ShortcutRow = tuple[str, str, str]  # (keys, what it does, tip)

_IGNORED = Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier  # Shift+Tab is Backtab


@dataclass(frozen=True)
class Key:
    """A key handled by an event filter rather than an action: what the page shows, and what
    the handler matches."""

    shown: str
    what: str
    place: str  # the group it is listed under: where the focus must be
    keys: tuple[Qt.Key, ...]

    def matches(self, event: QKeyEvent) -> bool:
        """Whether a key event is this key (Shift and the keypad aside; no Ctrl, Alt or Meta)."""
        return event.key() in self.keys and not event.modifiers() & ~_IGNORED


_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
TABLE, CELL, FILTER = "Table", "True sum cell", "Filter"

TYPE_SUM = Key(
    "0 ... 9",
    "Start typing the row's true sum, whichever column is current",
    TABLE,
    tuple(range(Qt.Key.Key_0, Qt.Key.Key_9 + 1)),
)
OPEN_CELL = Key("Enter", "Open the row's True sum cell with the model's sum in it", TABLE, _ENTER)
LEAVE_TABLE = Key(  # Qt's own, once the view's tab-key navigation is off (table.view.make_table_view)
    "Tab, Shift+Tab",
    "Go to the next (previous) control, not the next cell",
    TABLE,
    (Qt.Key.Key_Tab, Qt.Key.Key_Backtab),
)
SAVE_SUM = Key(
    "Enter",
    "Save the sum, on to the next doubtful row (outside 0-36: refused, the cell stays open)",
    CELL,
    _ENTER,
)
SAVE_AND_LEAVE = Key("Tab, Shift+Tab", "Save the sum and leave the table", CELL, LEAVE_TABLE.keys)
CANCEL_EDIT = Key("Esc", "Leave the cell as it was (Qt's own)", CELL, (Qt.Key.Key_Escape,))
CLEAR_FILTER = Key(
    "Esc",
    "Empty the name filter while it has text (on the table too, unless a run is going)",
    FILTER,
    (Qt.Key.Key_Escape,),
)
KEYS = (TYPE_SUM, OPEN_CELL, LEAVE_TABLE, SAVE_SUM, SAVE_AND_LEAVE, CANCEL_EDIT, CLEAR_FILTER)


def _text(action_or_button: QAction | QAbstractButton) -> str:
    return action_or_button.text().replace("&&", "\0").replace("&", "").replace("\0", "&").removesuffix("...")


def _native(sequences: Iterable[QKeySequence]) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences if not s.isEmpty())


def shortcut_groups(window: QMainWindow, view: QTableView) -> list[tuple[str, list[ShortcutRow]]]:
    """``[(group, [(keys, what, tip), ...]), ...]``: the menus' actions with keys, menu by menu,
    then the table's, the cell's and the filter's keys, then the buttons' Alt+letter.

    Parameters
    ----------
    window : QMainWindow
        Its menu bar's actions, and the buttons of its central widget.
    view : QTableView
        The table, whose own actions (``QWidget.actions()``) work where it has the focus.
    """
    groups: list[tuple[str, list[ShortcutRow]]] = []
    listed: set[QAction] = set()

    def add(group: str, rows: list[ShortcutRow]) -> None:
        for name, known in groups:
            if name == group:
                known.extend(rows)
                return
        if rows:
            groups.append((group, rows))

    def what(action: QAction) -> str:
        # a key of the table's own works where the table has the focus (not in the filter, say)
        return _text(action) + (" (in the table)" if view in action.associatedObjects() else "")

    def from_menu(menu: QMenu) -> list[ShortcutRow]:
        rows = []
        for action in menu.actions():
            if action.menu() is not None:
                rows += from_menu(action.menu())
            elif keys := _native(action.shortcuts()):
                listed.add(action)
                rows.append((keys, what(action), action.statusTip()))
        return rows

    for entry in window.menuBar().actions():
        if entry.menu() is not None:
            add(_text(entry), from_menu(entry.menu()))
    # the table's actions in no menu, then the keys that are no action
    add(
        TABLE,
        [
            (_native(a.shortcuts()), what(a), a.statusTip())
            for a in view.actions()
            if a not in listed and _native(a.shortcuts())
        ],
    )
    for key in KEYS:
        add(key.place, [(key.shown, key.what, "")])
    buttons = [
        b for b in window.centralWidget().findChildren(QAbstractButton) if not QKeySequence.mnemonic(b.text()).isEmpty()
    ]
    add("Buttons", [(_native([QKeySequence.mnemonic(b.text())]), _text(b), b.toolTip()) for b in buttons])
    return groups


class ShortcutsDialog(QDialog):
    """A small window listing ``shortcut_groups``: keys, and what each does.

    Parameters
    ----------
    groups : list
        ``shortcut_groups(...)``.
    parent : QWidget
    """

    def __init__(self, groups: list[tuple[str, list[ShortcutRow]]], parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(620, 560)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Keys", "What it does"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)  # a long line wraps in the window's width
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for group, rows in groups:
            head = QTreeWidgetItem(self.tree, [group])
            head.setFont(0, bold(head.font(0)))
            head.setFirstColumnSpanned(True)
            for keys, what, tip in rows:
                item = QTreeWidgetItem(head, [keys, what])
                item.setToolTip(1, tip or what)
        self.tree.expandAll()
        fill_with_close_button(self, self.tree)

    def rows(self) -> list[tuple[str, str, str]]:
        """``(group, keys, what)`` of every line shown, in order."""
        root = self.tree.invisibleRootItem()
        return [
            (root.child(g).text(0), root.child(g).child(i).text(0), root.child(g).child(i).text(1))
            for g in range(root.childCount())
            for i in range(root.child(g).childCount())
        ]


class ShortcutsHelp(QObject):
    """Help > Keyboard Shortcuts (``keyboard_shortcuts``): a ``ShortcutsDialog`` read afresh each time it opens.

    Parameters
    ----------
    window : QMainWindow
        Whose menus and buttons are listed; the dialog opens over it.
    view : QTableView
        The table, whose own keys are listed.

    Attributes
    ----------
    action_specs, actions
        The menu entry, as spec and ``QAction``.
    dialog : ShortcutsDialog or None
        The page last opened (tests read it).
    """

    def __init__(self, window: QMainWindow, view: QTableView):
        super().__init__(window)
        self.window, self.view = window, view
        self.dialog: ShortcutsDialog | None = None
        self.action_specs = [
            ActionSpec(
                "keyboard_shortcuts",
                "&Keyboard Shortcuts",
                self.show,
                tip="Every key the window answers to, and what it does",
            )
        ]
        self.actions = make_actions(self.action_specs, window)
        self.action = self.actions["keyboard_shortcuts"]

    def show(self) -> ShortcutsDialog:
        """Open the page, listing the keys as they are now."""
        self.dialog = ShortcutsDialog(shortcut_groups(self.window, self.view), self.window)
        self.dialog.show()
        return self.dialog
