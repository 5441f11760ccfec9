"""Argument types for every command's parser: each value is checked before any work starts.

A bad value ends the command the way argparse ends it, before a file is read or written:
exit status 2 and ``digitsum train: error: argument --lr: must be a number > 0, got -1``,
naming the flag (argparse adds it) and the range allowed.

    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), ...)
    p.add_argument("--lr", type=float_in(0, None, low_open=True), ...)
"""

from __future__ import annotations

import argparse
import math
import re

from core.limits import MAX_PER_EPOCH

MAX_BATCH = 65536  # images per step: far beyond any GPU's memory at 40x168, far below an int overflow
MAX_WORKERS = 256
MAX_SEED = 2**32 - 1  # numpy's legacy seeding takes 0 .. 2**32 - 1


def int_in(low: int, high: int | None = None):
    """An argparse ``type``: a whole number from ``low`` to ``high`` (no upper bound if None)."""

    def parse(text: str) -> int:
        value = int(text, 10)  # not a number: argparse says "invalid int value: 'lots'", as for type=int
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, got {text!r}")
        return value

    parse.__name__ = "int"
    return parse


def float_in(low: float | None, high: float | None = None, low_open: bool = False, high_open: bool = False):
    """An argparse ``type``: a finite number in the given range (open at an end if asked)."""
    parts = []
    if low is not None:
        parts.append(f"> {low:g}" if low_open else f">= {low:g}")
    if high is not None:
        parts.append(f"< {high:g}" if high_open else f"<= {high:g}")
    allowed = " and ".join(parts)

    def parse(text: str) -> float:
        value = float(text)  # not a number: "invalid float value: 'x'"
        ok = math.isfinite(value)  # nan, inf: never a learning rate, a share or a weight decay
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"must be a finite number{' ' + allowed if allowed else ''}, got {text!r}")
        return value

    parse.__name__ = "float"
    return parse


def device_spec(text: str) -> str:
    """An argparse ``type`` for ``--device``: auto, cpu, cuda or cuda:N (whether it exists is checked later)."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text.strip().lower()):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")
    return text


def data_spec(text: str) -> str:
    """An argparse ``type`` for ``--data``: a path, or ``synthetic:N`` with N >= 1 composed images."""
    if text.startswith("synthetic:"):
        count = text.split(":", 1)[1]
        if not count.isascii() or not count.isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"synthetic:N needs N, a whole number of images >= 1, got {text!r}")
        if int(count) > MAX_PER_EPOCH:  # (days of training: a typing mistake)
            raise argparse.ArgumentTypeError(
                f"synthetic:N takes at most {MAX_PER_EPOCH:,} images per epoch, got {text!r}"
            )
        return text
    if not text:
        raise argparse.ArgumentTypeError("empty; give a folder, an .npy file or synthetic:N")
    return text


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> str:
    """An argparse ``type`` for a time span such as ``150m``, ``2h30m`` or ``90s`` (checked, kept as typed)."""
    seconds_in(text)
    return text


def seconds_in(text: str) -> float:
    """Seconds in a :func:`duration` text; ``ArgumentTypeError`` for anything else or a span of 0."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise argparse.ArgumentTypeError(f"expected a time span such as 150m, 2h30m or 90s, got {text!r}")
    seconds = sum(float(n) * DURATION_UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"a time limit must be longer than 0, got {text!r}")
    return seconds


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--batch-size`` as prediction takes them: the same words in
    ``digitsum predict``/``evaluate`` and in the app's ``digitsum-gui``."""
    parser.add_argument("--device", default="auto", type=device_spec, help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument(
        "--batch-size",
        type=int_in(1, MAX_BATCH),
        default=None,
        help=f"images per forward pass, 1 to {MAX_BATCH} (default: 64 CPU, 1024 CUDA)",
    )
