"""Issue 14, class 2: every argument is checked before any work, the way argparse reports it.

Each bad value must end the command with exit status 2 and an argparse-style line naming the
flag and the range allowed, before a file is read or written. The whole matrix runs in this
process (argparse's ``SystemExit``); a few cases run again as real ``digitsum`` processes.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers.clitools import ROOT, one_line_error, run_cli, sha256

SAMPLES = ROOT / "resources" / "samples"

# (command, flag, bad value, what the error must say about the range)
BAD = [
    ("predict", "--batch-size", "-1", "from 1 to 65536"),
    ("predict", "--batch-size", "0", "from 1 to 65536"),
    ("predict", "--batch-size", "100000000", "from 1 to 65536"),
    ("predict", "--workers", "0", "from 1 to 256"),
    ("predict", "--workers", "-3", "from 1 to 256"),
    ("predict", "--device", "gpu", "auto, cpu, cuda or cuda:N"),
    ("evaluate", "--batch-size", "0", "from 1 to 65536"),
    ("synth", "--count", "0", ">= 1"),
    ("synth", "--count", "-5", ">= 1"),
    ("synth", "--seed", "-1", "from 0 to 4294967295"),
    ("train", "--epochs", "0", ">= 1"),
    ("train", "--batch-size", "-64", "from 1 to 65536"),
    ("train", "--lr", "-0.001", "> 0"),
    ("train", "--lr", "0", "> 0"),
    ("train", "--lr", "nan", "> 0"),
    ("train", "--lr", "inf", "> 0"),
    ("train", "--weight-decay", "-0.05", ">= 0"),
    ("train", "--weight-decay", "nan", ">= 0"),
    ("train", "--warmup", "-0.1", ">= 0 and <= 1"),
    ("train", "--warmup", "1.5", ">= 0 and <= 1"),
    ("train", "--augment", "nan", ">= 0 and <= 1"),
    ("train", "--augment", "-1", ">= 0 and <= 1"),
    ("train", "--val-fraction", "-0.1", ">= 0 and <= 1"),
    ("train", "--val-fraction", "1.5", ">= 0 and <= 1"),
    ("train", "--val-size", "0", ">= 1"),
    ("train", "--seed", "-7", "from 0 to 4294967295"),
    ("train", "--threads", "0", "from 1 to 256"),
    ("train", "--data", "synthetic:-5", ">= 1"),
    ("train", "--data", "synthetic:0", ">= 1"),
    ("train", "--data", "synthetic:", ">= 1"),
    ("train", "--data", "synthetic:100000000000000000000", "at most 100,000,000 images per epoch"),
    ("train", "--device", "cuda:x", "auto, cpu, cuda or cuda:N"),
]


def _command(command: str, flag: str, value: str, tmp_path) -> list[str]:
    """A command line that would run (and write into tmp_path) but for ``flag value``."""
    base = {
        "predict": ["predict", str(SAMPLES), "--output", str(tmp_path / "out.csv")],
        "evaluate": ["evaluate", str(SAMPLES), "--labels", str(SAMPLES / "labels.csv")],
        "synth": ["synth", str(tmp_path / "synth"), "--count", "2"],
        "train": [
            "train",
            "--data",
            "synthetic:16",
            "--arch",
            "baseline",
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "run"),
        ],
    }[command]
    return [*base, f"{flag}={value}"]  # "=": a value starting with '-' stays a value


@pytest.mark.parametrize(("command", "flag", "value", "allowed"), BAD, ids=[f"{c} {f} {v}" for c, f, v, _ in BAD])
def test_class2_a_bad_value_is_an_argparse_error_naming_the_flag_and_range(
    command, flag, value, allowed, tmp_path, capsys, monkeypatch
):
    from core.cli.main import main

    monkeypatch.chdir(tmp_path)  # a default output (runs/...) would land here
    with pytest.raises(SystemExit) as info:
        main(_command(command, flag, value, tmp_path))
    out, err = capsys.readouterr()
    last = err.strip().splitlines()[-1]
    assert info.value.code == 2 and out == "" and "Traceback" not in err
    assert last.startswith(f"digitsum {command}: error: argument {flag}: "), last
    assert allowed in last and repr(value) in last, last
    assert os.listdir(tmp_path) == []  # nothing written: no CSV, no run folder, no images


def test_class2_bad_values_in_real_processes_write_nothing(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("file,predicted_sum\nx.png,3\n")
    before = sha256(old)
    for args in (
        ["predict", SAMPLES, "--batch-size", "-1", "--output", old],
        ["train", "--data", "synthetic:-5", "--arch", "baseline", "--out", tmp_path / "run"],
        ["train", "--data", "synthetic:16", "--lr", "-1", "--out", tmp_path / "run"],
        ["synth", tmp_path / "s", "--count", "-5"],
    ):
        proc = run_cli(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith(f"digitsum {args[0]}: error: argument ")
    assert sha256(old) == before and sorted(os.listdir(tmp_path)) == ["old.csv"]


def test_class2_counts_beyond_memory_or_disk_are_one_line_before_any_work(tmp_path):
    """``synth --count`` is checked against the disk and ``--val-size`` against memory, in one line,
    before a folder is made (they used to compose for minutes, then end in a traceback)."""
    proc = run_cli("synth", tmp_path / "s", "--count", str(10**12))
    line = one_line_error(proc, "synth")
    assert "--count: 1,000,000,000,000 files need about" in line and "GB of disk" in line
    proc = run_cli("train", "--data", "synthetic:64", "--val-size", str(10**12), "--out", tmp_path / "run")
    line = one_line_error(proc, "train")
    assert "--val-size: 1,000,000,000,000 images need about" in line and "GB of memory" in line
    assert os.listdir(tmp_path) == ["run"] and os.listdir(tmp_path / "run") == ["progress.jsonl"]  # its error event


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


def test_class2_a_nearly_full_disk_is_said_in_units_that_show_it(tmp_path, monkeypatch):
    """``synth --count 3`` onto a full 1 MB disk said 'need about 0.0 GB of disk; 0.0 GB is free there'."""
    import collections
    import shutil

    from core.errors import InputError
    from core.limits import require_disk

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda place: usage(1 << 20, (1 << 20) - 2048, 2048))
    with pytest.raises(InputError) as caught:
        require_disk("--count", tmp_path / "out", 3, 1400)
    said = str(caught.value)
    assert "0.0 GB" not in said and "KB of disk" in said and "2 KB is free there" in said, said
