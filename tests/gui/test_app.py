"""The `digitsum-gui` entry point: its options, and that it starts without a display server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitsum_gui.app import get_args_parser

ROOT = Path(__file__).resolve().parents[2]


def test_options():
    args = get_args_parser().parse_args(
        ["some/folder", "--model", "m.safetensors", "--device", "cpu", "--batch-size", "8"]
    )
    assert (args.folder, args.model, args.device, args.batch_size) == ("some/folder", "m.safetensors", "cpu", 8)
    assert get_args_parser().parse_args([]).folder is None


@pytest.mark.parametrize("flag", ["--version", "--help", "-h"])
def test_help_and_version_answer_without_any_display(flag):
    """No DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM: answered before Qt starts (it would abort)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "digitsum_gui", flag],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("digitsum " if flag == "--version" else "usage: digitsum-gui")


@pytest.mark.parametrize(
    "words, said",
    [
        (["--batch-size", "-5"], "argument --batch-size: must be a whole number from 1 to 65536, got '-5'"),
        (["--device", "tpu"], "argument --device:"),
    ],
)
def test_a_bad_value_is_refused_before_the_window_opens(words, said):
    """Refused by the parser, without any display (Qt would abort first), never accepted and failing every run."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "digitsum_gui", *words], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert proc.returncode == 2 and f"digitsum-gui: error: {said}" in proc.stderr
