"""The live training chart: loss on the left axis, validation accuracy on the right.

The x axis is in epochs (a step event at step s of epoch e sits at ``e - 1 + s/steps``), so
the step loss, the per-epoch losses and the accuracy line up. The best epoch so far gets a
larger marker on the accuracy line.

The loss axis labels its ticks with as many decimals as their spacing needs (a fine-tuning
run's loss of 0.012 reads "0.000, 0.005, 0.010", never "0.00, 0.01, 0.01"), and the chart
takes its colours from the widget's palette, so a dark desktop gets a dark chart.
"""

from __future__ import annotations

import math

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from core.train.events import ProgressEvent
from digitsum_gui.style import ACC_COLOR, BEST_COLOR, STEP_COLOR, TRAIN_COLOR, VAL_LOSS_COLOR

MAX_DECIMALS = 6


def tick_decimals(low: float, high: float, ticks: int) -> int:
    """The fewest decimals that tell ``ticks`` evenly spaced labels from ``low`` to ``high`` apart.

    ``tick_decimals(0, 0.015, 4)`` is 3 (0.000, 0.005, 0.010, 0.015); ``tick_decimals(0, 4, 3)``
    is 0 (0, 2, 4); ``tick_decimals(0, 1, 5)`` is 2 (0.25 apart).
    """
    if ticks < 2 or not high > low:
        return 2
    interval = (high - low) / (ticks - 1)
    for decimals in range(MAX_DECIMALS + 1):
        if abs(round(interval, decimals) - interval) <= interval * 1e-6:
            return decimals
    return MAX_DECIMALS


def _line(name: str, color: QColor, width: float = 2.0, points: bool = False) -> QLineSeries:
    series = QLineSeries()
    series.setName(name)
    series.setPen(QPen(color, width))
    series.setPointsVisible(points)
    return series


