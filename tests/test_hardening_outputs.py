"""Issue 14, classes 1 and 7: what an output may replace, and runs that never clobber each other.

Real files, real device nodes (the tests run as root: ``mknod`` works), a real named pipe
with a reader, a real socket, real child processes and real signals.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers.clitools import ROOT, bar_passed, child_env, events, read_csv_bytes, run_cli, sha256, signal_when
from helpers.clitools import cli_in_process as cli
from helpers.hostile import failing_on

from core.inputs.images import read_image
from core.predict.prediction_csv import ExportError, write_predictions_csv
from core.predict.rows import PredictionRow

SAMPLES = ROOT / "resources" / "samples"
ROWS = [PredictionRow("a.png", 3, 0.5)]


def refused(capsys, *args) -> str:
    """Run ``digitsum ARGS`` in this process; assert exit 1 with one line, no CSV; return the line."""
    status, out, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 1 and out == "" and len(lines) == 1 and "Traceback" not in err, (status, err)
    assert lines[0].startswith("digitsum predict: error: cannot write "), lines[0]
    return lines[0]


@pytest.fixture
def imgs(tmp_path) -> Path:
    """A copy of the bundled samples: 24 PNGs and their labels.csv."""
    return Path(shutil.copytree(SAMPLES, tmp_path / "imgs"))


# ================================================================ class 1: what an output may replace


def test_class1_an_output_never_replaces_an_input_a_labels_file_or_a_file_that_is_not_text(
    imgs, tmp_path, baseline_model, capsys
):
    model = tmp_path / "model.safetensors"
    shutil.copy(baseline_model, model)
    np_labels = tmp_path / "lab0.npy"
    np_labels.write_bytes(b"\x93NUMPY fake")
    outside_png = tmp_path / "photo.png"
    shutil.copy(imgs / "synth_00003.png", outside_png)
    link = tmp_path / "link.csv"
    link.symlink_to(imgs / "synth_00001.png")
    guarded = [imgs / "synth_00000.png", imgs / "labels.csv", model, np_labels, outside_png, imgs / "synth_00001.png"]
    before = {p: sha256(p) for p in guarded}
    run = ["predict", imgs, "--model", model, "-q", "--output"]
    assert "it is an input of this run" in refused(capsys, *run, imgs / "synth_00000.png")
    assert "it is an input of this run" in refused(capsys, *run, imgs / ".." / "imgs" / "synth_00000.png")
    assert "it is an input of this run" in refused(capsys, *run, link)  # a link to an input
    assert "it is an input of this run" in refused(capsys, *run, model)
    assert "labels file" in refused(capsys, *run, imgs / "labels.csv")
    assert "labels file" in refused(capsys, *run, np_labels)
    assert "not a CSV" in refused(capsys, *run, outside_png)
    # a labels file by its content, whatever its name
    truth = tmp_path / "truth.csv"
    truth.write_text("filename,sum\na.png,3\n")
    assert "labels file" in refused(capsys, *run, truth)
    assert truth.read_text() == "filename,sum\na.png,3\n"
    assert {p: sha256(p) for p in guarded} == before and link.is_symlink()
    assert not [p for p in tmp_path.rglob(".*.tmp")]
    # an old CSV of predictions is replaced as before, and a link to one is written through
    old = tmp_path / "sums.csv"
    old.write_text("file,predicted_sum\nx.png,1\n")
    alias = tmp_path / "latest.csv"
    alias.symlink_to(old)
    status, _, err = cli(capsys, *run, alias)
    assert status == 0, err
    assert alias.is_symlink() and len(read_csv_bytes(old.read_bytes())[1]) == 24


def test_class1_the_guis_export_writer_follows_the_same_rules(imgs):
    """``write_predictions_csv`` is what the window's Export calls: labels and images stay."""
    for dest, reason in [(imgs / "labels.csv", "labels file"), (imgs / "synth_00002.png", "not a CSV")]:
        before = sha256(dest)
        with pytest.raises(ExportError, match=reason):
            write_predictions_csv(ROWS, dest)
        assert sha256(dest) == before


