"""Menus as data: ``ActionSpec`` makes each action one way, ``install`` places them in ``MENUS``'s order."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle, QTableView, QToolBar

from digitsum_gui.actions import ActionSpec, joined_actions, make_action, make_actions, update_enabled
from digitsum_gui.menus import MENUS, SEPARATOR, TOOLBAR, MenuSpec, SubmenuSpec, install


def _entries(menu) -> list[str]:
    return [SEPARATOR if a.isSeparator() else a.text() for a in menu.actions()]


def test_an_action_is_made_as_its_spec_says(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    view = QTableView()
    qtbot.addWidget(view)
    called = []
    spec = ActionSpec(
        "go",
        "&Go",
        lambda on: called.append(on),
        ("Ctrl+G", "F7"),
        "Go somewhere",
        QStyle.StandardPixmap.SP_MediaPlay,
        checkable=True,
        checked=True,
    )
    action = make_action(spec, window)
    assert action.text() == "&Go" and action.statusTip() == action.toolTip() == "Go somewhere"
    assert action.shortcuts() == [QKeySequence("Ctrl+G"), QKeySequence("F7")] and not action.icon().isNull()
    assert action.isCheckable() and action.isChecked() and action.parent() is window
    action.trigger()
    assert called == [False]  # a toggle's slot gets its new state
    action.setChecked(True)
    assert called == [False]  # set from code: nobody is told

    table_key = make_action(ActionSpec("next", "&Next", lambda: None, "N", widget=view), window)
    assert table_key in view.actions() and table_key.parent() is view
    assert table_key.shortcutContext() == Qt.ShortcutContext.WidgetShortcut  # not while a cell is edited

    built = make_action(
        ActionSpec("made", "&Made", tip="made elsewhere", build=lambda parent: make_action(spec, parent)), window
    )
    assert built.text() == "&Go" and built.statusTip() == "made elsewhere"  # the builder's action, the spec's tip


def test_two_actions_of_one_name_are_refused(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    with pytest.raises(ValueError, match="'a'"):
        make_actions([ActionSpec("a", "A"), ActionSpec("a", "B")], window)
    first, second = make_actions([ActionSpec("a", "A")], window), make_actions([ActionSpec("a", "B")], window)
    with pytest.raises(ValueError, match="'a'"):
        joined_actions(first, second)  # two parts, one name


def test_enabled_when_is_asked_each_time(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    state = {"on": False}
    specs = [ActionSpec("a", "A", enabled_when=lambda: state["on"]), ActionSpec("b", "B")]
    actions = make_actions(specs, window)
    update_enabled(specs, actions)
    assert not actions["a"].isEnabled() and actions["b"].isEnabled()
    state["on"] = True
    update_enabled(specs, actions)
    assert actions["a"].isEnabled()


def test_the_layout_sets_the_order_not_the_order_actions_were_made_in(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    specs = [ActionSpec(name, name.title()) for name in ("quit", "about", "open")]  # made backwards
    filled = []
    recent = SubmenuSpec("recent", "Recent", lambda menu: filled.append(menu))
    layout = (MenuSpec("file", "File", ("open", "recent", SEPARATOR, "quit")), MenuSpec("help", "Help", ("about",)))
    built = install(window, make_actions(specs, window), (recent,), layout, ("open",))
    assert [a.text() for a in window.menuBar().actions()] == ["File", "Help"]
    assert _entries(built.menus["file"]) == ["Open", "Recent", SEPARATOR, "Quit"]
    assert _entries(built.menus["help"]) == ["About"]
    built.menus["recent"].aboutToShow.emit()
    assert filled == [built.menus["recent"]]
    assert [a.text() for a in built.toolbar.actions()] == ["Open"] and built.toolbar.objectName() == "main_toolbar"


def test_an_action_in_no_menu_or_a_menu_entry_without_an_action_is_refused(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = make_actions([ActionSpec("open", "Open"), ActionSpec("stray", "Stray")], window)
    with pytest.raises(ValueError, match="stray"):
        install(window, actions, (), (MenuSpec("file", "File", ("open",)),), ())
    with pytest.raises(ValueError, match="missing"):
        install(window, actions, (), (MenuSpec("file", "File", ("open", "stray", "missing")),), ())


def test_the_windows_menus_and_toolbar_are_the_layouts(make_window):
    window = make_window()
    bar = window.menuBar().actions()
    assert [a.text() for a in bar] == [menu.title for menu in MENUS]
    for menu in MENUS:
        shown = window.menus[menu.name].actions()
        assert len(shown) == len(menu.entries), menu.name
        for entry, action in zip(menu.entries, shown, strict=True):
            if entry == SEPARATOR:
                assert action.isSeparator()
            elif entry in window.menus:  # a submenu (File > Open Recent)
                assert action.menu() is window.menus[entry]
            else:
                assert action is window.actions[entry], (menu.name, entry)
    toolbar = window.findChild(QToolBar, "main_toolbar")
    assert toolbar.actions() == [window.actions[name] for name in TOOLBAR]
