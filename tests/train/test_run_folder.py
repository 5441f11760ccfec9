"""core.train.run_folder: runs never clobber each other, a live run's folder is locked, and a
folder's links, pipes and the user's own files are never written through or replaced.

Real child processes and real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from helpers.clitools import child_env, events, run_cli, sha256
from helpers.clitools import cli_in_process as cli

# seconds of training on 64 composed images, no epochs or --out yet (each test adds its own)
TINY_RUN = [
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


@pytest.mark.hardening("issue 14, class 7")
def test_class7_train_never_writes_into_a_live_or_finished_run_and_a_signal_stop_exits_non_zero(tmp_path, capsys):
    from core.train.script import run_cli as train

    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "core",
        "train",
        *TINY_RUN,
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
            status = train([*TINY_RUN, "--epochs", "1", *map(str, args)])
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
    status = train([*TINY_RUN, "--epochs", "1", "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err == [
        f"digitsum train: error: --out {run} already holds a training run "
        f"(best.safetensors); continue it with --resume {run}, or choose another --out"
    ]
    assert {p.name: sha256(p) for p in run.iterdir()} == files


@pytest.mark.hardening("issue 14, class 7")
def test_class7_a_default_run_folder_that_is_taken_gives_a_fresh_one(tmp_path):
    from core.folder_lock import release_folders
    from core.train.run_folder import claim_run_folder

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
        release_folders()
    assert (taken / "best.safetensors").read_bytes() == b"a model"


@pytest.mark.hardening("issue 14, class 7")
@pytest.mark.parametrize(
    "name, text",
    [("config.json", '{"mine": 1}\n'), ("progress.jsonl", "my own notes\n"), ("config.json", "not json")],
)
def test_class7_train_out_never_replaces_a_users_own_config_or_log(tmp_path, name, text):
    from core.folder_lock import release_folders
    from core.train.run_folder import RunFolderError, claim_run_folder

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / name).write_text(text)
    try:
        with pytest.raises(RunFolderError, match=f"holds a {name} that no training run wrote"):
            claim_run_folder(mine, resumed=False, default_name=False)
        # a default name moves on to the next free one
        assert claim_run_folder(mine, resumed=False, default_name=True) == tmp_path / "mine-2"
    finally:
        release_folders()
    assert (mine / name).read_text() == text


@pytest.mark.hardening("issue 14, class 7")
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


@pytest.mark.hardening("issue 14, class 7")
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


@pytest.mark.hardening("issue 14, class 7")
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


@pytest.mark.hardening("issue 14, class 7")
def test_class7_a_run_file_that_is_a_pipe_is_named_not_called_missing(tmp_path):
    """``--resume R`` whose checkpoint.pt is a named pipe said 'no checkpoint.pt there'."""
    from core.folder_lock import release_folders
    from core.train.run_folder import RunFolderError, claim_run_folder

    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / "checkpoint.pt")
    with pytest.raises(RunFolderError, match=r"checkpoint\.pt is not a regular file \(a folder, pipe"):
        claim_run_folder(run, resumed=True, default_name=False)
    release_folders()
