"""The strip above the table: filter by name, errors only, doubtful only, and "doubtful first"."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from digitsum_gui.status_bar import plural
from digitsum_gui.table_model import LOW_CONFIDENCE, PredictionFilterProxyModel


class ThresholdSpinBox(QDoubleSpinBox):
    """A confidence threshold from 0.50 up: steps of 0.01, and of 0.001 from 0.99 on, where a
    well-trained model's doubtful rows are (0.99, 0.995, 0.999)."""

    FINE_FROM = 0.99

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(3)
        self.setRange(0.5, 0.999)
        self.setSingleStep(0.01)
        self.setToolTip(
            "Show only rows read with less confidence than this (and unreadable files). "
            "Steps of 0.01; of 0.001 from 0.99 up."
        )

    def stepBy(self, steps: int) -> None:
        fine = self.value() > self.FINE_FROM + 1e-9 or (self.value() >= self.FINE_FROM - 1e-9 and steps > 0)
        self.setValue(round(self.value() + steps * (0.001 if fine else 0.01), 3))

    def textFromValue(self, value: float) -> str:
        text = f"{value:.3f}"
        return text[:-1] if text.endswith("0") else text  # 0.90, 0.995


class FilterBar(QWidget):
    """Drives a ``PredictionFilterProxyModel``'s filters; asks the window for a doubtful-first sort.

    Signals
    -------
    doubtful_first_requested()
        The "Doubtful first" button: sort by confidence, lowest (and errors) on top.
    """

    doubtful_first_requested = Signal()

    def __init__(self, proxy: PredictionFilterProxyModel, parent=None):
        super().__init__(parent)
        self.proxy = proxy

        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("Filter by file name")
        self.text_edit.setClearButtonEnabled(True)
        self.errors_check = QCheckBox("Errors only")
        self.below_check = QCheckBox("Confidence below")
        self.below_spin = ThresholdSpinBox()
        self.below_spin.setValue(LOW_CONFIDENCE)
        self.doubtful_button = QPushButton("Doubtful first")
        self.doubtful_button.setToolTip("Sort by confidence, lowest first (unreadable files on top)")
        self.count_label = QLabel()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text_edit, 2)
        layout.addWidget(self.errors_check)
        layout.addWidget(self.below_check)
        layout.addWidget(self.below_spin)
        layout.addWidget(self.doubtful_button)
        layout.addStretch(1)
        layout.addWidget(self.count_label)

        # Re-filtering 100,000 rows takes a fraction of a second: wait for a pause in typing.
        self._text_timer = QTimer(self, singleShot=True, interval=250)
        self._text_timer.timeout.connect(self._apply_text)
        self.text_edit.textChanged.connect(self._text_timer.start)
        self.errors_check.toggled.connect(lambda on: self.proxy.set_filter(errors_only=on))
        self.below_check.toggled.connect(self._apply_threshold)
        self.below_spin.valueChanged.connect(self._apply_threshold)
        self.doubtful_button.clicked.connect(self.doubtful_first_requested)
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset, proxy.layoutChanged):
            signal.connect(self.update_count)
        # rows the filter hides arrive without a word from the proxy, yet the total grows
        proxy.sourceModel().rows_appended.connect(self.update_count)
        self.update_count()

    def clear_filters(self) -> None:
        """Show every row again (another folder is opened: the last one's filter means nothing to it)."""
        for check in (self.errors_check, self.below_check):
            check.setChecked(False)
        self.text_edit.clear()
        self._text_timer.stop()  # applied now, not after the typing pause
        self._apply_text()

    def restore_settings(self, settings) -> None:
        """The confidence threshold used last (the filter itself starts off)."""
        self.below_spin.setValue(settings.value("confidence_below", LOW_CONFIDENCE, type=float))

    def save_settings(self, settings) -> None:
        settings.setValue("confidence_below", self.below_spin.value())

    def _apply_text(self) -> None:
        self.proxy.set_filter(text=self.text_edit.text())

    def _apply_threshold(self, *_) -> None:
        self.proxy.set_filter(confidence_below=self.below_spin.value() if self.below_check.isChecked() else None)

    def update_count(self, *_) -> None:
        source = self.proxy.sourceModel()
        total = source.rowCount() if source is not None else 0
        shown = self.proxy.rowCount()
        text = f"{shown:,} of {plural(total, 'row')} shown" if shown != total else plural(total, "row")
        self.count_label.setText(text)
