"""The `digitsum` command line, run for real in child processes (``python -m core``).

Covers docs/ARCHITECTURE.md's contracts: the prediction CSV, evaluate's figures, `.npy` input in the
assignment's format, error rows for bad files, one-line errors with exit 1, synth.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.clitools import (
    ROOT,
    TINY_TRAIN,
    bar_passed,
    child_env,
    cli_in_process,
    one_line_error,
    read_csv_bytes,
    run_cli,
    sha256,
    signal_when,
)
from helpers.clitools import cli_in_process as cli
from helpers.clitools import cli_in_process as in_process
from helpers.clitools import one_line_any_stdout as one_line
from helpers.hostile import failing_on, good_images, write_bad_files
from PIL import Image

from core.inputs.images import ImageReadError, read_image

HEADER = ["file", "predicted_sum", "confidence", "digits", "error"]
SAMPLES = ROOT / "resources" / "samples"


@pytest.fixture(scope="module")
def synthed(tmp_path_factory) -> Path:
    """`digitsum synth OUT --count 12 --seed 1`, run for real."""
    out = tmp_path_factory.mktemp("cli") / "s"
    proc = run_cli("synth", out, "--count", 12, "--seed", 1)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 12 images" in proc.stderr and proc.stdout == ""
    return out


@pytest.fixture(scope="module")
def predicted(synthed, baseline_model) -> list[dict]:
    """`digitsum predict FOLDER --model M --output p.csv` on the synth folder: the parsed rows."""
    out = synthed.parent / "p.csv"
    proc = run_cli("predict", synthed, "--model", baseline_model, "--output", out)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_bytes(out.read_bytes())
    assert header == HEADER
    return rows


def test_synth_writes_pngs_and_labels(synthed):
    names = sorted(p.name for p in synthed.glob("*.png"))
    assert names == [f"synth_{i:05d}.png" for i in range(12)]
    lines = (synthed / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "filename,sum,digits" and len(lines) == 13
    for line in lines[1:]:
        name, total, digits = line.split(",")
        assert name in names and len(digits) == 4 and sum(map(int, digits)) == int(total)
    # exactly the seeded composition: the same seed and count give the same files
    from core.synth.bank import load_bank
    from core.synth.composer import compose_numpy

    images, digits = compose_numpy(load_bank().subset("holdout"), 12, seed=1)  # synth's default for the bundled bank
    for i, name in enumerate(names):
        np.testing.assert_array_equal(np.asarray(Image.open(synthed / name)), images[i])
        assert lines[i + 1] == f"{name},{digits[i].sum()},{''.join(map(str, digits[i]))}"


def test_predict_csv_contract(synthed, predicted):
    assert [r["file"] for r in predicted] == [f"synth_{i:05d}.png" for i in range(12)]  # one row each, in order
    for row in predicted:
        assert 0 <= int(row["predicted_sum"]) <= 36
        assert 0 < float(row["confidence"]) <= 1 and len(row["confidence"].split(".")[1]) == 4
        assert row["digits"] == "" and row["error"] == ""  # the baseline reads no digits


def test_predict_to_stdout_is_the_same_csv(synthed, baseline_model):
    """With the progress bar on: progress and messages go to stderr, stdout holds the CSV alone."""
    proc = run_cli("predict", synthed, "--model", baseline_model)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.encode() == (synthed.parent / "p.csv").read_bytes()
    assert "12 inputs: 12 predicted, 0 unreadable" in proc.stderr


def test_the_progress_bar_is_drawn_on_a_terminal_only(synthed, baseline_model):
    """``2>log``: no carriage returns, the summary line kept; on a terminal, the bar."""
    piped = run_cli("predict", synthed, "--model", baseline_model, "--output", os.devnull)
    assert piped.returncode == 0 and "\r" not in piped.stderr
    assert "12 inputs: 12 predicted, 0 unreadable" in piped.stderr
    terminal, child_end = pty.openpty()
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    cmd = [sys.executable, "-m", "core", "predict", str(synthed), "--model", str(baseline_model), "-o", os.devnull]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=child_end, env=child_env(), timeout=300)
    os.close(child_end)
    seen = b""
    with contextlib.suppress(OSError):  # EIO once the child's end is closed and all is read
        while chunk := os.read(terminal, 65536):
            seen += chunk
    os.close(terminal)
    assert proc.returncode == 0 and b"12/12" in seen and b"\r" in seen


def test_evaluate_and_npy_input(synthed, baseline_model, predicted, tmp_path):
    """`evaluate` prints its figures (text, and --json); the same images as the assignment's
    data0.npy (float64, 0..255) with lab0.npy give the same predictions and the same figures."""
    labels = {ln.split(",")[0]: int(ln.split(",")[1]) for ln in (synthed / "labels.csv").read_text().splitlines()[1:]}
    expected = np.mean([int(r["predicted_sum"]) == labels[r["file"]] for r in predicted])
    proc = run_cli("evaluate", synthed, "--labels", synthed / "labels.csv", "--model", baseline_model)
    assert proc.returncode == 0, proc.stderr
    text = dict(line.rsplit(None, 1) for line in proc.stdout.splitlines())
    assert text["images evaluated"] == "12" and text["accuracy (sum)"] == f"{expected:.4f}"
    assert "mean abs. error" in text

    names = [r["file"] for r in predicted]
    images = np.stack([np.asarray(Image.open(synthed / n), dtype=np.float64) for n in names])
    assert images.shape == (12, 40, 168) and images.max() > 1
    np.save(tmp_path / "data0.npy", images)
    np.save(tmp_path / "lab0.npy", np.array([labels[n] for n in names], dtype=np.float64))

    proc = run_cli("predict", "data0.npy", "--model", baseline_model, "--output", "p.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    assert header == HEADER
    assert [r["file"] for r in rows] == [f"data0.npy:{i}" for i in range(12)]

    def sums(table):
        return [(r["predicted_sum"], r["confidence"]) for r in table]

    assert sums(rows) == sums(predicted)

    proc = run_cli("evaluate", "data0.npy", "--labels", "lab0.npy", "--model", baseline_model, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # stdout holds the JSON object alone (progress is on stderr)
    assert result["count"] == 12 and result["errors"] == 0 and result["unlabelled"] == 0
    assert result["accuracy"] == pytest.approx(expected)
    assert f"{result['mae']:.4f}" == text["mean abs. error"]


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG signature and IHDR for a huge image, with one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_bad_files_become_error_rows_quickly(synth_folder, baseline_model, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = sorted(synth_folder.glob("*.png"))[:5]
    for i, src in enumerate(good):
        shutil.copy(src, folder / f"good{i}.png")
    data = good[0].read_bytes()
    (folder / "bad1-truncated.png").write_bytes(data[: len(data) // 2])
    (folder / "bad2-empty.png").write_bytes(b"")
    (folder / "bad3-text.png").write_text("this is not an image\n")
    (folder / "bad4-huge.png").write_bytes(png_claiming(30000, 30000))
    t0 = time.time()
    proc = run_cli("predict", folder, "--model", baseline_model, "--output", tmp_path / "p.csv")
    elapsed = time.time() - t0
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 30, elapsed  # seconds, not minutes: the huge PNG is refused from its header
    _, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    bad = [f"bad{i}-{kind}.png" for i, kind in enumerate(["truncated", "empty", "text", "huge"], 1)]
    assert [r["file"] for r in rows] == bad + [f"good{i}.png" for i in range(5)]
    errors = {r["file"]: r["error"] for r in rows if r["error"]}
    assert sorted(errors) == ["bad1-truncated.png", "bad2-empty.png", "bad3-text.png", "bad4-huge.png"]
    for name, reason in errors.items():
        assert reason.strip() and "\n" not in reason and "Traceback" not in reason, (name, reason)
        row = next(r for r in rows if r["file"] == name)
        assert row["predicted_sum"] == "" and row["confidence"] == ""
    assert "large" in errors["bad4-huge.png"].lower() or "pixels" in errors["bad4-huge.png"].lower()
    assert sum(1 for r in rows if r["predicted_sum"]) == 5
    assert "9 inputs: 5 predicted, 4 unreadable" in proc.stderr


@pytest.mark.parametrize(
    "case", ["no model", "foreign model", "no input", "missing input", "empty folder", "no labels", "no digit bank"]
)  # bad flag values: tests/cli/test_argtypes.py
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


def test_default_model_reads_the_samples(default_model):
    """The shipped model on resources/samples (24 composed images): at least 95% exact sums."""
    proc = run_cli("evaluate", SAMPLES, "--labels", SAMPLES / "labels.csv", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == 24 and result["errors"] == 0
    assert result["accuracy"] >= 0.95, result
    assert result["digit_accuracy"] >= 0.95, result


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


def test_predict_recursive_names_the_sub_folders_it_leaves_out(synth_folder, baseline_model, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(synth_folder, tree / "day1")
    (tree / "day1" / "disk").symlink_to("/")  # would list the whole disk
    proc = run_cli("predict", tree, "--recursive", "--model", baseline_model, "--output", tmp_path / "sums.csv")
    assert proc.returncode == 0, proc.stderr
    assert f"note: left out 1 sub-folder: {tree}/day1/disk/ (a link out of the folder)" in proc.stderr
    rows = (tmp_path / "sums.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(rows) == len(list(synth_folder.glob("*.png"))) and all(r.startswith("day1/") for r in rows)


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.mark.hardening("issue 6, case 1")
@pytest.mark.usefixtures("baseline_onnx")
def test_case01_bad_files_in_a_folder_are_error_rows_and_the_run_goes_on_in_seconds(tmp_path, baseline_model, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    goods = good_images(6)
    for i, img in enumerate(goods):
        Image.fromarray(img).save(folder / f"good{i}.png")
    bad = write_bad_files(folder, goods[0])
    # the core reader: each bad file is its own typed, one-line reason
    for name, words in bad.items():
        with pytest.raises(ImageReadError) as info:
            read_image(folder / name)
        assert words in str(info.value) and "\n" not in str(info.value), (name, str(info.value))

    t0 = time.monotonic()
    status, _, err = cli(
        capsys, "predict", folder, "--model", baseline_model, "--output", tmp_path / "p.csv", "--batch-size", "4"
    )
    elapsed = time.monotonic() - t0
    assert status == 0, err
    assert elapsed < 30, elapsed  # the 30000x30000 PNG is refused from its header, never decoded
    _, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    assert [r["file"] for r in rows] == sorted(bad) + [f"good{i}.png" for i in range(6)]
    for r in rows:
        if r["file"] in bad:
            assert bad[r["file"]] in r["error"] and r["predicted_sum"] == r["confidence"] == "", r
        else:
            assert r["error"] == "" and 0 <= int(r["predicted_sum"]) <= 36, r
    assert "11 inputs: 6 predicted, 5 unreadable" in err


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


@pytest.mark.hardening("issue 6, case 13")
@pytest.mark.parametrize(
    "error",
    [RuntimeError("CUDA error: an illegal memory access was encountered"), MemoryError()],
    ids=["RuntimeError", "bare MemoryError"],
)
def test_case13_the_model_failing_mid_run_exits_1_after_writing_the_rows_it_had(
    error, synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    # batches of 8: the model fails on the second one, which holds synth_00008.png
    monkeypatch.setattr(
        "core.predict.predictor.Predictor", failing_on(read_image(synth_folder / "synth_00008.png"), error)
    )
    out = tmp_path / "p.csv"
    status, stdout, stderr = cli(
        capsys,
        "predict",
        synth_folder,
        "--model",
        baseline_model,
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--output",
        out,
        "-q",
    )  # classify is the CPU path's model call
    summary, line = stderr.strip().splitlines()
    assert status == 1 and stdout == "" and "Traceback" not in stderr
    assert summary.startswith("8 of 40 inputs: 8 predicted, 0 unreadable")
    assert line == "digitsum predict: error: prediction stopped after 8 rows: " + (str(error) or type(error).__name__)
    header, rows = read_csv_bytes(out.read_bytes())
    assert [r["file"] for r in rows] == [f"synth_{i:05d}.png" for i in range(8)]  # the first batch, whole
    assert all(r["predicted_sum"].isdigit() for r in rows)


@pytest.mark.hardening("issue 14, class 1")
def test_class1_a_run_failing_before_its_first_row_keeps_the_old_csv(
    synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "sums.csv"
    out.write_bytes(b"\xef\xbb\xbffile,predicted_sum,confidence,digits,error\nold.png,7,0.9000,,\n")
    before = sha256(out)
    monkeypatch.setattr("core.predict.predictor.Predictor", failing_on(read_image(synth_folder / "synth_00000.png")))
    status, stdout, stderr = cli(
        capsys,
        "predict",
        synth_folder,
        "--model",
        baseline_model,
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--output",
        out,
        "-q",
    )
    assert status == 1 and stdout == "" and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("digitsum predict: error: prediction stopped after 0 rows")
    assert sha256(out) == before and os.listdir(tmp_path) == ["sums.csv"]


@pytest.mark.hardening("issue 14, class 7")
def test_class7_synth_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "labels.csv").write_text("filename,sum\nsynth_00000.png,5\n")
    shutil.copy(SAMPLES / "synth_00007.png", mine / "synth_00000.png")
    before = {p.name: sha256(p) for p in mine.iterdir()}
    proc = run_cli("synth", mine, "--count", "3")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"digitsum synth: error: {mine} is not empty (2 entries, e.g. labels.csv); give a new or empty folder, "
        "or --force to replace images of the same names and labels.csv"
    ]
    assert {p.name: sha256(p) for p in mine.iterdir()} == before
    proc = run_cli("synth", mine, "--count", "3", "--force")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(mine)) == ["labels.csv", "synth_00000.png", "synth_00001.png", "synth_00002.png"]
    assert (mine / "labels.csv").read_text().count("\n") == 4


@pytest.mark.hardening("issue 14, class 7")
def test_class7_sigterm_during_predict_leaves_no_temporary_file_and_the_old_csv(synth_folder, digits_model, tmp_path):
    out = tmp_path / "sums.csv"
    out.write_bytes(b"\xef\xbb\xbffile,predicted_sum,confidence,digits,error\nold.png,7,0.9000,,\n")
    before = sha256(out)
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
        "--output",
        str(out),
    ]
    env = child_env(DIGITSUM_PROGRESS_BAR="1")  # the bar on the pipe: how this test sees progress
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, err = signal_when(  # once rows go into the temporary file
        proc, signal.SIGTERM, lambda seen: bar_passed(seen, 8, 200) and any(tmp_path.glob(".sums.csv.*.tmp"))
    )
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "digitsum predict: terminated by SIGTERM" and "Traceback" not in err
    assert os.listdir(tmp_path) == ["sums.csv"] and sha256(out) == before


@pytest.mark.hardening("issue 14, class 8")
def test_class8_evaluate_refuses_labels_of_another_length_as_train_does(tmp_path, capsys):
    images = np.stack([np.asarray(Image.open(SAMPLES / f"synth_{i:05d}.png")) for i in range(10)])
    np.save(tmp_path / "data0.npy", images)
    for count in (12, 8):
        np.save(tmp_path / "lab0.npy", np.arange(count) % 37)
        line = one_line(
            *in_process(
                capsys,
                "evaluate",
                tmp_path / "data0.npy",
                "--labels",
                tmp_path / "lab0.npy",
                "--model",
                SAMPLES.parent / "models" / "digitsum-resnet50.safetensors",
                "-q",
            ),
            "evaluate",
        )
        assert line.endswith(f"data0.npy has 10 images but lab0.npy has {count} sums")
        from core.train.script import run_cli as train

        assert train(["--data", str(tmp_path / "data0.npy"), *TINY_TRAIN, "--out", str(tmp_path / "run")]) == 1
        assert capsys.readouterr().err.strip().endswith(f"data0.npy has 10 images but lab0.npy has {count} sums")

    # labels.csv naming files that are not there: said in the figures, not silently left out
    folder = shutil.copytree(SAMPLES, tmp_path / "imgs")
    (folder / "labels.csv").write_text((folder / "labels.csv").read_text() + "absent1.png,3\nabsent2.png,4\n")
    proc = run_cli("evaluate", folder, "--labels", folder / "labels.csv", "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == 24 and result["labels_without_input"] == 2


@pytest.mark.hardening("issue 14, class 3")
def test_class3_the_rule_is_in_the_help_and_the_readme(capsys):
    from core.cli.main import main

    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "floats are 0..1 unless over 1% of their non-zero values exceed 1" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "unless more than 1% of their non-zero values exceed 1" in readme
