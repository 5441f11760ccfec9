"""SIGTERM unwinds a command like Ctrl-C (core/cli/termination.py): no temporary file left, the old CSV kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from helpers.clitools import ROOT, bar_passed, child_env, sha256, signal_when


@pytest.mark.hardening("issue 14, class 7")
def test_class7_sigterm_during_predict_leaves_no_temporary_file_and_the_old_csv(synth_folder, digits_model, tmp_path):
    out = tmp_path / "sums.csv"
    out.write_bytes(b"\xef\xbb\xbffile,predicted_sum,confidence,digits,error\nold.png,7,0.9000,,\n")
    before = sha256(out)
    cmd = [
        sys.executable,
        "-m",
        "core",
        "predict",
        *[str(synth_folder)] * 5,
        "--model",
        str(digits_model),
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--output",
        str(out),
    ]
    env = child_env(DIGITSUM_PROGRESS_BAR="1")  # the bar on the pipe: how this test sees progress
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, err = signal_when(  # once rows go into the temporary file
        proc, signal.SIGTERM, lambda seen: bar_passed(seen, 8, 200) and any(tmp_path.glob(".sums.csv.*.tmp"))
    )
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "digitsum predict: terminated by SIGTERM" and "Traceback" not in err
    assert os.listdir(tmp_path) == ["sums.csv"] and sha256(out) == before
