"""The Retrain dialog's live chart, fed progress events directly (issue #24 item 25)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor, QPalette

from digitsum_gui.retrain.chart import TrainingChart

START = {"event": "start", "epochs": 2, "start_epoch": 0, "steps_per_epoch": 4, "total_steps": 8}


@pytest.fixture
def chart(qtbot):
    chart = TrainingChart()
    qtbot.addWidget(chart)
    chart.resize(700, 350)
    chart.add_event(START)
    return chart


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
