"""What the main window says about a run, a model and a folder (issue #16, defects 1, 2, 6, 8)."""

import json
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QStandardPaths
from PySide6.QtWidgets import QLabel, QMessageBox

RUN_TIMEOUT_MS = 60_000


def run_folder(qtbot, window, folder):
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    return blocker.args[0]


def visible_boxes(window):
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def shown_status_texts(window) -> list[str]:
    """What a person reads in the status bar's permanent part right now."""
    bar = window.status
    texts = [w.text() for w in bar.findChildren(QLabel) if w.isVisible() and w.parent() is bar]
    return texts + ([bar.progress_bar.text()] if bar.progress_bar.isVisible() else [])


def bundled_summary():
    """The bundled model as the status bar sees it, without loading ResNet-50."""
    from core.models.checkpoint import read_model_info
    from core.models.store import DEFAULT_MODEL, model_display_name
    from digitsum_gui.worker import ModelSummary

    info = read_model_info(DEFAULT_MODEL)
    return ModelSummary(DEFAULT_MODEL, model_display_name(DEFAULT_MODEL), info.arch, info.head, "CPU", dict(info.meta))


def test_open_recent_with_a_missing_folder_keeps_the_rows_says_so_once_and_drops_it(
    qtbot, make_window, synth_folder, tmp_path
):
    window = make_window()
    assert run_folder(qtbot, window, synth_folder) is False
    gone = tmp_path / "moved-away"
    window.settings.setValue("recent_folders", [str(gone), str(synth_folder)])
    title = window.windowTitle()

    window.menus["recent"].aboutToShow.emit()
    entry = next(a for a in window.menus["recent"].actions() if a.text() == str(gone))
    entry.trigger()
    assert window.windowTitle() == title and window.source == [str(synth_folder)]
    assert len(window.table_model.rows) == 40 and not window.running
    boxes = visible_boxes(window)
    assert len(boxes) == 1 and boxes[0].text().count(str(gone)) == 1 and "no such file or folder" in boxes[0].text()
    assert window.recent_folders() == [str(synth_folder)]
    assert window.settings.value("last_folder") == str(synth_folder)
    boxes[0].close()

    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):  # F5 still predicts the folder shown
        window.predict_action.trigger()
    assert len(window.table_model.rows) == 40


def test_a_folder_that_vanishes_before_listing_is_named_once(qtbot, make_window, tmp_path):
    window = make_window(wait_for_model=True)
    texts = []
    window.worker.error.connect(lambda reason, details: texts.append((reason, details)))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.source = [str(tmp_path / "nowhere")]  # it existed when opened; it is gone when listed
        window.predict()
    assert texts == [(f"Cannot open {tmp_path / 'nowhere'}: no such file or folder", "")]


def test_after_cancel_the_status_bar_shows_no_rate_or_eta(qtbot, make_window, synth_folder, digits_model):
    window = make_window(model=digits_model, batch_size=4)
    window.worker.rows.connect(window.cancel)
    assert run_folder(qtbot, window, synth_folder) is True
    shown = " ".join(shown_status_texts(window))
    assert "images/s" not in shown and "ETA" not in shown, shown
    assert window.status.currentMessage().startswith("Cancelled: ")


def test_the_status_bar_fits_1250_px_without_cutting_text(qtbot, make_window, synth_folder):
    window = make_window()
    run_folder(qtbot, window, synth_folder)
    window.status.set_model(bundled_summary())
    window.resize(1250, 700)
    qtbot.waitUntil(lambda: window.width() == 1250, timeout=5000)

    def assert_nothing_cut():
        bar = window.status
        bar.layout().activate()
        widgets = [w for w in bar.findChildren(QLabel) if w.isVisible() and w.parent() is bar]
        widgets += [bar.progress_bar] if bar.progress_bar.isVisible() else []
        for w in widgets:
            assert w.width() >= w.sizeHint().width(), (w.text() if isinstance(w, QLabel) else "progress", w.width())
        assert max(w.geometry().right() for w in widgets) <= bar.width()
        message = bar.currentMessage()
        if message:  # the message is drawn left of the first permanent widget
            room = min(w.x() for w in widgets)
            assert bar.fontMetrics().horizontalAdvance(message) + 8 <= room, (message, room)

    assert_nothing_cut()  # "Done: 40 rows", the accuracy on labelled rows, the bundled model
    window.status.run_started(1004)
    window.status.run_progress(500, 1004, 199.0, 4 * 60 + 14.4)  # the widest time left: "N min NN s"
    assert window.status.speed_label.text() == "199 images/s, about 4 min 14 s left"  # as Retrain writes it
    assert_nothing_cut()
    window.status.run_finished("Cancelled: 500 of 1,004 rows done")
    assert_nothing_cut()
    stranger = bundled_summary().meta["metrics"]["heldout_writers_acc"]
    assert f"writers it never saw {stranger:.1%} of 10,000" in window.status.model_label.text()


