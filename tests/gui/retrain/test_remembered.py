"""The Retrain dialog remembers its choices from one opening to the next (issue #24 item 25)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from core.models.store import describe_model
from digitsum_gui.model_store import ModelStore
from digitsum_gui.retrain.dialog import TrainDialog


@pytest.fixture
def open_dialog(qtbot, tmp_path, baseline_model):
    """A real Retrain dialog on the scratch settings file ``settings.ini`` (a new QSettings
    each time: what was remembered is on disk, not only in one object)."""

    in_use = describe_model(baseline_model, in_store=False)

    def open_(current=in_use):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        dialog = TrainDialog(ModelStore(tmp_path / "data"), current, None, settings=settings)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return open_


def labelled_folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "labels.csv").write_text("filename,sum\n")
    return folder


def test_the_dialog_opens_with_the_choices_of_last_time(open_dialog, tmp_path):
    dialog = open_dialog()
    form = dialog.form
    fresh = dialog.command.toPlainText()
    kept, gone = labelled_folder(tmp_path, "kept"), labelled_folder(tmp_path, "gone")
    form.scratch.setChecked(True)
    form.arch.setCurrentText("baseline")
    form.head.setCurrentText("sum")
    form.controls["epochs"].setValue(7)
    form.controls["batch_size"].setValue(48)
    form.controls["lr"].setValue(0.002)
    assert form.add_data(str(kept)) and form.add_data(str(gone))
    form.synthetic.setChecked(False)  # (ticked on first opening)
    form.synthetic_count.setValue(512)
    form.val_size.setValue(96)
    form.mnist.setText(str(tmp_path / "mnist.npz"))
    form.device.setCurrentIndex(form.device.findData("cpu"))
    form.extra.setText("--seed 3")
    form.keep_reading.setChecked(False)
    chosen = dialog.planned_args(tmp_path / "run")
    assert dialog.command.toPlainText() != fresh
    dialog.close()
    (gone / "labels.csv").unlink()
    gone.rmdir()

    again = open_dialog()
    form = again.form
    assert form.scratch.isChecked() and (form.arch.currentText(), form.head.currentText()) == ("baseline", "sum")
    assert [form.controls[name].value() for name in ("epochs", "batch_size")] == [7, 48]
    assert form.controls["lr"].value() == pytest.approx(0.002)
    assert [form.other_data.item(i).text() for i in range(form.other_data.count())] == [str(kept)]  # quietly
    assert not form.synthetic.isChecked() and (form.synthetic_count.value(), form.val_size.value()) == (512, 96)
    assert form.mnist.text() == str(tmp_path / "mnist.npz") and form.extra.text() == "--seed 3"
    assert form.device.currentData() == "cpu" and not form.keep_reading.isChecked()
    gone_at = chosen.index(str(gone))
    assert again.planned_args(tmp_path / "run") == chosen[: gone_at - 1] + chosen[gone_at + 1 :]  # the same run


def test_a_schedule_is_put_back_only_for_the_network_it_was_chosen_for(open_dialog):
    dialog = open_dialog()
    form = dialog.form
    assert form.fine_tune.isChecked()  # the model in use is a baseline/sum: fine-tuning starts from it
    form.controls["epochs"].setValue(9)
    dialog.close()

    again = open_dialog()
    assert again.form.fine_tune.isChecked() and again.form.controls["epochs"].value() == 9
    again.form.scratch.setChecked(True)  # the recipe of a model from scratch: not the fine-tune's 9 epochs
    scratch_epochs = again.form.controls["epochs"].value()
    assert scratch_epochs != 9
    again.close()

    no_model = open_dialog(current=None)  # nothing to fine-tune: a new model, with its own recipe
    assert no_model.form.scratch.isChecked() and no_model.form.controls["epochs"].value() == scratch_epochs


def test_what_an_older_version_remembered_gives_way_to_a_default_changed_since(open_dialog, tmp_path):
    """A schedule remembered from another recipe (an older one's key names none) and the old
    "synthetic" key, which held the old unticked default as much as a choice, are not put back."""
    from core.train.command import default_hyperparameters

    old = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in {
        "start": "fine-tune",
        "schedule_for": "baseline/sum/fine-tune",
        "schedule/epochs": 9,
        "schedule/lr": 0.0002,
        "synthetic": False,
        "synthetic_count": 512,
    }.items():
        old.setValue(f"retrain/{key}", value)
    old.sync()
    dialog = open_dialog()
    form = dialog.form
    recipe = default_hyperparameters("baseline", "sum", fine_tune=True)  # the model in use is a baseline/sum
    assert form.fine_tune.isChecked() and form.controls["epochs"].value() == recipe["epochs"] != 9
    assert form.controls["lr"].value() == pytest.approx(recipe["lr"])
    assert form.synthetic.isChecked() and form.synthetic_count.value() == 512  # the count: a choice still
