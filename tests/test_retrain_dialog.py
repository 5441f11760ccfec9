"""The Retrain dialog with real child processes: failures, Cancel, Stop early, Manage models."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QStandardPaths  # noqa: E402

from core.checkpoint import load_model  # noqa: E402
from core.store import describe_model  # noqa: E402
from digitsum_gui.model_store import ModelStore  # noqa: E402
from digitsum_gui.models_dialog import ModelsDialog  # noqa: E402
from digitsum_gui.train_dialog import TrainDialog  # noqa: E402
from digitsum_gui.train_process import TrainingRun  # noqa: E402

RUN_TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def _quiet_children(monkeypatch):
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # tiny runs; the test machine has few cores


def make_dialog(qtbot, tmp_path, baseline_model, images=64, epochs=1, extra=""):
    store = ModelStore(tmp_path / "data")
    dialog = TrainDialog(store, describe_model(baseline_model, in_store=False), None)
    qtbot.addWidget(dialog)
    form = dialog.form
    form.synthetic.setChecked(True)
    form.synthetic_count.setValue(images)
    form.val_size.setValue(32)
    form.batch_size.setValue(16)
    form.epochs.setValue(epochs)
    form.device.setCurrentIndex(form.device.findData("cpu"))
    form.extra.setText(extra)
    return dialog


def test_command_shown_is_the_one_run(qtbot, tmp_path, baseline_model):
    dialog = make_dialog(qtbot, tmp_path, baseline_model, extra="--seed 4")
    text = dialog.command.toPlainText()
    assert text.startswith("digitsum train --data synthetic:64 --arch baseline --head sum --init ")
    assert f"--compare {baseline_model}" in text and text.endswith("--seed 4 --progress json")
    dialog.copy_command()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == text


def test_bad_arguments_are_reported_and_nothing_switches(qtbot, tmp_path, baseline_model):
    dialog = make_dialog(qtbot, tmp_path, baseline_model, extra="--epochs notanumber")
    switched = []
    dialog.model_switch_requested.connect(switched.append)
    assert dialog.start()
    with qtbot.waitSignal(dialog.run.failed, timeout=RUN_TIMEOUT_MS) as failed:
        pass
    message = failed.args[0]
    assert "exited with code 2" in message and "invalid int value" in message
    assert "unchanged" in dialog.outcome.text() and "invalid int value" in dialog.log.toPlainText()
    assert not dialog.run_dir.exists()  # nothing worth keeping
    assert switched == [] and dialog.store.models() == []
    assert dialog.start_button.isEnabled()


def test_a_child_that_cannot_start_is_reported(qtbot, tmp_path):
    run = TrainingRun([str(tmp_path / "no-such-python"), "-m", "core.train"], tmp_path / "run")
    (tmp_path / "run").mkdir()
    with qtbot.waitSignal(run.failed, timeout=10_000) as failed:
        run.start()
    assert failed.args[0].startswith("Training could not start")
    assert not (tmp_path / "run").exists()


def test_cancel_removes_the_run_folder(qtbot, tmp_path, baseline_model):
    dialog = make_dialog(qtbot, tmp_path, baseline_model, images=512, epochs=3)
    assert dialog.start()
    with qtbot.waitSignal(dialog.run.event, timeout=RUN_TIMEOUT_MS, check_params_cb=lambda e: e["event"] == "start"):
        pass
    assert (dialog.run_dir / "config.json").is_file()
    with qtbot.waitSignal(dialog.run.cancelled, timeout=RUN_TIMEOUT_MS):
        dialog.cancel_button.click()
    assert not dialog.run_dir.exists()
    assert "Cancelled" in dialog.status.text() and dialog.store.models() == []


def test_stop_early_keeps_a_usable_model(qtbot, tmp_path, baseline_model):
    dialog = make_dialog(qtbot, tmp_path, baseline_model, images=192, epochs=3)
    assert dialog.start()
    with qtbot.waitSignal(dialog.run.event, timeout=RUN_TIMEOUT_MS, check_params_cb=lambda e: e["event"] == "epoch"):
        pass
    with qtbot.waitSignal(dialog.run.succeeded, timeout=RUN_TIMEOUT_MS) as done:
        dialog.stop_button.click()
    event = done.args[0]
    assert event["stopped_early"] is True and event["metrics"]["epoch"] >= 1
    model, info = load_model(event["model"])
    assert info.meta["init"] == str(baseline_model)
    counts = dialog.chart.point_counts()
    assert counts["val_acc"] >= 1 and counts["best"] == 1 and counts["step_loss"] >= 1
    assert "stopped early" in dialog.status.text()
    assert "Model in use (baseline.safetensors):" in dialog.outcome.text()

    # the new run is in Manage models; it can be deleted while another model is in use
    models = ModelsDialog(dialog.store, current=baseline_model)
    qtbot.addWidget(models)
    assert [m.path for m in models.models][0] == dialog.run_dir / "best.safetensors"
    assert models.table.item(0, 3).text() == "192"
    in_use_row = [r for r, m in enumerate(models.models) if m.path == baseline_model][0]
    assert "in use" in models.table.item(in_use_row, 6).text()
    models.select_path(baseline_model)
    assert not models.delete_button.isEnabled()
    with qtbot.waitSignal(models.model_switch_requested) as switch:
        models.select_path(dialog.run_dir / "best.safetensors")
        models.use_button.click()
    assert switch.args[0] == dialog.run_dir / "best.safetensors"
    assert models.delete_selected(confirm=False)
    assert not dialog.run_dir.exists()
    assert dialog.run_dir / "best.safetensors" not in [m.path for m in models.models]  # refreshed


def test_the_data_note_says_how_many_images_validate(qtbot, tmp_path, baseline_model):
    """24 labelled images alone leave 2 to validate on: the form says so and suggests synthetic ones."""
    import shutil

    from core import RESOURCES
    from core.corrections import FolderLabels
    from digitsum_gui.train_form import TrainForm

    folder = tmp_path / "digits"
    shutil.copytree(RESOURCES / "samples", folder)
    form = TrainForm(describe_model(baseline_model, in_store=False), FolderLabels(folder, tmp_path / "side"))
    qtbot.addWidget(form)
    assert form.this_folder.isChecked() and not form.synthetic.isChecked()
    assert "only 2 to validate on" in form.data_note.text()
    form.synthetic.setChecked(True)
    form.val_size.setValue(64)
    assert form.data_note.text() == f"{22 + form.synthetic_count.value():,} training images per epoch, 66 for validation."
