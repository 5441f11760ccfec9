"""core.train.script: issue 3's acceptance on tiny runs (baseline CNN where it can be, ResNet-50 where it must).

The acceptance commands, SIGTERM and torchrun run in child processes exactly as a user types
them; the rest call ``core.train.script.run_cli`` in this process (same parser, same code, no start-up
cost), which is safe because the run gives back the signal handlers it takes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.clitools import child_env, events, run_cli, run_torchrun, sha256
from helpers.hostile import marker_pickles
from PIL import Image
from safetensors.torch import load_file

from core.models.checkpoint import load_checkpoint, load_model, save_checkpoint
from core.train.script import run_cli as train_cli

TINY = ["--data", "synthetic:64", "--epochs", "1", "--device", "cpu", "--progress", "json",
        "--batch-size", "16", "--val-size", "32"]  # fmt: skip
BASELINE = ["--arch", "baseline", "--head", "sum"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models and batches: one torch thread (see conftest)."""


def train(capsys, *args) -> tuple[int, list[dict], str]:
    """``digitsum train ARGS`` in this process: (exit status, JSON events from stdout, stderr)."""
    status = train_cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, events(out), err


def assert_event_stream(evs: list[dict], epochs: int = 1) -> dict:
    """start, then steps and epochs, then done: docs/ARCHITECTURE.md's progress contract. Returns the done event."""
    kinds = [e["event"] for e in evs]
    assert kinds[0] == "start" and kinds[-1] == "done", kinds
    assert "step" in kinds and kinds.count("epoch") == epochs and kinds.count("done") == 1
    assert set(kinds) <= {"start", "step", "epoch", "done"}
    start = evs[0]
    for key in (
        "epochs",
        "total_steps",
        "steps_per_epoch",
        "train_images",
        "val_images",
        "device",
        "arch",
        "head",
        "out",
    ):
        assert key in start, key
    for e in evs:
        assert isinstance(e["elapsed"], float | int)
        if e["event"] == "step":
            assert {"epoch", "step", "total_steps", "loss", "lr", "images_per_s", "eta"} <= set(e)
        if e["event"] == "epoch":
            assert {"epoch", "epochs", "train_loss", "val_loss", "val_acc", "lr", "images_per_s", "eta"} <= set(e)
    done = evs[-1]
    assert {"val_acc", "val_loss", "epoch"} <= set(done["metrics"]) and Path(done["model"]).is_file()
    return done


def weights(path) -> dict:
    return load_file(str(path))


def assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def small_folder(synth_folder, tmp_path_factory) -> Path:
    """Four of the composed images, for quick predictions."""
    out = tmp_path_factory.mktemp("small")
    for src in sorted(synth_folder.glob("*.png"))[:4]:
        shutil.copy(src, out / src.name)
    return out


# --- issue 3's acceptance commands, in child processes -------------------------------------

# issue 3's command; ResNet-50 runs get 16 images in batches of 8 (seconds per step on a small CPU)
ACCEPTANCE = {
    "resnet50-digits": ["--data", "synthetic:16", "--epochs", "1", "--device", "cpu", "--progress", "json",
                        "--batch-size", "8", "--val-size", "8"],
    "baseline-sum": [*TINY, *BASELINE],
    "resnet50-sum": ["--data", "synthetic:16", "--epochs", "1", "--device", "cpu", "--progress", "json",
                     "--batch-size", "8", "--val-size", "8", "--arch", "resnet50", "--head", "sum"],
}  # fmt: skip


def test_every_event_field_is_one_core_progress_declares(capsys, tmp_path):
    from core.train.events import EVENT_TYPES, Metrics

    status, evs, _ = train(capsys, *TINY, *BASELINE, "--out", tmp_path / "run")
    assert status == 0
    for e in evs:
        assert set(e) <= set(EVENT_TYPES[e["event"]].__annotations__), e
    assert set(evs[-1]["metrics"]) <= set(Metrics.__annotations__)


