"""core.runtime: torchrun's variables read once, a stray or incomplete set a one-line error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from clitools import ROOT, child_env

from core.runtime import DeviceError, torchrun_world

FULL = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


@pytest.mark.parametrize(
    "env, said",
    [
        ({"WORLD_SIZE": "2"}, "RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT unset"),
        ({**FULL, "MASTER_PORT": ""}, "MASTER_PORT unset"),
        ({**FULL, "WORLD_SIZE": "two"}, "not whole numbers"),
        ({**FULL, "RANK": "-1"}, "not whole numbers"),
        ({**FULL, "RANK": "2"}, "RANK=2 is not below WORLD_SIZE=2"),
    ],
)
def test_a_stray_or_incomplete_torchrun_set_is_one_line(monkeypatch, env, said):
    for name in FULL:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(DeviceError, match=said) as caught:
        torchrun_world()
    assert "\n" not in str(caught.value)


def test_no_torchrun_and_a_full_set(monkeypatch):
    for name in FULL:
        monkeypatch.delenv(name, raising=False)
    assert torchrun_world() == 1
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert torchrun_world() == 1
    for name, value in FULL.items():
        monkeypatch.setenv(name, value)
    assert torchrun_world() == 2


def test_predict_with_a_stray_world_size_exits_with_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "predict", ROOT / "resources" / "samples", "-q"],
        env=child_env(WORLD_SIZE="2"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "digitsum predict: error: WORLD_SIZE=2 says this is one of several torchrun processes, but RANK, "
        "LOCAL_RANK, MASTER_ADDR, MASTER_PORT unset: start it with torchrun, or unset WORLD_SIZE"
    ]
