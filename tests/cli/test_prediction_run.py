"""The prediction run `predict` and `evaluate` share (core/cli/prediction_run.py): the progress bar, the note on
sub-folders left out, a model failing mid-run."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios

import pytest
from helpers.clitools import child_env, read_csv_bytes, run_cli
from helpers.clitools import cli_in_process as cli
from helpers.hostile import failing_on

from core.inputs.images import read_image


def test_the_progress_bar_is_drawn_on_a_terminal_only(synthed, baseline_model):
    """``2>log``: no carriage returns, the summary line kept; on a terminal, the bar."""
    piped = run_cli("predict", synthed, "--model", baseline_model, "--output", os.devnull)
    assert piped.returncode == 0 and "\r" not in piped.stderr
    assert "12 inputs: 12 predicted, 0 unreadable" in piped.stderr
    terminal, child_end = pty.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    cmd = [sys.executable, "-m", "core", "predict", str(synthed), "--model", str(baseline_model), "-o", os.devnull]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=child_end, env=child_env(), timeout=300)
    os.close(child_end)
    seen = b""
    with contextlib.suppress(OSError):  # EIO once the child's end is closed and all is read
        while chunk := os.read(terminal, 65536):
            seen += chunk
    os.close(terminal)
    assert proc.returncode == 0 and b"12/12" in seen and b"\r" in seen


def test_predict_recursive_names_the_sub_folders_it_leaves_out(synth_folder, baseline_model, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(synth_folder, tree / "day1")
    (tree / "day1" / "disk").symlink_to("/")  # would list the whole disk
    proc = run_cli("predict", tree, "--recursive", "--model", baseline_model, "--output", tmp_path / "sums.csv")
    assert proc.returncode == 0, proc.stderr
    assert f"note: left out 1 sub-folder: {tree}/day1/disk/ (a link out of the folder)" in proc.stderr
    rows = (tmp_path / "sums.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(rows) == len(list(synth_folder.glob("*.png"))) and all(r.startswith("day1/") for r in rows)


@pytest.mark.hardening("issue 6, case 13")
@pytest.mark.parametrize(
    "error",
    [RuntimeError("CUDA error: an illegal memory access was encountered"), MemoryError()],
    ids=["RuntimeError", "bare MemoryError"],
)
def test_case13_the_model_failing_mid_run_exits_1_after_writing_the_rows_it_had(
    error, synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    # batches of 8: the model fails on the second one, which holds synth_00008.png
    monkeypatch.setattr(
        "core.predict.predictor.Predictor", failing_on(read_image(synth_folder / "synth_00008.png"), error)
    )
    out = tmp_path / "p.csv"
    status, stdout, stderr = cli(
        capsys,
        "predict",
        synth_folder,
        "--model",
        baseline_model,
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--output",
        out,
        "-q",
    )  # classify is the CPU path's model call
    summary, line = stderr.strip().splitlines()
    assert status == 1 and stdout == "" and "Traceback" not in stderr
    assert summary.startswith("8 of 40 inputs: 8 predicted, 0 unreadable")
    assert line == "digitsum predict: error: prediction stopped after 8 rows: " + (str(error) or type(error).__name__)
    header, rows = read_csv_bytes(out.read_bytes())
    assert [r["file"] for r in rows] == [f"synth_{i:05d}.png" for i in range(8)]  # the first batch, whole
    assert all(r["predicted_sum"].isdigit() for r in rows)
