"""Helpers shared by the benchmark scripts: test folders, the machine's description, commands."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def png_folder(count: int, folder: str | os.PathLike | None = None, seed: int = 1) -> Path:
    """A folder of ``count`` composed PNGs + labels.csv (the bundled bank's held-out writers), reused if complete."""
    folder = Path(folder or Path(tempfile.gettempdir()) / "digitsum-bench" / f"png-{count}-seed{seed}-holdout-writers")
    labels = folder / "labels.csv"
    if labels.is_file() and sum(1 for _ in folder.glob("*.png")) == count:
        return folder
    from core.synth.bank import load_bank
    from core.synth.folder import write_synthetic_folder

    if folder.exists():
        shutil.rmtree(folder)
    t0 = time.time()
    write_synthetic_folder(folder, count, load_bank().subset("holdout"), seed=seed)  # composed at once, then PNGs
    print(f"made {count} PNGs in {folder} ({time.time() - t0:.1f} s)", file=sys.stderr)
    return folder


def digitsum_command() -> list[str]:
    """The installed `digitsum` console script beside this Python, else `python -m core`."""
    script = Path(sys.executable).parent / "digitsum"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "core"]


def checkout_command(checkout: str | os.PathLike) -> tuple[list[str], dict]:
    """``(python -m core, environment)`` that runs another checkout's code (e.g. a git worktree of
    an older commit) with this Python's packages: its folder first on the path. Run it with a
    working directory outside this checkout (``-m`` puts the working directory first), and
    name its model (``checkout_model``): its bundled resources are not on the path, this one's are."""
    env = dict(os.environ, PYTHONPATH=os.fspath(Path(checkout).resolve()))
    return [sys.executable, "-m", "core"], env


def checkout_model(checkout: str | os.PathLike | None) -> Path:
    """The default model file of a checkout (``None``: this one), with whatever lies beside it."""
    return (Path(checkout).resolve() if checkout else ROOT) / "resources" / "models" / "digitsum-resnet50.safetensors"


def machine() -> dict:
    """CPU model, core count, torch version and CPU capability, for RESULTS.md."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
    }


def load_average() -> float:
    """1-minute load average (other processes on the machine skew timings), or -1 if unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def least_confident(score: np.ndarray, share: float) -> np.ndarray:
    """The rows a person reviewing ``share`` of them would see: those with the lowest ``score`` (ties: the first)."""
    return np.argsort(score, kind="stable")[: round(share * len(score))]
