"""core.train.data_checks: a run's data is checked, and what is left out is said, in real runs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers.clitools import SAMPLES, TINY_TRAIN, run_cli


@pytest.mark.hardening("issue 14, class 2")
def test_class2_val_fraction_1_with_labelled_files_only_says_there_is_nothing_to_train_on(tmp_path, capsys):
    from core.train.script import run_cli as train

    rng = np.random.default_rng(0)
    np.save(tmp_path / "data0.npy", rng.integers(0, 255, (12, 40, 168), dtype=np.uint8))
    np.save(tmp_path / "lab0.npy", rng.integers(0, 37, 12))
    status = train(
        [
            "--data",
            str(tmp_path / "data0.npy"),
            "--arch",
            "baseline",
            "--val-fraction",
            "1",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1 and err.strip().splitlines() == [
        "digitsum train: error: no training images: --val-fraction 1 keeps all 12 labelled images for validation; "
        "lower it or add synthetic:N data"
    ]


@pytest.mark.hardening("issue 14, class 8")
def test_class8_unreadable_labelled_files_are_counted_and_named_and_all_gone_is_refused(tmp_path):
    data = shutil.copytree(SAMPLES, tmp_path / "data")
    (data / "cut.png").write_bytes((SAMPLES / "synth_00000.png").read_bytes()[:100])
    (data / "empty.png").write_bytes(b"")
    (data / "notes.png").write_text("not an image")
    labels = (data / "labels.csv").read_text() + "cut.png,5\nempty.png,6\nnotes.png,7\ngone.png,8\n"
    (data / "labels.csv").write_text(labels)
    proc = run_cli("train", "--data", data, *TINY_TRAIN, "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "left out" in line]
    assert notes == [
        f"digitsum train: note: {data}: 4 of 28 labelled files could not be read and are left out: "
        "cut.png (truncated image file), empty.png (empty file), notes.png (not an image (or not a "
        "supported format)) and 1 more"
    ]

    # every labelled file unreadable: refused in one line that says why
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("cut.png", "empty.png"):
        shutil.copy(data / name, bad / name)
    (bad / "labels.csv").write_text("filename,sum\ncut.png,5\nempty.png,6\n")
    proc = run_cli("train", "--data", bad, *TINY_TRAIN, "--out", tmp_path / "run2")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"digitsum train: error: {bad}: ")
    assert lines[0].endswith(
        "no readable labelled images (none of 2 could be read: cut.png (truncated image file), empty.png (empty file))"
    )


def test_too_few_training_images_for_the_processes_is_one_line_on_every_rank(tmp_path):
    """synthetic:1 under two processes: each rank's share is no image, so every rank refuses
    (a rank that trained on nothing would only look like training)."""
    from types import SimpleNamespace

    from core.train.args import get_args_parser
    from core.train.data_checks import load_training_data
    from core.train.datasets import DataSpecError

    args = get_args_parser().parse_args(["--data", "synthetic:1", "--val-size", "4"])
    for rank in (0, 1):
        ctx = SimpleNamespace(device="cpu", rank=rank, world=2, is_main=rank == 0)
        with pytest.raises(DataSpecError) as refused:
            load_training_data(args, ctx)
        assert str(refused.value) == (
            "only 1 training image for 2 processes: each process needs at least one; add data or start fewer processes"
        )
    one = SimpleNamespace(device="cpu", rank=0, world=1, is_main=True)
    assert load_training_data(args, one).rank_share() == (0, 1)
