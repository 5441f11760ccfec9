"""The `digitsum-gui` entry point: its options, and that it starts without a display server."""

import os
import subprocess
import sys
from pathlib import Path

from digitsum_gui.app import get_args_parser

ROOT = Path(__file__).resolve().parent.parent


def test_options():
    args = get_args_parser().parse_args(
        ["some/folder", "--model", "m.safetensors", "--device", "cpu", "--batch-size", "8"]
    )
    assert (args.folder, args.model, args.device, args.batch_size) == ("some/folder", "m.safetensors", "cpu", 8)
    assert get_args_parser().parse_args([]).folder is None


def test_version_runs_without_a_display():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "digitsum_gui", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("digitsum ")
