"""core.devices: torchrun's variables read once, a stray or incomplete set a one-line error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.clitools import ROOT, child_env

from core.devices import DeviceError, torchrun_world

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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_stray_full_set_ends_within_the_join_timeout(monkeypatch):
    """WORLD_SIZE, RANK and MASTER_* left in a shell, no torchrun: rank 0 waits for a rank that
    never comes only as long as ``JOIN_TIMEOUT_S`` (300 s; 1 s here), then one line."""
    import time

    import torch

    import core.devices

    for name, value in {**FULL, "RANK": "0", "LOCAL_RANK": "0", "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TORCHELASTIC_USE_AGENT_STORE", raising=False)
    monkeypatch.setattr(core.devices, "JOIN_TIMEOUT_S", 1)
    start = time.monotonic()
    with pytest.raises(DeviceError) as told:
        core.devices.distributed_setup(torch.device("cpu"))
    assert time.monotonic() - start < 30
    said = str(told.value)
    assert "\n" not in said and said.startswith("could not join the torchrun job (rank 0 of 2 at 127.0.0.1:")
    assert "not every rank joined within 1 s" in said and "unset WORLD_SIZE" in said


def test_a_job_started_by_hand_joins_all_its_ranks():
    """The same variables set by hand for every rank (no torchrun agent): the ranks meet."""
    code = (
        "import torch; from core.devices import distributed_setup; "
        "ctx = distributed_setup(torch.device('cpu')); print(ctx.all_reduce_sum(torch.ones(1)).item()); ctx.close()"
    )
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=child_env(**{**FULL, "RANK": str(r), "LOCAL_RANK": str(r), "MASTER_PORT": port}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for r in (0, 1)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-500:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["2.0", "2.0"]
