"""The main window on a laptop's screen and on first start (issue #16: laptop screens, first run)."""

import pytest
from PySide6.QtWidgets import QAbstractSpinBox

from digitsum_gui.results_view import TRUE_SUM_ROOM
from digitsum_gui.table_model import Column

RUN_TIMEOUT_MS = 60_000


@pytest.mark.parametrize("width, height", [(1366, 768), (1280, 720)])
def test_the_true_sum_column_shows_on_a_laptop_screen(qtbot, make_window, synth_folder, width, height):
    window = make_window()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.open_folder(synth_folder)
    window.resize(width + 300, height)
    qtbot.waitUntil(lambda: window.width() == width + 300, timeout=5000)
    window.results.setSizes([width + 300 - 760, 760])  # a wide detail pane, as left on a big monitor
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=5000)
    view = window.table_view
    qtbot.waitUntil(
        lambda: view.columnViewportPosition(Column.TRUE_SUM) + TRUE_SUM_ROOM <= view.viewport().width(), timeout=5000
    )
    assert view.horizontalScrollBar().value() == 0  # no scrolling sideways needed
    assert window.detail.isVisible() and window.detail.width() >= 200  # the detail pane gave way, and stays


def test_the_empty_window_says_what_to_do_and_offers_the_samples(qtbot, make_window):
    window = make_window()
    hint = window.results.hint
    assert hint.isVisible() and not window.table_view.isVisible()
    assert "Ctrl+O" in hint.open_button.text() and "drop one" in " ".join(
        label.text() for label in hint.findChildren(type(window.status.device_label))
    )
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        hint.samples_button.click()
    assert not hint.isVisible() and window.table_view.isVisible()
    assert len(window.table_model.rows) == 24 and window.source[0].endswith("samples")


def test_the_confidence_threshold_steps_finely_near_1_and_is_remembered(qtbot, make_window):
    window = make_window()
    spin = window.filter_bar.below_spin
    assert spin.text() == "0.98" and spin.minimum() == 0.5  # core.spec.DOUBTFUL_BELOW
    spin.setValue(0.98)
    for expected in ("0.99", "0.991", "0.992"):
        spin.stepBy(1)
        assert spin.text() == expected
    for expected in ("0.991", "0.99", "0.98", "0.97"):
        spin.stepBy(-1)
        assert spin.text() == expected
    spin.setValue(0.995)
    assert spin.stepEnabled() & QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
    window.close()
    again = make_window()
    assert again.filter_bar.below_spin.value() == pytest.approx(0.995)
