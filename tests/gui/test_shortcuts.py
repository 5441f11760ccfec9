"""Help > Keyboard Shortcuts: every key the window answers to, read from the actions themselves."""

from PySide6.QtGui import QKeySequence

from digitsum_gui.shortcuts import KEYS, ShortcutsDialog


def test_the_shortcuts_page_lists_every_key_from_the_actions_that_own_them(qtbot, make_window):
    window = make_window()
    help_menu = [a.text().replace("&", "") for a in window.menus["help"].actions()]
    assert help_menu[0] == "Keyboard Shortcuts"
    window.actions["keyboard_shortcuts"].trigger()
    dialog = window.shortcuts_help.dialog
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible()
    shown = dialog.rows()
    keys = {(keys, what.removesuffix(" (in the table)")) for _, keys, what in shown}

    # every action of the window with a key is there, with its key and its name
    actions = [a for a in window.findChildren(type(window.open_action)) if not a.shortcut().isEmpty()]
    assert len(actions) >= 12  # (the menus and the table: a dozen and more)
    for action in actions:
        native = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
        name = action.text().replace("&", "").removesuffix("...")
        assert (native, name) in keys, (native, name)
    # the review's own, and the keys that are no action, and the buttons' Alt+letter
    groups = {group for group, _, _ in shown}
    assert {"File", "Edit", "View", "Model", "Table", "True sum cell", "Filter", "Buttons"} <= groups
    assert {("Space", "Accept Model's Sum"), ("N", "Next Doubtful Row"), ("Shift+N", "Previous Doubtful Row")} <= keys
    assert {("F2", "Edit True Sum"), ("Alt+D", "Doubtful first"), ("Ctrl+Shift+Z, Ctrl+Y", "Redo")} <= keys
    assert any(k.startswith("Ctrl+Z") and what == "Undo" for k, what in keys)  # (and the platform's others)
    assert all((key.shown, key.what) in keys for key in KEYS)
    assert len(shown) == len(set(shown))  # each once
    dialog.close()

    # built when it opens, from the actions: a key changed there is the key shown
    window.review.next_action.setShortcut(QKeySequence("J"))
    window.actions["keyboard_shortcuts"].trigger()
    assert ("Edit", "J", "Next Doubtful Row (in the table)") in window.shortcuts_help.dialog.rows()
