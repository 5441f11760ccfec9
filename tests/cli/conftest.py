"""Fixtures of the command-line tests: a folder `digitsum synth` wrote, and `digitsum predict`'s rows of it.

Module-scoped, so each test module runs them once, for real, in child processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.clitools import read_csv_bytes, run_cli

HEADER = ["file", "predicted_sum", "confidence", "digits", "error"]


@pytest.fixture(scope="module")
def synthed(tmp_path_factory) -> Path:
    """`digitsum synth OUT --count 12 --seed 1`, run for real."""
    out = tmp_path_factory.mktemp("cli") / "s"
    proc = run_cli("synth", out, "--count", 12, "--seed", 1)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 12 images" in proc.stderr and proc.stdout == ""
    return out


@pytest.fixture(scope="module")
def predicted(synthed, baseline_model) -> list[dict]:
    """`digitsum predict FOLDER --model M --output p.csv` on the synth folder: the parsed rows."""
    out = synthed.parent / "p.csv"
    proc = run_cli("predict", synthed, "--model", baseline_model, "--output", out)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_bytes(out.read_bytes())
    assert header == HEADER
    return rows
