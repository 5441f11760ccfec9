"""The main window's actions, menus and toolbar (File, View, Model, Help), built onto the window.

``build_actions`` makes the actions (as ``window.open_action``, ``window.predict_action``...,
connected to the window's methods); ``build_menus_and_toolbar`` arranges them. Other parts
add their own entries: ``RetrainController`` to ``window.model_menu``, ``ReviewController``
an Edit menu, ``LabelsBackupController`` to ``window.file_menu``, ``SampleImages`` to
``window.help_menu``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

from core.spec import SECOND_LOOK_BELOW
from digitsum_gui.recent import fill_recent_menu


def _action(window, text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    return action


def build_actions(window) -> None:
    """The window's actions, as attributes of it (``open_action``, ``predict_action``, ...)."""
    sp = QStyle.StandardPixmap
    window.open_action = _action(
        window,
        "&Open Folder...",
        window._ask_folder,
        QKeySequence.StandardKey.Open,
        sp.SP_DirOpenIcon,
        "Open a folder of images and predict their sums",
    )
    window.open_model_action = _action(
        window, "Open &Model...", window._ask_model, None, None, "Use another model file (.safetensors)"
    )
    window.export_action = _action(
        window,
        "&Export CSV...",
        window._ask_export,
        "Ctrl+E",
        sp.SP_DialogSaveButton,
        "Write the sums as CSV (the same file as digitsum predict --output)",
    )
    window.quit_action = _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    window.predict_action = _action(
        window, "&Predict", window.predict, "F5", sp.SP_MediaPlay, "Predict the sums of the open folder (again)"
    )
    window.cancel_action = _action(
        window, "&Cancel", window.cancel, "Esc", sp.SP_MediaStop, "Stop after the current batch; finished rows stay"
    )
    window.model_info_action = _action(window, "Model &Info...", window.show_model_info)
    window.about_action = _action(window, "&About digitsum", window.show_about)
    window.auto_predict_action = QAction("Predict When a Folder &Opens", window, checkable=True)
    window.auto_predict_action.setChecked(window.settings.value("auto_predict", True, type=bool))
    window.auto_predict_action.toggled.connect(lambda on: window.settings.setValue("auto_predict", on))
    window.second_look_action = QAction("&Second Look at Doubtful Rows", window, checkable=True)
    window.second_look_action.setStatusTip(
        f"Read rows below {SECOND_LOOK_BELOW:.0%} confidence again from shifted copies "
        "(a few percent slower; takes effect at the next Predict)"
    )
    window.second_look_action.setChecked(window.settings.value("second_look", True, type=bool))
    window.second_look_action.toggled.connect(window._set_second_look)
    window.detail_action = QAction("&Detail Pane", window, checkable=True)
    window.detail_action.setShortcut(QKeySequence("F9"))
    window.detail_action.setStatusTip(
        "The selected row up close: its image at 3x, the digits read, the likeliest sums "
        "(hidden by itself where the window is too narrow for it and the True sum column)"
    )
    window.detail_action.setChecked(window.results.detail.isVisibleTo(window.results))
    window.detail_action.triggered.connect(lambda on: set_detail_pane(window, on))
    window.results.detail_shown.connect(window.detail_action.setChecked)  # hidden or shown for room too


def set_detail_pane(window, on: bool) -> None:
    """View > Detail Pane: the user's choice, remembered. Without room for the pane beside the
    table, the window widens as far as the screen allows."""
    window.settings.setValue("detail_pane", on)
    if window.results.set_detail_wanted(on) or not on:
        return
    short = window.results.detail_room() - window.results.width()
    if window.frameGeometry().width() + short <= window.screen().availableGeometry().width():
        window.resize(window.width() + short, window.height())
        QTimer.singleShot(0, window.fit_screen)  # moved left where it would pass the screen's edge
    else:
        window.detail_action.setChecked(False)
        window.status.showMessage(
            f"No room for the detail pane beside the table on this screen: it needs {short} px more", 8000
        )


def build_menus_and_toolbar(window) -> None:
    """File, View, Model and Help menus (``file_menu``, ``recent_menu``, ``view_menu``,
    ``model_menu``, ``help_menu`` kept on the window) and the toolbar."""
    bar = window.menuBar()
    file_menu = window.file_menu = bar.addMenu("&File")
    file_menu.addAction(window.open_action)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(
        lambda: fill_recent_menu(window.recent_menu, window.settings, window.open_folder)
    )
    file_menu.addAction(window.open_model_action)
    file_menu.addSeparator()
    file_menu.addAction(window.export_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    window.view_menu = bar.addMenu("&View")
    window.view_menu.addAction(window.detail_action)
    window.model_menu = bar.addMenu("&Model")
    for action in (window.predict_action, window.cancel_action, window.auto_predict_action, window.second_look_action):
        window.model_menu.addAction(action)
    window.model_menu.addSeparator()
    window.model_menu.addAction(window.model_info_action)
    help_menu = window.help_menu = bar.addMenu("&Help")  # digitsum_gui.shortcuts adds Keyboard Shortcuts
    help_menu.addAction(window.about_action)

    toolbar = QToolBar("Main")
    toolbar.setObjectName("main_toolbar")  # saveState needs a name
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setMovable(False)
    for action in (window.open_action, window.predict_action, window.cancel_action, window.export_action):
        toolbar.addAction(action)
    window.addToolBar(toolbar)