class TrainingChart(QChartView):
    """A ``QChartView`` fed with progress events (``start``, ``step``, ``epoch``).

    Parameters
    ----------
    parent : QWidget, optional
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        chart = QChart()
        chart.setTitle("Training")
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(4, 4, 4, 4))
        self.setChart(chart)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(240)

        self.step_loss = _line("step loss", STEP_COLOR, 1.0)
        self.train_loss = _line("train loss", TRAIN_COLOR, points=True)
        self.val_loss = _line("val loss", VAL_LOSS_COLOR, points=True)
        self.val_acc = _line("val accuracy", ACC_COLOR, points=True)
        self.best = QScatterSeries()
        self.best.setName("best epoch")
        self.best.setMarkerSize(14.0)
        self.best.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeStar)

        self.x_axis = QValueAxis()
        self.x_axis.setTitleText("epoch")
        self.x_axis.setLabelFormat("%.0f")
        self.loss_axis = QValueAxis()
        self.loss_axis.setTitleText("loss")
        self.acc_axis = QValueAxis()
        self.acc_axis.setTitleText("accuracy %")
        # a little room above 100 and beyond the last epoch: points on the edge are not cut in half
        self.acc_axis.setRange(-2, 104)
        self.acc_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        self.acc_axis.setTickAnchor(0)
        self.acc_axis.setTickInterval(25)
        self.acc_axis.setLabelFormat("%.0f")
        self.x_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        self.x_axis.setTickAnchor(0)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.loss_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.acc_axis, Qt.AlignmentFlag.AlignRight)
        for series, y_axis in (
            (self.step_loss, self.loss_axis),
            (self.train_loss, self.loss_axis),
            (self.val_loss, self.loss_axis),
            (self.val_acc, self.acc_axis),
            (self.best, self.acc_axis),
        ):
            chart.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(y_axis)
        self.follow_palette()
        self.reset()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.follow_palette()

    def follow_palette(self) -> None:
        """Draw in the palette's colours: QtCharts' default theme is white whatever the desktop's is."""
        palette = self.palette()
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        dark = base.lightness() < text.lightness()
        grid = _mix(base, text, 0.15)
        chart = self.chart()
        self.setBackgroundBrush(palette.window())  # the view around the chart's rounded card
        chart.setBackgroundBrush(base)
        chart.setBackgroundPen(QPen(grid))
        chart.setTitleBrush(text)
        chart.legend().setLabelColor(text)
        for axis in (self.x_axis, self.loss_axis, self.acc_axis):
            axis.setLabelsColor(text)
            axis.setTitleBrush(text)
            axis.setGridLineColor(grid)
            axis.setMinorGridLineColor(_mix(base, text, 0.07))
            axis.setLinePenColor(_mix(base, text, 0.4))
        # the same hues, lighter on a dark background: the darker ones would sink into it
        for series, color in (
            (self.step_loss, STEP_COLOR),
            (self.train_loss, TRAIN_COLOR),
            (self.val_loss, VAL_LOSS_COLOR),
            (self.val_acc, ACC_COLOR),
        ):
            pen = series.pen()
            pen.setColor(color.lighter(150) if dark and color.lightness() < 128 else color)
            series.setPen(pen)
        self.best.setColor(BEST_COLOR.lighter(140) if dark else BEST_COLOR)
        self.best.setBorderColor(base)

    def reset(self, epochs: int = 1, steps_per_epoch: int = 1, start_epoch: int = 0) -> None:
        """Clear every series for a run of ``epochs`` epochs."""
        for series in (self.step_loss, self.train_loss, self.val_loss, self.val_acc, self.best):
            series.clear()
        self.steps_per_epoch = max(1, steps_per_epoch)
        self._max_loss = 0.0
        last = max(epochs, start_epoch + 1)
        span = last - start_epoch
        self.x_axis.setRange(start_epoch - 0.02 * span, last + 0.03 * span)
        self.x_axis.setTickInterval(max(1, math.ceil(span / 10)))
        self.loss_axis.setRange(0, 1)
        self._fit_loss_labels()

    def add_event(self, event: ProgressEvent) -> None:
        """Plot one progress event (others are ignored)."""
        kind = event.get("event")
        if kind == "start":
            self.reset(
                int(event.get("epochs", 1)), int(event.get("steps_per_epoch", 1)), int(event.get("start_epoch", 0))
            )
        elif kind == "step" and _finite(event.get("loss")):
            x = (event["epoch"] - 1) + event["step"] / self.steps_per_epoch
            self.step_loss.append(QPointF(x, event["loss"]))
            self._grow_loss(event["loss"])
        elif kind == "epoch":
            x = float(event["epoch"])
            for series, key in ((self.train_loss, "train_loss"), (self.val_loss, "val_loss")):
                if _finite(event.get(key)):
                    series.append(QPointF(x, event[key]))
                    self._grow_loss(event[key])
            if _finite(event.get("val_acc")):
                self.val_acc.append(QPointF(x, 100.0 * event["val_acc"]))
            if _finite(event.get("best_val_acc")) and event.get("best_epoch") is not None:
                self.best.clear()
                self.best.append(QPointF(float(event["best_epoch"]), 100.0 * event["best_val_acc"]))

    def _grow_loss(self, value: float) -> None:
        if value > self._max_loss:
            self._max_loss = value
            self.loss_axis.setRange(0, value * 1.05)
            self.loss_axis.applyNiceNumbers()  # round ticks (0, 1, 2, ...), not 4.18 / 3.14
            self._fit_loss_labels()

    def _fit_loss_labels(self) -> None:
        axis = self.loss_axis
        axis.setLabelFormat(f"%.{tick_decimals(axis.min(), axis.max(), axis.tickCount())}f")

    def point_counts(self) -> dict:
        """How many points each series holds (for tests and the accessibility text)."""
        return {
            "step_loss": self.step_loss.count(),
            "train_loss": self.train_loss.count(),
            "val_loss": self.val_loss.count(),
            "val_acc": self.val_acc.count(),
            "best": self.best.count(),
        }


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    """``a`` with ``share`` of ``b`` blended in."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * share),
        round(a.green() + (b.green() - a.green()) * share),
        round(a.blue() + (b.blue() - a.blue()) * share),
    )


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and value == value and abs(value) != float("inf")
