"""``digitsum train --init M --data FOLDER``: fine-tunes on a folder's corrections, M untouched."""

import hashlib
import json
import shutil

from helpers.clitools import events, run_cli

from core.labels.folder_labels import FolderLabels
from core.labels.labels_csv import read_labels_csv
from core.models.checkpoint import read_model_info


def test_fine_tune_on_corrections_leaves_the_model_byte_identical(baseline_model, synth_folder, tmp_path):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    labels = FolderLabels(folder, tmp_path / "corrections")
    name = next(iter(labels.labels))
    labels.set(name, 36)  # a correction, saved into the folder's labels.csv
    model = shutil.copy(baseline_model, tmp_path / "in-use.safetensors")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    stat = model.stat()

    out = tmp_path / "run"
    proc = run_cli(
        "train",
        "--init",
        model,
        "--data",
        folder,
        "--arch",
        "baseline",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--lr",
        "1e-4",
        "--device",
        "cpu",
        "--out",
        out,
        "--compare",
        model,
        "--progress",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    done = events(proc.stdout)[-1]
    assert done["event"] == "done" and isinstance(done["compare_val_acc"], float)

    assert hashlib.sha256(model.read_bytes()).hexdigest() == digest
    assert model.stat().st_mtime_ns == stat.st_mtime_ns
    info = read_model_info(out / "best.safetensors")
    assert info.meta["init"] == str(model)
    assert info.meta["train_images_per_epoch"] == len(read_labels_csv(folder / "labels.csv")) - 4  # 10% validation
    assert str(folder) in info.meta["data"]
    assert json.loads((out / "config.json").read_text())["args"]["init"] == str(model)


def test_a_stop_file_in_the_run_folder_stops_training_like_sigterm(tmp_path):
    """The channel the Retrain dialog's "Stop early" uses on every OS (no signal needed)."""
    from core.models.store import STOP_NAME
    from core.train.stopping import StopFlag

    stop = StopFlag()
    stop.watch(tmp_path / STOP_NAME)
    assert not stop.requested
    (tmp_path / STOP_NAME).touch()
    assert stop.requested
    (tmp_path / STOP_NAME).unlink()
    assert stop.requested  # once asked, it stays asked


def test_resuming_a_stopped_run_does_not_stop_at_once(baseline_model, tmp_path):
    """The STOP file that ended a run is not a request to stop its --resume."""
    out = tmp_path / "run"
    proc = run_cli(
        "train",
        "--data",
        "synthetic:32",
        "--arch",
        "baseline",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--val-size",
        "16",
        "--device",
        "cpu",
        "--out",
        out,
        "--progress",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    (out / "STOP").touch()
    proc = run_cli("train", "--resume", out, "--epochs", "2", "--progress", "json")
    done = events(proc.stdout)[-1]
    assert proc.returncode == 0 and done["event"] == "done", proc.stderr
    assert done["stopped_early"] is False and done["metrics"]["epoch"] >= 1
    assert not (out / "STOP").exists()


def test_keeping_what_it_reads_is_flags_digitsum_train_takes():
    """The Retrain form's "keep what it reads": --distill the model, --freeze-bn, --frozen-stages 2."""
    from core.train.args import get_args_parser
    from core.train.command import TrainOptions, keeping_what_it_reads, train_args

    opts = TrainOptions(data=["synthetic:64"], init="in use.safetensors", **keeping_what_it_reads("in use.safetensors"))
    args = train_args(opts)
    assert args[args.index("--distill") + 1] == "in use.safetensors"
    parsed = get_args_parser().parse_args(args)
    assert (parsed.distill, parsed.freeze_bn, parsed.frozen_stages) == ("in use.safetensors", True, 2)
    plain = get_args_parser().parse_args(train_args(TrainOptions(data=["synthetic:64"], init="m.safetensors")))
    assert (plain.distill, plain.freeze_bn, plain.frozen_stages) == (None, False, 0)
