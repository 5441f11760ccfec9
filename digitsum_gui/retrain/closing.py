"""What closing a window means while a model trains: the question, and its three answers.

Closing the Retrain dialog or quitting the app during a run asks (``ask_how_to_close``):

- **Stop and Keep Best Epoch** (the default): the run is asked to stop through its ``STOP``
  file, as Stop early does (``digitsum train`` honours it between steps); the best epoch so
  far is kept as a model in Model > Manage Models, and the window closes once it is saved;
- **Discard Run**: the child is killed and the run's folder deleted, then the window closes;
- **Keep Training** (Esc): nothing happens, the window stays.

It is the one question that blocks (``exec``): a close event needs its answer before it returns.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

STOP_AND_KEEP, DISCARD, KEEP_TRAINING = "stop", "discard", "keep"


def ask_how_to_close(parent: QWidget, title: str, what: str) -> str:
    """Ask what to do with the run going on; ``STOP_AND_KEEP``, ``DISCARD`` or ``KEEP_TRAINING``.

    ``what``: the sentence that says what is being closed ("Close the Retrain dialog?").
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, f"A model is training. {what}", parent=parent)
    box.setInformativeText(
        "Stop and Keep Best Epoch ends the run after its current step and keeps the best model so far "
        "(Model > Manage Models); the window closes once it is saved. Discard Run deletes the run."
    )
    stop = box.addButton("Stop and Keep Best Epoch", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard Run", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep Training", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stop)
    box.setEscapeButton(keep)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return STOP_AND_KEEP if clicked is stop else DISCARD if clicked is discard else KEEP_TRAINING