def test_class1_devices_and_pipes_are_written_through_disks_and_sockets_refused(tmp_path, baseline_model, capsys):
    # a character device: a private twin of /dev/null (major 1, minor 3)
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    status, _, err = cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", null)
    assert status == 0, err
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)

    # a named pipe with a reader: the reader gets the whole CSV, the pipe stays a pipe
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    status, _, err = cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", fifo)
    reader.join(30)
    assert status == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and len(read_csv_bytes(got[0])[1]) == 24

    # a block device (a loop disk's node) and a socket: refused, never opened, still there
    disk = tmp_path / "disk"
    os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        for dest in (disk, tmp_path / "sock"):
            assert "not a regular file" in refused(
                capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", dest
            )
    finally:
        server.close()
    assert stat.S_ISBLK(os.lstat(disk).st_mode) and stat.S_ISSOCK(os.lstat(tmp_path / "sock").st_mode)

    # models and labels go through the same atomic writer, which never replaces a device node
    from core.models.checkpoint import load_model, save_model

    with pytest.raises(OSError, match="not a regular file"):
        save_model(null, load_model(baseline_model)[0])
    assert stat.S_ISCHR(os.lstat(null).st_mode)


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


# ================================================================ class 7: runs never clobber each other

TINY_TRAIN = [
    "--data",
    "synthetic:64",
    "--arch",
    "baseline",
    "--head",
    "sum",
    "--batch-size",
    "16",
    "--val-size",
    "32",
    "--device",
    "cpu",
]


def _wait_for_event(proc, event: str) -> list[dict]:
    seen = []
    for line in proc.stdout:
        seen.append(json.loads(line))
        if seen[-1]["event"] in (event, "done", "error"):
            break
    assert seen and seen[-1]["event"] == event, seen
    return seen


def test_class7_train_never_writes_into_a_live_or_finished_run_and_a_signal_stop_exits_non_zero(tmp_path, capsys):
    from core.train.script import run_cli as train

    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "core",
        "train",
        *TINY_TRAIN,
        "--epochs",
        "50",
        "--progress",
        "json",
        "--out",
        str(run),
    ]
    proc = subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = _wait_for_event(proc, "epoch")
        files = {p.name: sha256(p) for p in run.iterdir() if p.is_file()}
        # a second run into the live run's folder, by --out or by --resume: refused, nothing touched
        for args in (["--out", run], ["--resume", run]):
            status = train([*TINY_TRAIN, "--epochs", "1", *map(str, args)])
            err = capsys.readouterr().err.strip().splitlines()
            assert status == 1 and len(err) == 1, err
            assert "another training run is writing into this folder now" in err[0]
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sha256(run / "config.json") == files["config.json"]  # the refused runs wrote nothing there
    assert [json.loads(line)["event"] for line in (run / "progress.jsonl").read_text().splitlines()].count("start") == 1
    # stopped by a signal: exit 128 + 15 and a line saying so; the done event names the signal
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1].startswith("digitsum train: stopped by SIGTERM: the best model so far")
    done = events(rest)[-1]
    assert done["event"] == "done" and done["stopped_by"] == "SIGTERM" and seen[0]["event"] == "start"

    # the finished run's folder: --out into it is refused (exit 1, one line), every file unchanged
    files = {p.name: sha256(p) for p in run.iterdir()}
    status = train([*TINY_TRAIN, "--epochs", "1", "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err == [
        f"digitsum train: error: --out {run} already holds a training run "
        f"(best.safetensors); continue it with --resume {run}, or choose another --out"
    ]
    assert {p.name: sha256(p) for p in run.iterdir()} == files


def test_class7_a_default_run_folder_that_is_taken_gives_a_fresh_one(tmp_path):
    from core.train.run_folder import claim_run_folder, release_run_folders

    taken = tmp_path / "runs" / "20250101-120000-baseline-sum"
    taken.mkdir(parents=True)
    (taken / "best.safetensors").write_bytes(b"a model")
    try:
        assert claim_run_folder(taken, resumed=False, default_name=True) == taken.with_name(taken.name + "-2")
        # a run that failed before its first model leaves only its log: the folder is used, the log starts afresh
        failed = tmp_path / "failed"
        failed.mkdir()
        (failed / "progress.jsonl").write_text('{"event": "error"}\n')
        assert claim_run_folder(failed, resumed=False, default_name=False) == failed
        assert os.listdir(failed) == []
    finally:
        release_run_folders()
    assert (taken / "best.safetensors").read_bytes() == b"a model"


@pytest.mark.parametrize(
    "name, text",
    [("config.json", '{"mine": 1}\n'), ("progress.jsonl", "my own notes\n"), ("config.json", "not json")],
)
def test_class7_train_out_never_replaces_a_users_own_config_or_log(tmp_path, name, text):
    from core.train.run_folder import RunFolderError, claim_run_folder, release_run_folders

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / name).write_text(text)
    try:
        with pytest.raises(RunFolderError, match=f"holds a {name} that no training run wrote"):
            claim_run_folder(mine, resumed=False, default_name=False)
        # a default name moves on to the next free one
        assert claim_run_folder(mine, resumed=False, default_name=True) == tmp_path / "mine-2"
    finally:
        release_run_folders()
    assert (mine / name).read_text() == text


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