def test_counts_are_singular_or_plural_and_written_alike(qtbot, make_window, synth_folder, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(synth_folder / "synth_00000.png", folder)
    window = make_window()
    run_folder(qtbot, window, folder)
    assert window.filter_bar.count_label.text() == "1 row"
    assert window.status.currentMessage() == "Done: 1 row"
    window.status.run_started(1004)
    window.status.run_progress(1004, 1004, 2000.0, 0.0)
    assert window.status.progress_bar.text() == "1,004 / 1,004 rows"  # as the message writes 1,004


def test_the_data_folder_names_digitsum_once_and_keeps_earlier_runs(qtbot, tmp_path, monkeypatch):
    from digitsum_gui.model_store import app_data_dir

    app = QCoreApplication.instance()
    names = app.organizationName(), app.applicationName()
    QStandardPaths.setTestModeEnabled(True)
    app.setOrganizationName("digitsum")
    app.setApplicationName("digitsum")
    try:
        legacy = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
        assert legacy.parts[-2:] == ("digitsum", "digitsum")
        shutil.rmtree(legacy.parent, ignore_errors=True)
        (legacy / "runs" / "20250101-000000-baseline-sum").mkdir(parents=True)
        folder = app_data_dir()
        assert folder == legacy.parent and "digitsum/digitsum" not in folder.as_posix()
        assert (folder / "runs" / "20250101-000000-baseline-sum").is_dir() and not legacy.exists()
        assert app_data_dir() == folder
    finally:
        shutil.rmtree(legacy.parent, ignore_errors=True)
        app.setOrganizationName(names[0])
        app.setApplicationName(names[1])


def test_model_info_says_best_epoch_of_planned_epochs_and_what_each_figure_is(qtbot):
    from digitsum_gui.info_dialogs import model_info_markdown

    summary = bundled_summary()
    text = model_info_markdown(summary)
    metrics = summary.meta["metrics"]
    planned = re.search(r"--epochs (\d+)", summary.meta["command"]).group(1)
    assert f"best epoch {metrics['epoch']} of {planned}" in text and "Epochs trained:" not in text
    assert (
        "writers it never saw (strangers: MNIST test writers, none of whose digits it trained on): "
        f"{metrics['heldout_writers_acc']:.1%} of 10,000 images" in text
    )
    assert text.index("writers it never saw") < text.index("validation (")  # the stranger figure leads
    # figures of their day: the card has them as this version reads (its second look has changed since)
    assert (
        "As measured when the model was made (Created, above); Help > About shows its card, "
        "with the figures as this version reads:" in text
    )
    assert f"{metrics['val_acc']:.1%} of {metrics['val_images']:,} images" in text
    # a mixed validation set's parts, one row of figures
    summary.meta["metrics"] = {**metrics, "val_acc_by_part": {"synth": 0.991234, "grid": 0.98, "touch": 0.95}}
    assert "| val_acc_by_part | synth 0.9912, grid 0.9800, touch 0.9500 |" in model_info_markdown(summary)


@pytest.mark.parametrize(
    "digit_split, whose",
    [
        ("writer", "; its composed images by writers it never trained on): "),
        ("writer, from an --init that was not", "never trained on, but the model it started from did): "),
        ("writer, from a --distill model that was not", "but the model it learned from (--distill) did): "),
        ("index", "; its composed images of digits it never trained on, by writers it did): "),
        (None, "used to pick its best epoch): "),  # no composed digits, or a file from before the split
    ],
)
def test_a_validation_figure_says_whose_handwriting_it_was_measured_on(digit_split, whose):
    from digitsum_gui.model_figures import figures_tooltip
    from digitsum_gui.worker import ModelSummary

    meta = {"metrics": {"val_acc": 0.97, "val_images": 1000}, "digit_split": digit_split}
    assert whose + "97.0% of 1,000 images" in figures_tooltip(meta["metrics"], meta["digit_split"])
    summary = ModelSummary(Path("m.safetensors"), "m", "resnet50", "digits", "CPU", meta)
    assert whose in summary.accuracy_tooltip and summary.accuracy_text == "val 97.0% of 1,000 (\u00b11.3)"


@pytest.mark.parametrize(
    "metrics, expected",
    [
        ({"val_acc": 1.0, "val_images": 100}, "val 100.0% of 100 (\u00b13.7)"),
        ({"val_acc": 0.984, "val_images": 4000}, "val 98.4% of 4,000"),
        (
            {
                "val_acc": 0.98,
                "val_images": 4000,
                "heldout_acc": 0.989,
                "heldout": "10,000 images: ... (MNIST digits set aside by index)",
            },
            "held-out digits 98.9% of 10,000",
        ),
        (
            {
                "heldout_acc": 0.989,
                "heldout": "10,000 images: x",
                "heldout_writers_acc": 0.991,
                "heldout_writers": "10,000 images: writers never trained on",
            },
            "writers it never saw 99.1% of 10,000",
        ),
        ({"val_acc": 0.05}, "val 5.0%"),
        ({}, ""),
    ],
)
def test_the_model_figure_says_its_kind_and_its_image_count(metrics, expected):
    from digitsum_gui.worker import ModelSummary

    meta = {"metrics": json.loads(json.dumps(metrics))}
    summary = ModelSummary(Path("m.safetensors"), "m", "resnet50", "digits", "CPU", meta)
    assert summary.accuracy_text == expected


# --- issue #24 items 16 and 23: a laptop at 1.5x, and fields that hold still --------------------------------------


def bar_in_window(qtbot, width):
    """A real RunStatusBar in a window ``width`` logical px wide (910: a 1366 px screen at 1.5x),
    with the accuracy field the labels controller puts on its left and the bundled model named."""
    from PySide6.QtWidgets import QMainWindow

    from digitsum_gui.status_bar import RunStatusBar

    window = QMainWindow()
    qtbot.addWidget(window)
    bar = RunStatusBar(window)
    window.setStatusBar(bar)
    bar.insertPermanentWidget(0, QLabel("Right: 1,000/1,004 labelled (99.6%)"))
    bar.set_model(bundled_summary())
    window.resize(width, 300)
    window.show()
    qtbot.waitExposed(window)
    bar.window_ = window  # (the window lives as long as the test holds its bar)
    return bar


def first_field_x(bar) -> int:
    fields = [w for w in bar.findChildren(QLabel) if w.isVisible() and w.parent() is bar]
    fields += [bar.progress_bar] if bar.progress_bar.isVisible() else []
    return min(w.x() for w in fields)


def test_the_message_takes_its_room_from_the_model_name_at_1_5x(qtbot):
    from digitsum_gui.status_bar import MODEL_LABEL_MAX

    bar = bar_in_window(qtbot, 910)
    full = bar.model_label.width()
    message = "Cancelled: 500 of 1,004 rows done"
    bar.showMessage(message)
    needed = bar.fontMetrics().horizontalAdvance(message) + 8  # Qt draws it from x = 6, to 2 px short of a field
    qtbot.waitUntil(lambda: needed <= first_field_x(bar), timeout=2000)
    assert bar.model_label.width() < full  # the name gave way (elided; whole in its tooltip) ...
    assert max(w.geometry().right() for w in bar.findChildren(QLabel) if w.isVisible()) <= bar.width()
    bar.clearMessage()  # ... and takes its room back when the message goes
    qtbot.waitUntil(lambda: bar.model_label.width() == full, timeout=2000)
    assert bar.model_label.maximumWidth() == MODEL_LABEL_MAX


def test_the_fields_hold_still_while_the_speed_and_time_left_change(qtbot):
    bar = bar_in_window(qtbot, 1366)
    bar.run_started(1004)
    seen = set()
    for done, speed, left in ((4, 9.5, 2 * 3600 + 5 * 60), (100, 98.0, 600), (500, 199.0, 254.4), (1000, 12_345.0, 2)):
        bar.run_progress(done, 1004, speed, left)
        bar.layout().activate()
        seen.add((bar.progress_bar.x(), bar.speed_label.x(), bar.model_label.x()))
    assert len(seen) == 1, seen


def test_the_accuracy_field_holds_room_for_the_folders_widest_count(qtbot, make_window, synth_folder):
    from digitsum_gui.steady import widest_form

    window = make_window()
    run_folder(qtbot, window, synth_folder)
    label = window.labels_controller.accuracy_label
    widest = widest_form("Right: 40/40 labelled (100.0%)", label.fontMetrics())
    assert label.sizeHint().width() >= label.fontMetrics().horizontalAdvance(widest), label.text()
