"""The Retrain form's generated controls: one widget per ``TrainOptions`` field that has one.

``core.train.command.form_controls`` lists the fields and their ``Control`` (label, tooltip,
limits); the kind of widget follows the field's type. So a new option reaches the form
without a line here or in ``form.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from core.train.command import Control

ControlValue = bool | int | float | str | None  # a TrainOptions field's value, by its type


def make_control(kind: type, spec: Control, default: ControlValue, on_change: Callable[..., object]) -> QWidget:
    """The widget for a ``TrainOptions`` field of type ``kind`` (``core.train.command.Control``)."""
    if kind is bool:
        widget = QCheckBox()
        widget.setChecked(bool(default))
        widget.toggled.connect(on_change)
    elif kind is str:
        widget = QLineEdit(default or "")
        widget.textChanged.connect(on_change)
    else:
        widget = QDoubleSpinBox() if kind is float else QSpinBox()
        if kind is float:
            widget.setDecimals(spec.decimals)
        widget.setRange(kind(spec.minimum), kind(spec.maximum))
        widget.setSingleStep(kind(spec.step))
        widget.setValue(spec.minimum if default is None else default)
        widget.valueChanged.connect(on_change)
    widget.setToolTip(spec.tooltip)
    return widget


def control_value(widget: QWidget) -> ControlValue:
    """What a ``make_control`` widget holds, as its field's value (empty text: None, the default)."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text().strip() or None
    return widget.value()


def set_control_value(widget: QWidget, value: ControlValue) -> None:
    """Show ``value`` (the recipe's, say) in a ``make_control`` widget."""
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QLineEdit):
        widget.setText("" if value is None else str(value))
    else:
        widget.setValue(value)