def test_class7_two_synths_into_one_new_folder_never_both_write(tmp_path):
    out = tmp_path / "new"
    cmd = [sys.executable, "-m", "core", "synth", str(out), "--count", "300"]
    runs = [
        subprocess.Popen([*cmd, "--seed", str(seed)], env=child_env(), stderr=subprocess.PIPE, text=True)
        for seed in (1, 2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert sorted(code for code, _ in results) == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    assert "another digitsum command is writing into this folder now" in refused or "is not empty" in refused
    seed = [1, 2][[code for code, _ in results].index(0)]
    again = tmp_path / "again"  # what the winner alone writes
    assert run_cli("synth", again, "--count", "300", "--seed", seed).returncode == 0
    assert (out / "labels.csv").read_text() == (again / "labels.csv").read_text()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in again.iterdir())


def test_class7_a_run_folder_holding_links_is_refused_and_what_they_point_at_untouched(tmp_path):
    run = tmp_path / "run"
    tiny = ["--arch", "baseline", "--data", "synthetic:16", "--val-size", "8", "--device", "cpu"]
    assert run_cli("train", *tiny, "--epochs", "1", "--out", run).returncode == 0
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("someone else's file\n")
    (run / "progress.jsonl").unlink()
    (run / "progress.jsonl").symlink_to(outside)  # a shared or downloaded run
    proc = run_cli("train", "--resume", run, "--epochs", "2")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"digitsum train: error: {run} holds a symbolic link (progress.jsonl); a run never writes through one, "
        "which would change the file it points at: copy the run's files into a folder of their own"
    ]
    assert outside.read_text() == "someone else's file\n"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "best.safetensors").symlink_to(outside)
    assert run_cli("train", *tiny, "--epochs", "1", "--out", fresh).returncode == 1
    assert outside.read_text() == "someone else's file\n"


def test_class7_synth_force_never_writes_through_a_link_or_into_a_pipe(tmp_path, capsys):
    """``--force`` replaces images of the same names: a link of such a name took the image (the
    file it pointed at, outside the folder, was overwritten with a PNG), a pipe hung or failed
    with a message naming nothing, both after the images before it were written."""
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    cases = {
        "synth_00000.png": lambda p: p.symlink_to(victim),
        "labels.csv": lambda p: p.symlink_to(victim),
        "synth_00001.png": os.mkfifo,
        "synth_00002.png": os.mkdir,
    }
    for name, make in cases.items():
        out = tmp_path / name.replace(".", "_")
        out.mkdir()
        make(out / name)
        (out / "unrelated").symlink_to(tmp_path)  # a link synth never writes: no matter
        status, _, err = cli(capsys, "synth", out, "--count", "3", "--force")
        kind = "holds a symbolic link" if (out / name).is_symlink() else "is not a regular file"
        assert status == 1 and kind in err and name in err and len(err.strip().splitlines()) == 1, err
        assert sorted(os.listdir(out)) == sorted([name, "unrelated"])  # nothing written
    assert victim.read_text() == "mine\n"


def test_class7_a_run_file_that_is_a_pipe_is_named_not_called_missing(tmp_path):
    """``--resume R`` whose checkpoint.pt is a named pipe said 'no checkpoint.pt there'."""
    from core.train.run_folder import RunFolderError, claim_run_folder, release_run_folders

    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / "checkpoint.pt")
    with pytest.raises(RunFolderError, match=r"checkpoint\.pt is not a regular file \(a folder, pipe"):
        claim_run_folder(run, resumed=True, default_name=False)
    release_run_folders()
