"""The main window's own actions (File, View, Model and Help entries) as ``ActionSpec``s.

``window_action_specs`` lists them, with the window's operations as their slots; the other
entries are the controllers' (``ReviewController``: the Edit menu; ``LabelsBackupController``,
``SampleImages``, ``RetrainController``, ``ShortcutsHelp``: one or two each). Where each goes
is ``digitsum_gui.menus.MENUS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QStyle

from core.spec import CROWDED_LOOK_BELOW, SECOND_LOOK_BELOW
from digitsum_gui.actions import ActionSpec

if TYPE_CHECKING:
    from digitsum_gui.main_window import MainWindow


def window_action_specs(window: MainWindow) -> list[ActionSpec]:
    """The window's own actions: opening, exporting, predicting, the detail pane, the model's info.

    Parameters
    ----------
    window : MainWindow
        Their slots are its operations; the toggles start as its settings say.

    Returns
    -------
    list of ActionSpec
    """
    sp = QStyle.StandardPixmap
    settings, state = window.settings, window.state
    return [
        ActionSpec(
            "open",
            "&Open Folder...",
            window.ask_folder,
            QKeySequence.StandardKey.Open,
            "Open a folder of images and predict their sums",
            sp.SP_DirOpenIcon,
        ),
        ActionSpec("open_model", "Open &Model...", window.ask_model, tip="Use another model file (.safetensors)"),
        ActionSpec(
            "export",
            "&Export CSV...",
            window.ask_export,
            "Ctrl+E",
            "Write the sums as CSV (the same file as digitsum predict --output)",
            sp.SP_DialogSaveButton,
            enabled_when=lambda: bool(window.table_model.rows),
        ),
        ActionSpec("quit", "&Quit", window.close, QKeySequence.StandardKey.Quit),
        ActionSpec(
            "predict",
            "&Predict",
            window.predict,
            "F5",
            "Predict the sums of the open folder (again)",
            sp.SP_MediaPlay,
            enabled_when=lambda: bool(state.source) and not state.running,
        ),
        ActionSpec(
            "cancel",
            "&Cancel",
            window.cancel,
            "Esc",
            "Stop after the current batch; finished rows stay",
            sp.SP_MediaStop,
            enabled_when=lambda: state.running,
        ),
        ActionSpec(
            "auto_predict",
            "Predict When a Folder &Opens",
            lambda on: settings.setValue("auto_predict", on),
            checkable=True,
            checked=settings.value("auto_predict", True, type=bool),
        ),
        ActionSpec(
            "second_look",
            "&Second Look at Doubtful Rows",
            window.set_second_look,
            tip=f"Read rows below {SECOND_LOOK_BELOW:.0%} confidence again from shifted copies, and rows whose "
            f"digits crowd into under half the width below {CROWDED_LOOK_BELOW:.0%} from a stretched one "
            "(a few percent slower; takes effect at the next Predict)",
            checkable=True,
            checked=settings.value("second_look", True, type=bool),
        ),
        ActionSpec(
            "detail_pane",
            "&Detail Pane",
            lambda on: set_detail_pane(window, on),
            "F9",
            "The selected row up close: its image at 3x, the digits read, the likeliest sums "
            "(hidden by itself where the window is too narrow for it and the True sum column)",
            checkable=True,
            checked=window.results.detail.isVisibleTo(window.results),
        ),
        ActionSpec("model_info", "Model &Info...", window.show_model_info),
        ActionSpec("about", "&About digitsum", window.show_about),
    ]


def set_detail_pane(window: MainWindow, on: bool) -> None:
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
        window.actions["detail_pane"].setChecked(False)
        window.status.showMessage(
            f"No room for the detail pane beside the table on this screen: it needs {short} px more", 8000
        )
