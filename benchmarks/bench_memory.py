"""Peak memory of `digitsum predict` on 10,000 files against 1,000: streaming, not hoarding.

    python benchmarks/bench_memory.py                # 1,000 and 10,000 PNGs
    python benchmarks/bench_memory.py --counts 1000 10000 --model M.safetensors
    python benchmarks/bench_memory.py --before DIR   # also an earlier checkout, same folders (goal: not above it)

Each run is a fresh `digitsum predict FOLDER --output X.csv` process; its peak resident set
size is read from the kernel when it is reaped (os.wait4: ru_maxrss of that child alone).
Goal: the peak on the largest folder within 50 MB of the peak on the smallest.

This process never imports torch before measuring: a child's ru_maxrss includes the
memory it shared with its parent between fork and exec, so a big parent (one that had
just composed 10,000 images) would inflate it. The folders are made in a child process.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import checkout_command, checkout_model, digitsum_command, machine

GOAL_MB = 50.0


def peak_rss_mb(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``cmd`` run as a child of this process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with status {proc.returncode}")
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return usage.ru_maxrss * scale / 1e6, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--model", default=None)
    p.add_argument("--before", default=None, metavar="DIR", help="also measure this checkout (an earlier commit)")
    args = p.parse_args()
    peaks, before = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            folder = Path(
                subprocess.run(  # made (or found) by a child: this process stays small
                    [
                        sys.executable,
                        "-c",
                        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                        f"from benchlib import png_folder; print(png_folder({count}))",
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            )
            cmd = digitsum_command() + ["predict", str(folder), "--quiet", "--output", str(Path(tmp) / f"{count}.csv")]
            if args.model:
                cmd += ["--model", args.model]
            mb, seconds = peak_rss_mb(cmd)
            peaks[count] = mb
            print(
                f"{count:6d} files: peak RSS {mb:7.1f} MB ({seconds:.1f} s, {count / seconds:.0f} images/s)", flush=True
            )
            if args.before:
                python, env = checkout_command(args.before)
                theirs = ["--model", str(checkout_model(args.before))] if not args.model else []
                mb, seconds = peak_rss_mb(python + cmd[len(digitsum_command()) :] + theirs, env)
                before[count] = mb
                print(f"{count:6d} files, before: peak RSS {mb:7.1f} MB ({seconds:.1f} s)", flush=True)
    small, large = min(args.counts), max(args.counts)
    growth = peaks[large] - peaks[small]
    result = {
        "bench": "predict_memory",
        "machine": machine(),
        "peak_rss_mb": {str(k): round(v, 1) for k, v in peaks.items()},
        "growth_mb": round(growth, 1),
        "goal_mb": GOAL_MB,
        "goal_met": growth <= GOAL_MB,
    }
    if before:
        result["before_peak_rss_mb"] = {str(k): round(v, 1) for k, v in before.items()}
    print(f"peak RSS grows by {growth:.1f} MB from {small} to {large} files (goal <= {GOAL_MB:.0f} MB)")
    print(json.dumps(result))
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
