"""Qt-free parts of the corrections loop: folder labels, the model store, the train command."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from helpers.hostile import as_ordinary_user

from core.files import WriteError
from core.labels.folder_labels import FolderLabels, folder_key
from core.labels.labels_csv import read_labels_csv, write_labels_csv
from core.models.store import (
    StoreError,
    delete_run,
    describe_model,
    list_models,
    model_display_name,
    next_run_folder,
    reserve_run_folder,
)
from core.train.command import TrainOptions, child_argv, default_hyperparameters, display_command, train_args


@pytest.fixture()
def folder(synth_folder, tmp_path):
    """A private copy of the composed folder (its labels.csv gets edited)."""
    return shutil.copytree(synth_folder, tmp_path / "images")


def test_correction_goes_to_labels_csv_keeping_the_others(folder, tmp_path):
    before = read_labels_csv(folder / "labels.csv")
    name, other = list(before)[:2]
    labels = FolderLabels(folder, tmp_path / "corrections")
    new = (before[name][0] + 1) % 37
    assert labels.set(name, new) == folder / "labels.csv"
    after = read_labels_csv(folder / "labels.csv")
    assert after[name] == (new, None)  # the digits no longer add up: dropped
    assert after[other] == before[other]
    assert len(after) == len(before)
    assert not list(folder.glob(".labels.csv.*"))  # no temporary file left behind
    reopened = FolderLabels(folder, tmp_path / "corrections")
    assert reopened.sum_of(name) == new
    assert not (tmp_path / "corrections").exists()


def test_forget_and_validation(folder, tmp_path):
    labels = FolderLabels(folder, tmp_path / "corrections")
    name = next(iter(labels.labels))
    with pytest.raises(ValueError):
        labels.set(name, 37)
    with pytest.raises(ValueError):
        labels.set(name, -1)
    labels.set(name, None)
    assert name not in read_labels_csv(folder / "labels.csv")
    assert labels.sum_of(name) is None


def test_read_only_folder_uses_a_remembered_corrections_file(folder, tmp_path, monkeypatch):
    original = read_labels_csv(folder / "labels.csv")
    raw = (folder / "labels.csv").read_bytes()

    def refuse(path, labels):
        if path.parent == folder:
            raise WriteError(f"cannot write {path}: Read-only file system")
        return write(path, labels)

    import core.labels.folder_labels

    write = core.labels.folder_labels.write_labels_csv
    monkeypatch.setattr(core.labels.folder_labels, "write_labels_csv", refuse)
    labels = FolderLabels(folder, tmp_path / "corrections")
    name = next(iter(original))
    saved = labels.set(name, 36)
    assert saved == tmp_path / "corrections" / f"{folder_key(folder)}.csv"
    assert (folder / "labels.csv").read_bytes() == raw
    reopened = FolderLabels(folder, tmp_path / "corrections")
    assert reopened.uses_corrections_file and reopened.sum_of(name) == 36 and name in reopened.corrected
    assert len(reopened) == len(original)
    # training reads a staged folder: links to the images and the merged labels
    spec = reopened.training_spec(tmp_path / "stage")
    staged = read_labels_csv(tmp_path / "stage" / "labels.csv")
    assert spec == str(tmp_path / "stage") and staged[name] == (36, None) and len(staged) == len(original)
    assert (tmp_path / "stage" / name).read_bytes() == (folder / name).read_bytes()


def test_unreadable_labels_csv_is_never_overwritten(folder, tmp_path):
    (folder / "labels.csv").write_text("filename,sum\na.png,99\n", encoding="utf-8")
    labels = FolderLabels(folder, tmp_path / "corrections")
    assert labels.problem and labels.uses_corrections_file
    labels.set("synth_00000.png", 5)
    assert (folder / "labels.csv").read_text(encoding="utf-8") == "filename,sum\na.png,99\n"


def test_accuracy_counts_known_rows_only(folder, tmp_path):
    labels = FolderLabels(folder, tmp_path / "s")
    (a, (sa, _)), (b, (sb, _)) = list(labels.labels.items())[:2]
    assert labels.accuracy([(a, sa), (b, (sb + 1) % 37), ("unknown.png", 3), (a + "x", None)]) == (1, 2)


def test_labels_know_when_the_files_changed_on_disk(folder, tmp_path):
    labels = FolderLabels(folder, tmp_path / "s")
    assert labels.is_current()
    labels.set("synth_00000.png", 7)  # written here: memory and file agree
    assert labels.is_current()
    text = (folder / "labels.csv").read_text(encoding="utf-8")
    (folder / "labels.csv").write_text(text + "extra.png,3\n", encoding="utf-8")  # edited elsewhere
    assert not labels.is_current()
    assert FolderLabels(folder, tmp_path / "s").sum_of("extra.png") == 3

    # a corrections file written by another window, then a correction here into labels.csv: still a change
    labels = FolderLabels(folder, tmp_path / "s")
    labels.corrections_path.parent.mkdir(parents=True, exist_ok=True)
    write_labels_csv(labels.corrections_path, {"b.png": (5, None)})
    labels.set("synth_00001.png", 8)
    assert not labels.is_current()
    assert FolderLabels(folder, tmp_path / "s").sum_of("b.png") == 5


def test_store_never_overwrites_and_lists_newest_first(baseline_model, tmp_path):
    root = tmp_path / "runs"
    first = reserve_run_folder(root, "baseline", "sum", when=1_700_000_000)
    second = reserve_run_folder(root, "baseline", "sum", when=1_700_000_000)
    assert first != second and second.name == first.name + "-2"
    assert next_run_folder(root, "baseline", "sum", when=1_700_000_000).name == first.name + "-3"
    shutil.copy(baseline_model, first / "best.safetensors")
    (root / "empty-run").mkdir()  # a run that never wrote a model is not listed
    listed = list_models(root, extra=(baseline_model,))
    assert [m.path for m in listed] == [first / "best.safetensors", baseline_model]
    assert listed[0].in_store and not listed[1].in_store and listed[0].val_acc == 0.05
    with pytest.raises(StoreError):
        delete_run(root, first / "best.safetensors", in_use=first / "best.safetensors")
    with pytest.raises(StoreError):
        delete_run(root, baseline_model, in_use=None)
    delete_run(root, first / "best.safetensors", in_use=baseline_model)
    assert not first.exists() and baseline_model.is_file()


def test_models_have_one_name_everywhere(baseline_model, default_model, tmp_path):
    """The status bar (model_display_name) and the dialogs (ModelEntry.label) call a model alike."""
    run = reserve_run_folder(tmp_path / "runs", "baseline", "sum", when=1_700_000_000)
    shutil.copy(baseline_model, run / "best.safetensors")
    copy = shutil.copy(default_model, tmp_path / default_model.name)  # same file name, not the bundled one
    listed = list_models(tmp_path / "runs", extra=(default_model, copy))
    assert [m.label for m in listed] == [
        run.name,
        "digitsum-resnet50.safetensors (bundled)",
        "digitsum-resnet50.safetensors",
    ]
    assert [model_display_name(m.path) for m in listed] == [m.label for m in listed]


def test_train_command_is_what_the_cli_takes():
    opts = TrainOptions(
        data=["my folder", "synthetic:64"],
        arch="baseline",
        head="sum",
        init="m.safetensors",
        epochs=1,
        batch_size=16,
        lr=1e-4,
        device="cpu",
        val_size=32,
        compare="m.safetensors",
        out="runs/x",
        extra=["--seed", "3"],
    )
    args = train_args(opts)
    assert args[-2:] == ["--progress", "json"]
    assert display_command(args).startswith("digitsum train --data 'my folder' --data synthetic:64 ")
    assert child_argv(args)[:3] == [sys.executable, "-m", "core.train"]
    from core.train.args import get_args_parser

    parsed = get_args_parser().parse_args(args)
    assert (parsed.data, parsed.init, parsed.lr, parsed.val_size, parsed.seed) == (
        ["my folder", "synthetic:64"],
        "m.safetensors",
        1e-4,
        32,
        3,
    )
    assert (
        default_hyperparameters("resnet50", "digits", fine_tune=True)["lr"]
        < default_hyperparameters("resnet50", "digits", fine_tune=False)["lr"]
    )


def test_a_run_folder_that_cannot_be_removed_is_one_line_and_stays(baseline_model):
    """The OS's refusal becomes a StoreError the Manage Models box shows as is (root: as nobody)."""
    root = Path(tempfile.mkdtemp(prefix="digitsum-store-"))  # outside root's 0700 pytest folders
    try:
        run = reserve_run_folder(root, "baseline", "sum", when=1_700_000_000)
        shutil.copy(baseline_model, run / "best.safetensors")
        os.chmod(run, 0o755)
        os.chmod(root, 0o555)  # no entry of the store can be removed by an ordinary user

        def attempt() -> str:
            try:
                delete_run(root, run / "best.safetensors", in_use=None)
            except StoreError as exc:
                return str(exc)
            return "deleted"

        assert as_ordinary_user(attempt) == f"cannot delete {run.name}: Permission denied"
        assert (run / "best.safetensors").is_file()
    finally:
        os.chmod(root, 0o755)
        shutil.rmtree(root)


def test_a_model_named_by_a_relative_path_is_described_by_its_absolute_one(baseline_model, monkeypatch):
    """A Retrain run's child works in the store's folder: --init and --compare must name the file from anywhere."""
    monkeypatch.chdir(baseline_model.parent.parent)
    described = describe_model(Path(baseline_model.parent.name) / baseline_model.name, in_store=False)
    assert described.path == baseline_model and described.path.is_absolute()
