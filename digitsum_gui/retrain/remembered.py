"""The Retrain form's choices, remembered between openings and sessions in the app's settings.

The window's ``QSettings`` (tests give it a scratch file) keeps them under ``retrain/``:
the data (this folder's labels, the other folders and arrays, the synthetic images), the
starting point (and whether a fine-tune keeps what it reads), network, head and device, the
schedule, and the extra flags. ``restore`` puts back only what still applies:

- a folder or array that has gone, or lost its labels, is left out without a word;
- "this folder's labels" only when the open folder has some; fine-tuning only with a model
  in use (fine-tuning keeps its network, so the network chosen is put back for a new model
  only); a device only where it is still there;
- the schedule only for the network, head and starting point it was chosen for, and only while
  their recipe (``core.train.command.default_hyperparameters``) is the one it was chosen from:
  another one, or a recipe changed since, starts from the recipe's values, as a fresh form does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QLineEdit, QSpinBox

from core.train.command import default_hyperparameters
from digitsum_gui.retrain.controls import control_value, set_control_value

if TYPE_CHECKING:
    from digitsum_gui.retrain.form import TrainForm

GROUP = "retrain"
# Whether composed images are ticked. Named anew when their default became "ticked": the old key
# holds what a fresh form showed then (unticked) as much as what a user chose.
SYNTHETIC_KEY = "synthetic_images"


def _schedule_key(form: TrainForm) -> str:
    """What the schedule was chosen for, and from: ``resnet50/digits/fine-tune epochs=3,batch_size=128,lr=5e-05``."""
    arch, head, fine = form.arch.currentText(), form.head.currentText(), form.fine_tune.isChecked()
    try:
        recipe = ",".join(f"{name}={value}" for name, value in default_hyperparameters(arch, head, fine).items())
    except ValueError:  # (no recipe for a network and head the form is between)
        recipe = ""
    return f"{arch}/{head}/{'fine-tune' if fine else 'scratch'} {recipe}"


def _as_list(value: str | list[object] | None) -> list[str]:
    if isinstance(value, str):  # an INI file with one entry reads back as a string (none: "")
        return [value] if value else []
    return [str(v) for v in value or [] if v]


def save(form: TrainForm, settings: QSettings) -> None:
    """Remember the choices ``form`` (a ``TrainForm``) shows now."""
    settings.beginGroup(GROUP)
    try:
        settings.setValue("this_folder", form.this_folder.isChecked())
        settings.setValue("other_data", [form.other_data.item(i).text() for i in range(form.other_data.count())])
        settings.setValue(SYNTHETIC_KEY, form.synthetic.isChecked())
        settings.setValue("synthetic_count", form.synthetic_count.value())
        settings.setValue("mnist", form.mnist.text())
        settings.setValue("val_size", form.val_size.value())
        settings.setValue("start", "fine-tune" if form.fine_tune.isChecked() else "scratch")
        settings.setValue("keep_reading", form.keep_reading.isChecked())
        settings.setValue("arch", form.arch.currentText())
        settings.setValue("head", form.head.currentText())
        settings.setValue("device", form.device.currentData())
        settings.setValue("schedule_for", _schedule_key(form))
        for name, widget in form.controls.items():
            value = control_value(widget)
            settings.setValue(f"schedule/{name}", "" if value is None else value)
        settings.setValue("extra", form.extra.text())
    finally:
        settings.endGroup()


def restore(form: TrainForm, settings: QSettings) -> None:
    """Show the choices remembered in ``settings`` (none yet: the form stays as it is)."""
    settings.beginGroup(GROUP)
    try:
        if settings.contains("start"):
            _restore(form, settings)
    finally:
        settings.endGroup()


def _restore(form: TrainForm, s: QSettings) -> None:
    # the starting point and network first: they fill the schedule with their recipe's values
    if s.value("start", type=str) == "scratch":
        form.scratch.setChecked(True)
        form.arch.setCurrentText(s.value("arch", form.arch.currentText(), type=str))
        form.head.setCurrentText(s.value("head", form.head.currentText(), type=str))
    elif form.fine_tune.isEnabled():
        form.fine_tune.setChecked(True)
    form.keep_reading.setChecked(s.value("keep_reading", True, type=bool))
    if s.value("schedule_for", "", type=str) == _schedule_key(form):
        for name, widget in form.controls.items():
            key = f"schedule/{name}"
            if not s.contains(key):  # an option added since
                continue
            if isinstance(widget, QCheckBox):
                set_control_value(widget, s.value(key, type=bool))
            elif isinstance(widget, QLineEdit):
                set_control_value(widget, s.value(key, type=str))
            elif isinstance(widget, QDoubleSpinBox):
                set_control_value(widget, s.value(key, type=float))
            elif isinstance(widget, QSpinBox):
                set_control_value(widget, s.value(key, type=int))
    device = form.device.findData(s.value("device", "", type=str))
    if device >= 0:
        form.device.setCurrentIndex(device)

    if form.this_folder.isEnabled():
        form.this_folder.setChecked(s.value("this_folder", True, type=bool))
    for spec in _as_list(s.value("other_data", [])):
        form.add_data(spec, quiet=True)
    form.synthetic.setChecked(s.value(SYNTHETIC_KEY, form.synthetic.isChecked(), type=bool))
    form.synthetic_count.setValue(s.value("synthetic_count", form.synthetic_count.value(), type=int))
    form.mnist.setText(s.value("mnist", "", type=str))
    form.val_size.setValue(s.value("val_size", form.val_size.value(), type=int))
    form.extra.setText(s.value("extra", "", type=str))
