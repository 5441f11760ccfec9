"""Helpers for tests that run the real command line in a child process.

Kept out of conftest.py so that test modules can import the functions directly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"  # the bundled sample images: 24 composed PNGs and their labels.csv
# MNIST's training digits where the workplace keeps them; a user's machine has none (tests skip)
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist-train.npz"


def child_env(**extra) -> dict:
    """The environment for a child ``python -m core``: this checkout first on the path, one thread.

    One torch thread per process: these runs are tiny, the test machines have few cores, and
    torchrun runs two processes side by side.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


def cli_in_process(capsys, *args) -> tuple[int, str, str]:
    """``digitsum ARGS`` through ``core.cli.main.main`` in this process: (status, stdout, stderr)."""
    from core.cli.main import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def signal_when(proc: subprocess.Popen, signum: int, ready, timeout: float = 120) -> tuple[bytes, str]:
    """Send ``signum`` to ``proc`` once ``ready(stderr so far)`` is true; its stdout and whole stderr.

    ``proc`` has piped stdout and stderr; it is killed if it is still running when this ends.
    """
    seen = b""
    try:
        os.set_blocking(proc.stderr.fileno(), False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                seen += proc.stderr.read() or b""
            except BlockingIOError:
                pass
            if ready(seen):
                break
            time.sleep(0.02)
        assert proc.poll() is None, seen.decode(errors="replace")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, (seen + err).decode(errors="replace")


def bar_passed(stderr: bytes, count: int, total: int) -> bool:
    """Whether a tqdm bar in ``stderr`` has shown ``count`` or more of ``total``."""
    return any(int(n) >= count for n in re.findall(rb"\b(\d+)/%d\b" % total, stderr))


def run_cli(*args, cwd=None, timeout=300, module="core") -> subprocess.CompletedProcess:
    """Run ``python -m core ARGS...`` (the ``digitsum`` command) and capture its output."""
    cmd = [sys.executable, "-m", module, *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=timeout)


def run_torchrun(*args, nproc=2, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node N -m ARGS...`` through ``python -m torch.distributed.run``."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        *map(str, args),
    ]
    return subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=timeout)


def python_json(code: str, timeout=300):
    """Run ``python -c CODE`` in a child; it must exit 0 and print JSON last. Returns that value."""
    proc = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one_line_error(proc: subprocess.CompletedProcess, command: str) -> str:
    """Assert exit 1 with exactly one line on stderr, ``digitsum COMMAND: error: ...``; return it."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"digitsum {command}: error: "), lines[0]
    return lines[0]


def events(stdout: str) -> list[dict]:
    """Parse ``--progress json`` output: every stdout line must be one JSON object."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def read_csv_bytes(data: bytes) -> tuple[list[str], list[dict]]:
    """Check the BOM and return (header, rows as dicts) of a prediction CSV."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:10]
    reader = csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# a training run that takes seconds: the baseline CNN, one epoch on the CPU (``--data`` and ``--out`` to add)
TINY_TRAIN = ["--arch", "baseline", "--head", "sum", "--epochs", "1", "--batch-size", "16", "--device", "cpu"]
# a ResNet-50 digits run small enough for a test: 16 composed images, one epoch, JSON progress
RESNET_TINY = ["--data", "synthetic:16", "--epochs", "1", "--device", "cpu", "--progress", "json",
               "--batch-size", "8", "--val-size", "8"]  # fmt: skip


def one_line(status: int, stdout: str, stderr: str, command: str) -> str:
    """Of an in-process run (``cli_in_process``): assert exit 1, nothing on stdout and exactly one
    line on stderr, ``digitsum COMMAND: error: ...``, without a traceback; return that line."""
    lines = stderr.strip().splitlines()
    assert status == 1 and len(lines) == 1 and stdout == "", (status, stdout, stderr)
    assert lines[0].startswith(f"digitsum {command}: error: ") and "Traceback" not in stderr
    return lines[0]


def one_line_any_stdout(status: int, out: str, err: str, command: str) -> str:
    """``one_line`` that does not look at stdout: exit 1 and one error line on stderr; return it."""
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and "Traceback" not in err, (status, err)
    assert lines[0].startswith(f"digitsum {command}: error: "), lines[0]
    return lines[0]