@pytest.mark.parametrize("kind", list(ACCEPTANCE))
def test_acceptance_run_prints_json_and_leaves_a_model_predict_loads(kind, tmp_path, small_folder, capsys):
    from core.inputs.listing import list_inputs
    from core.predict.predictor import Predictor

    out = tmp_path / "run"
    proc = run_cli("train", *ACCEPTANCE[kind], "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    evs = events(proc.stdout)
    done = assert_event_stream(evs)
    assert Path(done["model"]) == out / "best.safetensors" and done["stopped_early"] is False
    sizes = (64, 32, 4) if kind == "baseline-sum" else (16, 8, 2)  # images, validation images, steps
    assert (evs[0]["train_images"], evs[0]["val_images"], evs[0]["total_steps"]) == sizes
    # the run folder: config, the same events in progress.jsonl, a resumable checkpoint, the model
    assert [json.loads(line) for line in (out / "progress.jsonl").read_text().splitlines()] == evs
    config = json.loads((out / "config.json").read_text())
    assert config["args"]["epochs"] == 1 and config["world_size"] == 1
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1
    assert not list(out.glob(".*.tmp"))
    _, info = load_model(out / "best.safetensors")
    arch, head = kind.split("-")
    assert (info.arch, info.head) == (arch, head)
    assert info.meta["command"] == "digitsum train " + " ".join([*ACCEPTANCE[kind], "--out", str(out)])
    assert info.metric("val_acc") == done["metrics"]["val_acc"] and info.meta["epochs_trained"] == 1
    assert info.meta["digit_split"] == "writer"  # composed from the bundled bank's training writers

    # prediction loads it, in torch: making a new ResNet-50's int8 ONNX file on first use costs
    # ~20 s and is test_onnxexport's; the child-process path of `digitsum predict` is test_cli's
    predictor = Predictor(out / "best.safetensors", device="cpu", precision="fp32")
    rows = [row for batch in predictor.predict(list_inputs([small_folder])) for row in batch]
    assert len(rows) == 4 and all(r.ok and 0 <= r.predicted_sum <= 36 for r in rows)
    assert all(len(r.digits) == (4 if head == "digits" else 0) for r in rows)


# --- data specs -------------------------------------------------------------------------------


def test_train_on_a_labelled_folder_with_a_progress_bar(capsys, synth_folder, tmp_path):
    """Without --progress json: nothing on stdout, the bar and an epoch line on stderr."""
    status = train_cli(
        [
            "--data",
            str(synth_folder),
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--batch-size",
            "16",
            *BASELINE,
            "--out",
            str(tmp_path / "run"),
            "--augment",
            "0.5",
            "--lr",
            "5e-5",
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out == "" and "epoch 1/1" in err and "best model:" in err
    assert ", lr 5e-05, " in err  # a fine-tune's learning rate, not "lr 0.0000"
    assert err.startswith("digitsum train: note: --augment applies to synthetic:N images only; this run has none\n")
    _, info = load_model(tmp_path / "run" / "best.safetensors")
    assert info.metric("val_images") == 4  # 10% of 40 files held out, by file
    assert f"{synth_folder}#40" in info.meta["data"]
    assert info.meta["digit_split"] is None  # no composed digits


def test_train_on_an_assignment_npy_pair(capsys, synth_folder, tmp_path):
    names = sorted(p.name for p in synth_folder.glob("*.png"))
    images = np.stack([np.asarray(Image.open(synth_folder / n), dtype=np.float64) for n in names])
    np.save(tmp_path / "data0.npy", images)
    sums = {
        ln.split(",")[0]: int(ln.split(",")[1]) for ln in (synth_folder / "labels.csv").read_text().splitlines()[1:]
    }
    np.save(tmp_path / "lab0.npy", np.array([sums[n] for n in names]))
    status, evs, err = train(capsys, "--data", tmp_path / "data0.npy", *TINY[2:], *BASELINE, "--out", tmp_path / "run")
    assert status == 0, err
    done = assert_event_stream(evs)
    assert evs[0]["train_images"] == 36 and done["metrics"]["val_images"] == 4


@pytest.mark.parametrize(
    "case", ["missing data", "no data", "bad mnist", "resume without checkpoint", "unreadable checkpoint"]
)  # bad values of flags: tests/test_argtypes.py (exit 2)
def test_runs_that_cannot_start_fail_in_one_line(case, capsys, tmp_path):
    (tmp_path / "empty-run").mkdir()
    (tmp_path / "bad-run").mkdir()
    (tmp_path / "bad-run" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    args = {
        "missing data": ["--data", tmp_path / "nothing"],
        "no data": [],
        "bad mnist": ["--data", "synthetic:16", "--mnist", tmp_path / "none.npz"],
        "resume without checkpoint": ["--resume", tmp_path / "empty-run"],
        "unreadable checkpoint": ["--resume", tmp_path / "bad-run"],
    }[case]
    status, evs, err = train(capsys, *args, *BASELINE, "--device", "cpu", "--progress", "json", "--out", tmp_path / "r")
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("digitsum train: error: "), err
    assert evs[-1]["event"] == "error" and evs[-1]["message"] in lines[0]


# --- determinism, resume, non-finite loss, --init ----------------------------------------------


@pytest.fixture(scope="module")
def seeded_runs(tmp_path_factory):
    """Three baseline runs in this process: two 1-epoch runs and one straight 2-epoch run."""
    root = tmp_path_factory.mktemp("seeded")
    results = {}
    for name, epochs in (("a", 1), ("b", 1), ("straight", 2)):
        argv = [*TINY, *BASELINE, "--epochs", str(epochs), "--out", str(root / name), "--seed", "3"]
        assert train_cli(argv) == 0
        results[name] = root / name
    return results


def test_two_seeded_runs_give_identical_weights(seeded_runs, capsys):
    capsys.readouterr()
    a, b = seeded_runs["a"], seeded_runs["b"]
    assert_same_tensors(weights(a / "best.safetensors"), weights(b / "best.safetensors"))
    ca, cb = load_checkpoint(a / "checkpoint.pt"), load_checkpoint(b / "checkpoint.pt")
    assert_same_tensors(ca["model"], cb["model"])
    assert torch.equal(ca["rng"]["torch"], cb["rng"]["torch"])


def test_resume_continues_exactly(seeded_runs, capsys, tmp_path):
    """1 epoch, then --resume to 2 epochs == a straight 2-epoch run (same weights, optimizer, RNG)."""
    run = tmp_path / "moved"  # a copied run folder resumes where it now is
    shutil.copytree(seeded_runs["b"], run)
    stale = run / ".checkpoint.pt.k2j3h4.tmp"  # left by a run killed while saving
    stale.write_bytes(b"half a checkpoint")
    older = load_checkpoint(run / "checkpoint.pt")  # written before --augment existed: its default applies
    del older["args"]["augment"]
    torch.save(older, run / "checkpoint.pt")
    status, evs, err = train(
        capsys,
        "--resume",
        run,
        "--epochs",
        "2",
        "--lr",
        "0.5",
        "--data",
        "synthetic:9",
        "--data",
        "synthetic:10",
        "--out",
        run,
        "--progress",
        "json",
    )
    assert status == 0, err
    # said, and not done: the weights below match the straight run
    assert err.splitlines() == [
        "digitsum train: note: --resume keeps the run's own settings; ignoring "
        "--data synthetic:9 --data synthetic:10 --lr 0.5"
    ]
    assert not stale.exists()
    assert evs[0]["start_epoch"] == 1 and evs[0]["epochs"] == 2 and evs[0]["out"] == str(run)
    assert [e["epoch"] for e in evs if e["event"] == "epoch"] == [2]
    resumed, straight = (
        load_checkpoint(run / "checkpoint.pt"),
        load_checkpoint(seeded_runs["straight"] / "checkpoint.pt"),
    )
    assert resumed["epoch"] == straight["epoch"] == 2
    assert_same_tensors(resumed["model"], straight["model"])
    assert torch.equal(resumed["rng"]["torch"], straight["rng"]["torch"])
    assert resumed["rng"]["numpy"] == straight["rng"]["numpy"] and resumed["rng"]["python"] == straight["rng"]["python"]
    for sa, sb in zip(resumed["optimizer"]["state"].values(), straight["optimizer"]["state"].values(), strict=True):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])
    assert resumed["best"] == straight["best"]
    assert (run / "progress.jsonl").read_text().count('"event": "start"') == 2  # appended, not replaced
    assert not (seeded_runs["b"] / "progress.jsonl").read_text().count('"start_epoch": 1')  # the original is untouched


def test_rng_state_round_trip_and_older_checkpoints():
    import random

    from core.train.saver import rng_state, set_rng_state

    np.random.standard_normal()  # leaves a cached gaussian in numpy's state: that must come back too
    state = rng_state()
    draws = torch.rand(3), np.random.standard_normal(3), random.random()
    set_rng_state(state)
    again = torch.rand(3), np.random.standard_normal(3), random.random()
    assert torch.equal(draws[0], again[0]) and np.array_equal(draws[1], again[1]) and draws[2] == again[2]
    older = dict(state, numpy=json.dumps(json.loads(state["numpy"])[0]))  # numpy's 624 keys alone
    set_rng_state(older)  # a checkpoint from before the full state was kept still resumes


def test_nonfinite_loss_from_the_start_writes_no_model(capsys, tmp_path):
    status, evs, err = train(capsys, *TINY, *BASELINE, "--lr", "1e30", "--out", tmp_path / "run")
    assert status == 1 and len(err.strip().splitlines()) == 1 and "non-finite loss" in err
    assert evs[0]["event"] == "start" and evs[-1]["event"] == "error" and "non-finite" in evs[-1]["message"]
    assert not (tmp_path / "run" / "best.safetensors").exists() and not (tmp_path / "run" / "checkpoint.pt").exists()


def test_nonfinite_loss_later_keeps_the_last_good_model(seeded_runs, capsys, tmp_path):
    """A run whose second epoch blows up (its saved learning rate set to 1e30) stops with an error;
    the first epoch's model and checkpoint are left exactly as they were."""
    run = tmp_path / "run"
    shutil.copytree(seeded_runs["a"], run)
    ckpt = load_checkpoint(run / "checkpoint.pt")
    for group in ckpt["optimizer"]["param_groups"]:
        group["lr"] = group["initial_lr"] = 1e30
    ckpt["scheduler"]["base_lrs"] = [1e30] * len(ckpt["scheduler"]["base_lrs"])
    save_checkpoint(run / "checkpoint.pt", ckpt)
    model_sha, ckpt_sha = sha256(run / "best.safetensors"), sha256(run / "checkpoint.pt")
    status, evs, err = train(capsys, "--resume", run, "--epochs", "3", "--progress", "json")
    assert status == 1 and "non-finite loss in epoch 2" in err and len(err.strip().splitlines()) == 1
    assert evs[-1]["event"] == "error" and "last good model is kept" in evs[-1]["message"]
    assert "epoch" not in [e["event"] for e in evs]
    assert sha256(run / "best.safetensors") == model_sha and sha256(run / "checkpoint.pt") == ckpt_sha
    model, info = load_model(run / "best.safetensors")
    assert all(torch.isfinite(p).all() for p in model.parameters()) and info.meta["epochs_trained"] == 1


def test_init_reads_the_model_and_never_writes_it(baseline_model, digits_model, capsys, tmp_path):
    before, stat = sha256(baseline_model), baseline_model.stat()
    status, evs, err = train(capsys, *TINY, *BASELINE, "--init", baseline_model, "--out", tmp_path / "run")
    assert status == 0, err
    assert sha256(baseline_model) == before and baseline_model.stat().st_mtime_ns == stat.st_mtime_ns
    _, info = load_model(tmp_path / "run" / "best.safetensors")
    assert info.meta["init"] == str(baseline_model)
    # the bundled bank splits by writer, the --init did not: said once, and recorded in the model
    assert err.count("has seen this run's validation writers") == 1
    assert info.meta["digit_split"] == "writer, from an --init that was not"
    start, tuned = weights(baseline_model), weights(tmp_path / "run" / "best.safetensors")
    assert torch.equal(start["norm.mean"], tuned["norm.mean"])
    assert not torch.equal(start["head.4.weight"], tuned["head.4.weight"])  # it trained from there
    # a model of another kind is refused in one line, and left alone too
    digits_before = sha256(digits_model)
    status, evs, err = train(capsys, *TINY, *BASELINE, "--init", digits_model, "--out", tmp_path / "run2")
    assert status == 1 and "is a resnet50/digits model, not baseline/sum" in err and len(err.strip().splitlines()) == 1
    assert sha256(digits_model) == digits_before


# --- SIGTERM --------------------------------------------------------------------------------


def train_until(tmp_path, event: str, *args) -> tuple[subprocess.CompletedProcess, list[dict], Path]:
    """Start a baseline run in a child, send SIGTERM once ``event`` is printed, wait for it to end."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "core", "train", "--device", "cpu", "--progress", "json", "--batch-size", "16",
           "--val-size", "32", *BASELINE, "--out", str(out), *args]  # fmt: skip
    proc = subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(json.loads(line))
            if seen[-1]["event"] in (event, "done", "error"):
                break
        assert seen[-1]["event"] == event, seen
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, "", err), seen + events(rest), out


def test_sigterm_after_an_epoch_keeps_the_best_model(tmp_path):
    proc, evs, out = train_until(tmp_path, "epoch", "--data", "synthetic:128", "--epochs", "20")
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr  # stopped by a signal: not a full run (issue 14)
    assert proc.stderr.strip().splitlines()[-1].startswith("digitsum train: stopped by SIGTERM: the best model so far")
    done = evs[-1]
    assert done["event"] == "done" and done["stopped_early"] is True and done["stopped_by"] == "SIGTERM"
    epochs_done = [e["epoch"] for e in evs if e["event"] == "epoch"]
    assert 1 <= len(epochs_done) < 20
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["epoch"] == epochs_done[-1]  # the checkpoint is of the last *whole* epoch
    _, info = load_model(done["model"])
    assert info.meta["epochs_trained"] >= 1 and "partial" not in info.meta["metrics"]


def test_sigterm_in_the_first_epoch_keeps_a_partial_model_and_no_checkpoint(tmp_path, capsys):
    """Stopped before any epoch ended: the partly trained model is kept (flagged), but no checkpoint
    claims an epoch that did not finish, and --resume says so in one line."""
    proc, evs, out = train_until(tmp_path, "step", "--data", "synthetic:512", "--epochs", "1")
    assert proc.returncode == 128 + signal.SIGTERM and "stopped by SIGTERM" in proc.stderr, proc.stderr
    done = evs[-1]
    assert done["event"] == "done" and done["stopped_early"] is True and done["metrics"]["partial"] is True
    assert "epoch" not in [e["event"] for e in evs]
    _, info = load_model(out / "best.safetensors")
    assert info.meta["epochs_trained"] == 0
    assert not (out / "checkpoint.pt").exists()
    status, _, err = train(capsys, "--resume", out)
    assert status == 1 and "no checkpoint.pt" in err and len(err.strip().splitlines()) == 1


# --- torchrun ---------------------------------------------------------------------------------


def test_torchrun_two_processes_write_one_model(tmp_path):
    out = tmp_path / "run"
    proc = run_torchrun(
        "core.train.script",
        "--data",
        "synthetic:64",
        "--arch",
        "baseline",
        "--head",
        "sum",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        out,
        "--batch-size",
        "16",
        "--val-size",
        "32",
        "--progress",
        "json",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    evs = events(proc.stdout)  # rank 0 alone reports
    done = assert_event_stream(evs)
    assert evs[0]["device"] == "CPU x 2 processes" and evs[0]["steps_per_epoch"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "best.safetensors",
        "checkpoint.pt",
        "config.json",
        "progress.jsonl",
    ]
    assert json.loads((out / "config.json").read_text())["world_size"] == 2
    assert done["metrics"]["val_images"] == 32  # both ranks' validation shards counted
    load_model(out / "best.safetensors")


def test_predict_under_torchrun_writes_one_csv_in_input_order(synth_folder, baseline_model, tmp_path, capsys):
    from core.cli.main import main

    # batches of one image: each image's arithmetic is then the same however the inputs are sharded
    # (a different batch size may legitimately move a confidence in its last printed digit)
    one = ["predict", str(synth_folder), "--model", str(baseline_model), "--batch-size", "1"]
    assert main([*one, "--output", str(tmp_path / "one.csv"), "-q"]) == 0
    proc = run_torchrun("core", *one, "--output", tmp_path / "two.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.csv", "two.csv"]
    assert proc.stderr.count("40 inputs: 40 predicted") == 1  # one summary, from rank 0


# --- long CPU runs: a time limit, a running average, validation on strangers (#22) ------------


def test_a_time_limit_stops_the_run_and_keeps_the_best_model(capsys, tmp_path):
    status, evs, err = train(
        capsys, *TINY[:2], "--epochs", "1000", *TINY[4:], *BASELINE, "--time-limit", "4s", "--out", tmp_path / "r"
    )
    assert status == 0, err  # a budget the user set is a normal end, not a signal
    done = evs[-1]
    assert done["event"] == "done" and done["stopped_early"] is True and "stopped_by" not in done
    epochs = [e["epoch"] for e in evs if e["event"] == "epoch"]
    assert 1 <= len(epochs) < 1000
    assert load_checkpoint(tmp_path / "r" / "checkpoint.pt")["epoch"] == epochs[-1]
    status, _, err = train(capsys, "--resume", tmp_path / "r", "--time-limit", "1s", "--progress", "json")
    assert status == 0, err  # a resumed run gets its own budget


def test_the_running_average_is_validated_saved_and_resumed(capsys, tmp_path):
    run = tmp_path / "ema"
    status, evs, err = train(capsys, *TINY, *BASELINE, "--ema", "0.9", "--out", run)
    assert status == 0, err
    ckpt = load_checkpoint(run / "checkpoint.pt")
    saved = weights(run / "best.safetensors")
    # the average, not the last step's weights, is what the model file holds
    assert any(not torch.equal(ckpt["ema"][k], ckpt["model"][k]) for k in ckpt["model"] if k.endswith("weight"))
    for key, value in saved.items():
        torch.testing.assert_close(value.float(), ckpt["ema"][key].float(), rtol=1e-3, atol=1e-3)
    status, evs, err = train(capsys, "--resume", run, "--epochs", "2", "--progress", "json")
    assert status == 0, err
    assert [e["epoch"] for e in evs if e["event"] == "epoch"] == [2]
    broken = load_checkpoint(run / "checkpoint.pt")
    broken["ema"].popitem()
    torch.save(broken, run / "checkpoint.pt")
    status, _, err = train(capsys, "--resume", run, "--epochs", "3")
    assert status == 1 and "ema: weights do not match" in err


def _stranger_digits(path):
    """The bundled bank's strangers as a ``--val-digits`` file: validation only, no model trained on them."""
    from core.synth.bank import load_bank

    held = load_bank().subset("holdout")
    np.savez(path, x=held.x, y=held.y, writer=held.writer, stranger=True)


def test_an_init_that_saw_every_training_writer_is_recorded_even_when_validating_on_strangers(
    baseline_model, capsys, tmp_path
):
    """A run from such a model validates fairly on MNIST's test writers (no note), but its model
    file still says where its weights come from, so that a later run from it is warned."""
    _stranger_digits(tmp_path / "select.npz")
    status, _, err = train(
        capsys, *TINY, *BASELINE, "--init", baseline_model, "--val-digits", tmp_path / "select.npz",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert status == 0, err
    assert "has seen this run's validation writers" not in err
    _, info = load_model(tmp_path / "run" / "best.safetensors")
    assert info.meta["digit_split"] == "writer, from an --init that was not"
    status, _, err = train(capsys, *TINY, *BASELINE, "--init", tmp_path / "run" / "best.safetensors",
                           "--out", tmp_path / "again")  # fmt: skip
    assert status == 0 and err.count("has seen this run's validation writers") == 1


def test_validation_from_other_digits_covers_every_layout(capsys, tmp_path):
    _stranger_digits(tmp_path / "select.npz")
    status, evs, err = train(
        capsys, *TINY, *BASELINE, "--val-digits", tmp_path / "select.npz", "--touch", "0.5", "--out", tmp_path / "r"
    )
    assert status == 0, err
    assert evs[0]["val_images"] == 32
    _, info = load_model(tmp_path / "r" / "best.safetensors")
    assert info.meta["digit_split"] == "writer" and "validation from" in info.meta["data"]
    # each layout's accuracy apart (11, 11 and 10 of the 32 images), val_acc their weighted mean
    epoch = next(e for e in evs if e["event"] == "epoch")
    by_part = epoch["val_acc_by_part"]
    assert list(by_part) == ["synth", "grid", "touch"] and all(0 <= a <= 1 for a in by_part.values())
    weighted = (11 * by_part["synth"] + 11 * by_part["grid"] + 10 * by_part["touch"]) / 32
    assert epoch["val_acc"] == pytest.approx(weighted)
    assert info.meta["metrics"]["val_acc_by_part"] == by_part
    # a layout with no validation image (2 images, three layouts) is left out, not composed nor reported as 0
    status, evs, err = train(
        capsys, *TINY, *BASELINE, "--val-digits", tmp_path / "select.npz", "--val-size", "2", "--out", tmp_path / "r2"
    )
    assert status == 0, err
    assert list(next(e for e in evs if e["event"] == "epoch")["val_acc_by_part"]) == ["synth", "grid"]
    # --val-blurred: a fourth part, ours layout blurred (tests/train/test_datasets.py)
    status, evs, err = train(
        capsys, *TINY, *BASELINE, "--val-digits", tmp_path / "select.npz", "--val-blurred", "--out", tmp_path / "r3"
    )
    assert status == 0, err
    epoch = next(e for e in evs if e["event"] == "epoch")
    assert list(epoch["val_acc_by_part"]) == ["synth", "grid", "touch", "blurred"] and epoch["val_images"] == 32


def test_measuring_the_precision_leaves_the_model_and_the_random_streams_alone(monkeypatch, capsys):
    """Where bf16 is native, the start of a run times it against fp32; neither the batch-norm
    statistics nor the seeded streams may carry a trace of that."""
    import core.train.precision
    from core.devices import DistContext
    from core.models.networks import build_model

    monkeypatch.setattr(core.train.precision, "auto_precision", lambda device: "bf16")  # as on a CPU with native bf16
    model = build_model("resnet50", "digits").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    # two images, not a run's sixteen: the same steps, and emulated bf16 on a CPU without it is slow
    chosen = core.train.precision.choose_precision(model, DistContext(torch.device("cpu")), images=2)
    assert torch.equal(torch.rand(3), expected)
    assert_same_tensors(model.state_dict(), before)
    assert model.training and all(p.grad is None for p in model.parameters())
    assert chosen in ("fp32", "bf16")
    assert ("measured slower" in capsys.readouterr().err) == (chosen == "fp32")
    assert core.train.precision.choose_precision(model, DistContext(torch.device("cpu"), rank=0, world=2)) == "bf16"


def test_a_run_resumes_from_another_working_folder(capsys, tmp_path, synth_folder, monkeypatch):
    """Relative --data and --mnist are kept as the files they named: --resume works from elsewhere."""
    import os

    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    shutil.copytree(synth_folder, here / "images")
    monkeypatch.chdir(here)
    status, _, err = train(capsys, *TINY[2:], *BASELINE, "--data", "images", "--out", "run")
    assert status == 0, err
    monkeypatch.chdir(elsewhere)
    status, evs, err = train(
        capsys, "--resume", os.path.join("..", "here", "run"), "--epochs", "2", "--progress", "json"
    )
    assert status == 0, err
    assert [e["epoch"] for e in evs if e["event"] == "epoch"] == [2]


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.mark.hardening("issue 6, case 6")
def test_case06_pickles_given_to_init_are_refused_and_never_run(tmp_path, capsys):
    from core.train.script import run_cli as train_cli

    marker = tmp_path / "MARKER"
    for suffix, path in marker_pickles(tmp_path / "models", marker).items():
        before = sha256(path)
        status = train_cli(
            [
                "--data",
                "synthetic:16",
                "--val-size",
                "8",
                "--epochs",
                "1",
                "--device",
                "cpu",
                *BASELINE,
                "--init",
                str(path),
                "--out",
                str(tmp_path / f"run{suffix}"),
            ]
        )
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert status == 1 and len(lines) == 1 and lines[0].startswith("digitsum train: error: "), err
        assert path.name in lines[0] and "never unpickles" in lines[0]
        assert not marker.exists(), suffix
        assert sha256(path) == before  # --init only reads
        assert not (tmp_path / f"run{suffix}" / "best.safetensors").exists()


def _kill_while_saving(out: Path, args: list[str]) -> tuple[list[dict], list[str]]:
    """Train in a child; after its first whole epoch, SIGKILL it in the middle of a checkpoint save
    (its temporary file holds some bytes, not all). Returns (events printed, temporary files left)."""
    cmd = [sys.executable, "-m", "core", "train", *args, "--epochs", "60", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    evs = []
    try:
        for line in proc.stdout:  # the first checkpoint is written before the first epoch event
            evs.append(json.loads(line))
            if evs[-1]["event"] in ("epoch", "done", "error"):
                break
        assert evs[-1]["event"] == "epoch", evs
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(n.startswith(".checkpoint.pt.") and _size(out / n) > 0 for n in os.listdir(out)):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
        proc.wait(timeout=60)
        rest = proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    evs += events(rest)
    return evs, sorted(n for n in os.listdir(out) if n.endswith(".tmp"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed into place meanwhile
        return 0


@pytest.mark.hardening("issue 6, case 16")
def test_case16_sigkill_during_a_checkpoint_save_then_resume(tmp_path):
    args = [
        "--data",
        "synthetic:64",
        "--val-size",
        "32",
        "--batch-size",
        "16",
        "--device",
        "cpu",
        "--progress",
        "json",
        "--seed",
        "5",
        *BASELINE,
    ]
    for attempt in range(3):  # the kill must land inside the save; a lost race is retried
        out = tmp_path / f"run{attempt}"
        evs, stale = _kill_while_saving(out, args)
        if stale:
            break
    assert stale and all(n.startswith(".checkpoint.pt.") for n in stale), stale
    assert 0 < (out / stale[0]).stat().st_size < (out / "checkpoint.pt").stat().st_size  # cut mid-write
    # the last complete checkpoint is intact: the epoch whose event was printed
    ckpt = load_checkpoint(out / "checkpoint.pt")
    done_epochs = [e["epoch"] for e in evs if e["event"] == "epoch"]
    k = ckpt["epoch"]
    assert k == done_epochs[-1] >= 1
    load_model(out / "best.safetensors")

    # resume to epoch k+1 and, beside it, a run that was never interrupted
    ref = tmp_path / "straight"
    resume = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "--resume",
            str(out),
            "--epochs",
            str(k + 1),
            "--device",
            "cpu",
            "--progress",
            "json",
        ],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    straight = subprocess.run(
        [sys.executable, "-m", "core", "train", *args, "--epochs", str(k + 1), "--out", str(ref)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    r_out, r_err = resume.communicate(timeout=300)
    assert resume.returncode == 0 and straight.returncode == 0, (r_err, straight.stderr)
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]  # stale temporaries cleaned
    start = events(r_out)[0]
    assert start["event"] == "start" and start["start_epoch"] == k
    resumed, reference = load_checkpoint(out / "checkpoint.pt"), load_checkpoint(ref / "checkpoint.pt")
    assert resumed["epoch"] == reference["epoch"] == k + 1
    for key in reference["model"]:
        assert torch.equal(resumed["model"][key], reference["model"][key]), key
    assert torch.equal(resumed["rng"]["torch"], reference["rng"]["torch"])
    assert (
        resumed["rng"]["numpy"] == reference["rng"]["numpy"] and resumed["rng"]["python"] == reference["rng"]["python"]
    )
    for a, b in zip(resumed["optimizer"]["state"].values(), reference["optimizer"]["state"].values(), strict=True):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])


@pytest.mark.hardening("issue 6, case 16")
def test_case16_resume_also_cleans_a_model_save_cut_short(tmp_path, capsys):
    from core.train.script import run_cli as train_cli

    out = tmp_path / "run"
    assert (
        train_cli(
            [
                "--data",
                "synthetic:32",
                "--val-size",
                "16",
                "--batch-size",
                "16",
                "--device",
                "cpu",
                "--epochs",
                "1",
                "--progress",
                "json",
                *BASELINE,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    # what atomic_path leaves when killed inside save_model: mkstemp's name, part of the bytes
    stale = out / ".best.safetensors.x1y2z3ab.tmp"
    stale.write_bytes((out / "best.safetensors").read_bytes()[:1000])
    assert train_cli(["--resume", str(out), "--epochs", "2", "--device", "cpu", "--progress", "json"]) == 0
    capsys.readouterr()
    assert not stale.exists()
