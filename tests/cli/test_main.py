"""The `digitsum` command line as a whole (core/cli/main.py), run for real in child processes (``python -m core``).

What every command shares: one-line errors with exit 1, a reader leaving early, a full disk, closed
stdout or stderr, Ctrl-C. Each command's own contracts are in tests/cli/test_<command>_command.py, the
run predict and evaluate share in tests/cli/test_prediction_run.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from helpers.clitools import (
    ROOT,
    bar_passed,
    child_env,
    cli_in_process,
    one_line_error,
    read_csv_bytes,
    run_cli,
    signal_when,
)


@pytest.mark.parametrize(
    "case", ["no model", "foreign model", "no input", "missing input", "empty folder", "no labels", "no digit bank"]
)  # bad flag values: tests/test_argtypes.py
def test_commands_that_cannot_run_exit_1_with_one_line(case, tmp_path, synth_folder, baseline_model, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "model.pt").write_bytes(b"\x80\x04\x95" + b"\0" * 20)  # a pickle header
    out = ["--output", tmp_path / "out.csv"]
    args = {
        "no model": ["predict", synth_folder, "--model", tmp_path / "missing.safetensors", *out],
        "foreign model": ["predict", synth_folder, "--model", tmp_path / "model.pt", *out],
        "no input": ["predict", "--model", baseline_model, *out],
        "missing input": ["predict", tmp_path / "nothing-here", "--model", baseline_model, *out],
        "empty folder": ["predict", tmp_path / "empty", "--model", baseline_model, *out],
        "no labels": ["evaluate", synth_folder, "--labels", tmp_path / "none.csv", "--model", baseline_model],
        "no digit bank": ["synth", tmp_path / "s", "--count", 3, "--mnist", tmp_path / "none.npz"],
    }[case]
    status, stdout, stderr = cli_in_process(capsys, *args)
    lines = stderr.strip().splitlines()
    assert status == 1 and len(lines) == 1 and stdout == "", (status, stdout, stderr)
    assert lines[0].startswith(f"digitsum {args[0]}: error: ")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "s").exists()


def test_no_model_in_a_child_process(synth_folder, tmp_path):
    one_line_error(run_cli("predict", synth_folder, "--model", tmp_path / "missing.safetensors"), "predict")


def test_predict_into_a_closed_pipe_ends_quietly(synthed, baseline_model):
    """`digitsum predict DIR | head -2`: the reader leaving early is not an error."""
    import subprocess
    import sys

    from helpers.clitools import child_env

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "predict",
            str(synthed),
            "--model",
            str(baseline_model),
            "--batch-size",
            "4",
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=child_env(),
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # like `head -1` exiting
    _, err = proc.communicate(timeout=120)
    assert first.startswith(b"\xef\xbb\xbffile,")
    assert proc.returncode == 0, err
    assert b"error" not in err and b"Traceback" not in err


@pytest.mark.parametrize("buffered", [True, False])
def test_output_to_a_full_disk_fails_in_one_line(synthed, baseline_model, buffered):
    """`digitsum evaluate --json > /dev/full`: the lost output is an error, not exit 0 or a traceback.

    Buffered, the failure surfaces only at the final flush in ``core.cli.main.run``; unbuffered, at
    the print itself.
    """
    import subprocess
    import sys

    from helpers.clitools import child_env

    env = child_env()
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "core",
                "evaluate",
                str(synthed),
                "--labels",
                str(synthed / "labels.csv"),
                "--model",
                str(baseline_model),
                "--json",
                "-q",
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and "No space left on device" in lines[0], proc.stderr


def test_closed_stdout_or_stderr_gives_a_line_or_the_csv_never_a_traceback(tmp_path):
    """`>&-` and `2>&-`: a CSV asked for on stdout is refused in one line; with stderr closed the
    CSV is still written (and nothing else lands in it)."""
    import shlex

    from helpers.clitools import ROOT, child_env

    samples, out = shlex.quote(str(ROOT / "resources" / "samples")), shlex.quote(str(tmp_path / "s.csv"))
    python = shlex.quote(sys.executable)

    def shell(line):
        return subprocess.run(["bash", "-c", line], env=child_env(), capture_output=True, text=True, timeout=120)

    closed_out = shell(f"{python} -m core predict {samples} -q >&-")
    assert closed_out.returncode == 1
    assert closed_out.stderr == "digitsum predict: error: stdout is closed (>&-): name a CSV file with --output\n"
    for line in (
        f"{python} -m core predict {samples} -o {out} 2>&-",
        f"{python} -m core predict {samples} -o {out} >&- 2>&-",
    ):
        proc = shell(line)
        assert proc.returncode == 0, line
        text = (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
        assert text.startswith("file,predicted_sum,confidence,digits,error\n") and len(text.splitlines()) == 25
        (tmp_path / "s.csv").unlink()


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.mark.hardening("issue 6, case 11")
def test_case11_ctrl_c_in_the_cli_keeps_whole_rows_only(synth_folder, digits_model, tmp_path):
    """SIGINT in the middle of `digitsum predict` to stdout: exit 130, every row written is whole.
    With --output FILE the same interruption leaves no file (never half a file: case 10)."""
    # the folder five times over (200 inputs): the run must outlast this process's reaction to
    # the progress bar, which on a busy 2-core machine can lag by a good part of a second
    cmd = [
        sys.executable,
        "-m",
        "core",
        "predict",
        *[str(synth_folder)] * 5,
        "--model",
        str(digits_model),
        "--batch-size",
        "4",
        "--device",
        "cpu",
    ]
    # Ctrl-C as in a terminal: a test run started in the background (`.ci/run &`) inherits an
    # ignored SIGINT, and Python then never turns it into KeyboardInterrupt
    proc = subprocess.Popen(
        cmd,
        env=child_env(DIGITSUM_PROGRESS_BAR="1"),  # the bar on the pipe: how this test sees progress
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    out, err = signal_when(proc, signal.SIGINT, lambda seen: bar_passed(seen, 4, 200))  # once 4 of 200 are done
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    header, rows = read_csv_bytes(out)
    assert header == ["file", "predicted_sum", "confidence", "digits", "error"]
    assert out.endswith(b"\n") and 4 <= len(rows) < 200
    assert [r["file"] for r in rows] == [f"synth_{i % 40:05d}.png" for i in range(len(rows))]
    assert all(len(r) == 5 and r["predicted_sum"].isdigit() and len(r["digits"]) == 4 for r in rows)
