"""Helpers for tests that run the real command line in a child process.

Kept out of conftest.py so that test modules can import the functions directly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
