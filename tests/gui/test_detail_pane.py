"""The detail pane's loupe: a fixed-size window on the image, zoomable (issue #24, "a loupe")."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPixmap, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.predict.rows import PredictionRow
from core.spec import DOUBTFUL_BELOW
from digitsum_gui.detail_pane import LOUPE_ZOOM, MAX_ZOOM, MIN_ZOOM, DetailPane


@pytest.fixture
def pane(qtbot):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.resize(pane.width(), 600)
    pane.show()
    qtbot.waitExposed(pane)
    image = QPixmap(168, 40)
    image.fill(QColor("black"))
    pane.show_row(PredictionRow("a" * 120 + ".png", 7, 0.99, "0124", top3=((7, 0.99),)), image)
    return pane


def shown_size(pane) -> tuple[float, float]:
    size = pane.image_label.pixmap().deviceIndependentSize()
    return size.width(), size.height()


def ctrl_wheel(pane, clicks: int, modifiers=Qt.KeyboardModifier.ControlModifier) -> None:
    """Turn the wheel ``clicks`` notches (up: positive) over the loupe with Ctrl held."""
    viewport = pane.loupe.viewport()
    centre = QPointF(viewport.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(QPoint(int(centre.x()), int(centre.y())))),
        QPoint(),
        QPoint(0, 120 * clicks),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_the_loupe_zooms_inside_a_window_of_its_own_fixed_size(qtbot, pane):
    width, loupe = pane.width(), pane.loupe.size()
    assert shown_size(pane) == (168 * LOUPE_ZOOM, 40 * LOUPE_ZOOM) and pane.zoom_label.text() == "3x"

    pane.zoom_in_button.click()
    assert shown_size(pane) == (168 * 4, 40 * 4) and pane.zoom_label.text() == "4x"
    ctrl_wheel(pane, 1)
    assert shown_size(pane) == (168 * 5, 40 * 5)
    qtbot.waitUntil(lambda: pane.loupe.horizontalScrollBar().maximum() > 0, timeout=2000)  # larger: it pans
    for _ in range(10):
        ctrl_wheel(pane, 1)
    assert pane.zoom == MAX_ZOOM and not pane.zoom_in_button.isEnabled()
    for _ in range(10):
        pane.zoom_out_button.click()
    assert pane.zoom == MIN_ZOOM and shown_size(pane) == (168, 40) and not pane.zoom_out_button.isEnabled()
    qtbot.wait(10)  # laid out again, if it were going to be
    assert pane.width() == width and pane.loupe.size() == loupe  # the table beside it never reflows

    image = QPixmap(168, 40)
    image.fill(QColor("white"))
    pane.show_row(PredictionRow("b.png", 9, 0.5, "0333"), image)  # the zoom stays from row to row
    assert pane.zoom == MIN_ZOOM and shown_size(pane) == (168, 40)


def test_a_wheel_without_ctrl_does_not_zoom(pane):
    ctrl_wheel(pane, 1, Qt.KeyboardModifier.NoModifier)
    assert pane.zoom == LOUPE_ZOOM


def test_the_digits_it_hesitated_over_follow_the_doubtful_threshold(qtbot, rows_window):
    """The filter bar's threshold is the one every "is this doubtful" reads: the pane's red
    digits too, not only its "(doubtful)" after the sum."""
    low = DOUBTFUL_BELOW - 0.01  # below the default threshold
    window = rows_window([PredictionRow("a.png", 8, low, "1232", digit_confidence=(0.999, 0.99, low, 0.999))])
    window.table_view.selectRow(0)
    red = [bool(c.styleSheet()) for c in window.detail.digit_conf_labels]
    assert red == [False, False, True, False] and "(doubtful)" in window.detail.sum_label.text()

    window.filter_bar.below_spin.set_fraction(0.995)
    red = [bool(c.styleSheet()) for c in window.detail.digit_conf_labels]
    assert red == [False, True, True, False]  # 99% is below 99.5% now

    window.filter_bar.below_spin.set_fraction(0.95)
    red = [bool(c.styleSheet()) for c in window.detail.digit_conf_labels]
    assert red == [False, False, False, False] and "(doubtful)" not in window.detail.sum_label.text()
