"""The strip above the table: filter by name, errors only, doubtful only, and "doubtful first".

Its spin box is the doubtful threshold itself (``digitsum_gui.doubtful``), in percent like the
table's Confidence column: moving it recolours the rows, rewrites the legend and changes what
Next Doubtful visits, and with "Confidence below" ticked the rows shown. Esc in the name filter
empties it (while it has text: an empty one leaves Esc to Model > Cancel).

The count of rows on its right is as wide as it will get for the folder (every row listed,
some filtered out), so it does not push the filter box sideways while the rows come in.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from core.spec import DOUBTFUL_BELOW
from digitsum_gui.shortcuts import CLEAR_FILTER
from digitsum_gui.status_bar import plural
from digitsum_gui.steady import SteadyLabel
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel


class ThresholdSpinBox(QDoubleSpinBox):
    """The doubtful threshold in percent, 50% to 99.9%: steps of 1%, and of 0.1% from 99% on,
    where a well-trained model's doubtful rows are (99%, 99.5%, 99.9%).

    ``fraction()`` and ``set_fraction()`` speak 0..1, as the table model and the settings do.
    """

    FINE_FROM = 99.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(1)
        self.setRange(50.0, 99.9)
        self.setSingleStep(1.0)
        self.setSuffix("%")
        self.setToolTip(
            "Rows read with less confidence than this are doubtful: coloured, counted in the review "
            'progress and visited by Next Doubtful (N). With "Confidence below" ticked, only they '
            "(and unreadable files) are shown. Steps of 1%; of 0.1% from 99% up."
        )

    def stepBy(self, steps: int) -> None:
        fine = self.value() > self.FINE_FROM + 1e-9 or (self.value() >= self.FINE_FROM - 1e-9 and steps > 0)
        self.setValue(round(self.value() + steps * (0.1 if fine else 1.0), 1))

    def textFromValue(self, value: float) -> str:
        # 98%, 99.5%: the table's own way of writing a percentage, in the user's locale
        return self.locale().toString(value, "f", 1).removesuffix(self.locale().decimalPoint() + "0")

    def fraction(self) -> float:
        return round(self.value() / 100, 4)

    def set_fraction(self, fraction: float) -> None:
        self.setValue(fraction * 100)


class FilterBar(QWidget):
    """Drives a ``PredictionFilterProxyModel``'s filters; asks the window for a doubtful-first sort.

    Signals
    -------
    doubtful_first_requested()
        The "Doubtful first" button: sort by confidence, lowest (and errors) on top.
    """

    doubtful_first_requested = Signal()

    def __init__(self, proxy: PredictionFilterProxyModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.proxy = proxy

        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("Filter by file name")
        self.text_edit.setClearButtonEnabled(True)
        self.errors_check = QCheckBox("Errors only")
        self.below_check = QCheckBox("Confidence below")
        self.below_spin = ThresholdSpinBox()
        self.below_spin.set_fraction(DOUBTFUL_BELOW)
        self.doubtful_button = QPushButton("&Doubtful first")  # Alt+D: the review starts without the mouse
        self.doubtful_button.setToolTip("Sort by confidence, lowest first (unreadable files on top)")
        self.count_label = SteadyLabel()
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

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
        self.text_edit.installEventFilter(self)  # Esc empties it
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

    def clear_text(self) -> bool:
        """Empty the name filter now (Esc); False, changing nothing, when it was empty."""
        if not self.text_edit.text():
            return False
        self.text_edit.clear()
        self._text_timer.stop()
        self._apply_text()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (
            watched is self.text_edit
            and kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and CLEAR_FILTER.matches(event)
            and self.text_edit.text()
        ):
            if kind == QEvent.Type.KeyPress:
                self.clear_text()
            else:  # the key is the filter's while it has text, not Model > Cancel's (also Esc)
                event.accept()
            return True
        return super().eventFilter(watched, event)

    def restore_settings(self, settings: QSettings) -> None:
        """The doubtful threshold used last, a fraction (the filter itself starts off)."""
        self.below_spin.set_fraction(settings.value("confidence_below", DOUBTFUL_BELOW, type=float))

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("confidence_below", self.below_spin.fraction())

    def _apply_text(self) -> None:
        self.proxy.set_filter(text=self.text_edit.text())

    def _apply_threshold(self, *_) -> None:
        below = self.below_spin.fraction()
        self.proxy.sourceModel().doubtful.set_below(below)  # the colours, the legend, Next Doubtful
        self.proxy.set_filter(confidence_below=below if self.below_check.isChecked() else None)

    def update_count(self, *_args: object) -> None:
        source = self.proxy.sourceModel()
        total = source.rowCount() if source is not None else 0
        shown = self.proxy.rowCount()
        most = max(total, len(source.items)) if source is not None else 0  # the run's rows, all listed
        self.count_label.hold_width_for(f"{most:,} of {plural(most, 'row')} shown")
        text = f"{shown:,} of {plural(total, 'row')} shown" if shown != total else plural(total, "row")
        self.count_label.setText(text)
