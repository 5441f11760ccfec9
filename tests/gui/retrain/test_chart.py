"""The Retrain dialog's live chart, fed progress events directly (issue #24 items 15 and 25)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor, QPalette

from digitsum_gui.retrain.chart import TrainingChart

START = {"event": "start", "epochs": 2, "start_epoch": 0, "steps_per_epoch": 4, "total_steps": 8}


def tick_labels(axis) -> list[str]:
    """The loss axis's tick labels as QtCharts prints them (its printf format on each tick)."""
    low, high, ticks = axis.min(), axis.max(), axis.tickCount()
    return [axis.labelFormat() % (low + i * (high - low) / (ticks - 1)) for i in range(ticks)]


@pytest.fixture
def chart(qtbot):
    chart = TrainingChart()
    qtbot.addWidget(chart)
    chart.resize(700, 350)
    chart.add_event(START)
    return chart


@pytest.mark.parametrize(
    "losses, labels",
    [
        # a fine-tuned model's loss: it read "0.00, 0.01, 0.01, 0.01, 0.02"
        ((0.015, 0.012, 0.009), ["0.000", "0.005", "0.010", "0.015", "0.020"]),
        ((0.0021, 0.0018), ["0.000", "0.001", "0.002", "0.003"]),
        ((3.6, 2.2, 0.9), ["0", "1", "2", "3", "4"]),  # no needless decimals either
        ((0.4, 0.3), ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"]),
    ],
)
def test_the_loss_axis_labels_tell_every_tick_apart(chart, losses, labels):
    for step, loss in enumerate(losses, start=1):
        chart.add_event({"event": "step", "epoch": 1, "step": step, "global_step": step, "loss": loss})
    assert tick_labels(chart.loss_axis) == labels


def test_tick_decimals_are_as_few_as_the_spacing_needs():
    from digitsum_gui.retrain.chart import tick_decimals

    assert tick_decimals(0, 0.015, 4) == 3
    assert tick_decimals(0, 4, 3) == 0
    assert tick_decimals(0, 1, 5) == 2
    assert tick_decimals(0, 0.3, 4) == 1


def dark_palette() -> QPalette:
    palette = QPalette(QColor("#353535"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        palette.setColor(role, QColor("#e6e6e6"))
    return palette


def test_the_chart_follows_a_dark_palette(chart, qtbot):
    chart.add_event({"event": "step", "epoch": 1, "step": 1, "global_step": 1, "loss": 2.0})
    chart.show()
    qtbot.waitExposed(chart)
    chart.setPalette(dark_palette())
    image = chart.grab().toImage()
    # the plot area's middle, away from the lines: the palette's dark base, not QtCharts' white
    assert image.pixelColor(image.width() * 2 // 3, image.height() // 3).lightness() < 80
    assert chart.chart().backgroundBrush().color() == QColor("#1e1e1e")
    assert chart.loss_axis.labelsColor().lightness() > 180 and chart.chart().legend().labelColor().lightness() > 180

    chart.setPalette(QPalette(QColor("#efefef")))  # and back to a light one
    assert chart.chart().backgroundBrush().color().lightness() > 200
    assert chart.loss_axis.labelsColor().lightness() < 80
