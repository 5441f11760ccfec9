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


def test_sigterm_ends_a_rank_waiting_for_the_others_at_once(tmp_path):
    """A full torchrun set whose second rank never comes: the rank waits in C++, where the CLI's
    Python handler would never run; SIGTERM must still end it (it used to need SIGKILL)."""
    import signal
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = child_env(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    samples = ROOT / "resources" / "samples"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "predict", str(samples), "--output", str(tmp_path / "p.csv")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with socket.socket() as probe:  # rank 0 hosts the store: once it listens, it is waiting
            deadline = time.monotonic() + 60
            while probe.connect_ex(("127.0.0.1", port)) != 0:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.wait()
    assert not (tmp_path / "p.csv").exists()
