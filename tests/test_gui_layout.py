"""The main window on a laptop's screen and on first start (issue #16: laptop screens, first run)."""

import pytest
from PySide6.QtWidgets import QAbstractSpinBox

from digitsum_gui.table_model import Column

RUN_TIMEOUT_MS = 60_000


def assert_true_sum_shows_whole(view):
    """The True sum's header section, where the user types, lies inside the table's viewport."""
    header = view.horizontalHeader()
    left = header.sectionViewportPosition(Column.TRUE_SUM)
    right = left + header.sectionSize(Column.TRUE_SUM)
    assert 0 <= left and right <= view.viewport().width(), (left, right, view.viewport().width())


@pytest.mark.parametrize(
    "width, height",
    # 910x512: a 1366x768 screen at QT_SCALE_FACTOR=1.5, in the logical pixels widgets are laid out in
    [(1366, 768), (1280, 720), (1024, 700), (910, 512)],
)
def test_the_true_sum_column_shows_whole_beside_the_sum(qtbot, make_window, synth_folder, width, height):
    """Issue #24 item 9: at 1024x700 and at 1.5x scale the True sum column was off-screen."""
    window = make_window()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.open_folder(synth_folder)
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=5000)
    view = window.table_view
    qtbot.waitUntil(lambda: assert_true_sum_shows_whole(view), timeout=5000)
    assert view.horizontalScrollBar().value() == 0  # no scrolling sideways needed
    header = view.horizontalHeader()
    assert header.visualIndex(Column.TRUE_SUM) == header.visualIndex(Column.SUM) + 1  # where the eye compares


def test_a_header_saved_before_the_true_sum_moved_cannot_put_it_back(qtbot, make_window, settings):
    window = make_window()
    header = window.table_view.horizontalHeader()
    header.moveSection(header.visualIndex(Column.TRUE_SUM), header.count() - 1)  # as version 1 laid it out
    header.resizeSection(Column.TRUE_SUM, 700)  # stretched to a big monitor's edge
    old_state = header.saveState()
    window.close()
    settings.setValue("table_header", old_state)
    settings.remove("table_header_version")  # version 1 saved none
    again = make_window()
    header = again.table_view.horizontalHeader()
    assert header.visualIndex(Column.TRUE_SUM) == header.visualIndex(Column.SUM) + 1
    assert header.sectionSize(Column.TRUE_SUM) < 200


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
