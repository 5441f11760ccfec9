"""core.argtypes: every argument is checked before any work, the way argparse reports it.

Each bad value must end the command with exit status 2 and an argparse-style line naming the
flag and the range allowed, before a file is read or written. The whole matrix runs in this
process (argparse's ``SystemExit``); a few cases run again as real ``digitsum`` processes.
"""

from __future__ import annotations

import os

import pytest
from helpers.clitools import ROOT, run_cli, sha256

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


@pytest.mark.hardening("issue 14, class 2")
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


@pytest.mark.hardening("issue 14, class 2")
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


def test_a_train_command_line_refused_with_progress_json_gives_its_error_event_too(capsys):
    """A tool that reads the events (``--progress json``) learns why, as the person reading stderr does."""
    import json

    from core.cli.main import main

    for words in (["--progress", "json"], ["--progress=json"], []):
        with pytest.raises(SystemExit) as info:
            main(["train", *words, "--data", "synthetic:16", "--epochs", "0"])
        out, err = capsys.readouterr()
        why = "argument --epochs: must be a whole number >= 1, got '0'"
        assert info.value.code == 2 and err.strip().endswith(f"digitsum train: error: {why}")
        if words:
            event = json.loads(out)
            assert event["event"] == "error" and event["message"] == why
        else:
            assert out == ""
    with pytest.raises(SystemExit) as info:
        main(["train", "--progress", "json", "--help"])
    assert info.value.code == 0 and '"event"' not in capsys.readouterr().out  # help is no refusal
