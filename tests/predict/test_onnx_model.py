"""core.predict.onnx_model: the CPU's prediction path on ONNX Runtime, which never imports torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers.clitools import ROOT, child_env, read_csv_bytes, run_cli

from core.models import onnx_file
from core.predict import onnx_model
from core.predict.predictor import Predictor

SAMPLES = ROOT / "resources" / "samples"


def test_the_sum_distribution_is_the_exact_convolution_of_the_digits():
    torch = pytest.importorskip("torch")
    from core.models.networks import log_sum_distribution

    rng = np.random.default_rng(0)
    digit_probs = rng.dirichlet(np.full(10, 0.3), size=(64, 4)).astype(np.float32)  # (64, 4, 10)
    got = onnx_model.sum_distribution(digit_probs)
    expected = log_sum_distribution(torch.from_numpy(digit_probs).log()).exp().numpy()
    assert got.shape == (64, 37) and np.allclose(got.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # two digits: brute force over all pairs
    pairs = np.zeros((64, 19))
    for a in range(10):
        for b in range(10):
            pairs[:, a + b] += digit_probs[:, 0, a] * digit_probs[:, 1, b]
    np.testing.assert_allclose(onnx_model.sum_distribution(digit_probs[:, :2]), pairs, atol=1e-6)


def _predict_csv(tmp_path, *args, blocked=()) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``digitsum predict SAMPLES --device cpu ARGS``, with the ``blocked`` packages unimportable."""
    path = str(ROOT)
    if blocked:
        blocker = tmp_path / "blocked"
        for name in blocked:
            (blocker / name).mkdir(parents=True, exist_ok=True)
            (blocker / name / "__init__.py").write_text(f"raise ImportError('{name} is made unimportable here')\n")
        path = os.pathsep.join([str(blocker), path])
    out = tmp_path / f"out-{'-'.join(blocked)}.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "predict", SAMPLES, "--device", "cpu", "-q", "-o", out, *args],
        env=child_env(PYTHONPATH=path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc, read_csv_bytes(out.read_bytes())[1]


def test_predict_on_the_cpu_needs_no_torch(tmp_path):
    blocked, rows = _predict_csv(tmp_path, blocked=("torch", "torchvision"))
    assert "note" not in blocked.stderr, blocked.stderr  # the int8 ONNX file ran: no fallback
    _, usual = _predict_csv(tmp_path)
    assert rows == usual and len(rows) == 24
    truth = dict(line.split(",")[:2] for line in (SAMPLES / "labels.csv").read_text().splitlines()[1:])
    assert sum(r["predicted_sum"] == truth[r["file"]] for r in rows) >= 23


def test_without_onnxruntime_torch_predicts_with_a_note(tmp_path):
    proc, rows = _predict_csv(tmp_path, blocked=("onnxruntime",))
    note = "digitsum predict: note: onnxruntime is not installed (or does not load), so torch runs the model"
    assert proc.stderr.startswith(note)
    _, usual = _predict_csv(tmp_path)
    assert [r["file"] for r in rows] == [r["file"] for r in usual]
    assert sum(r["predicted_sum"] == u["predicted_sum"] for r, u in zip(rows, usual, strict=True)) >= 23


def test_the_shipped_onnx_file_is_made_from_the_shipped_model(default_model):
    shipped = onnx_file.onnx_path(default_model)
    model = onnx_model.OnnxModel(shipped, threads=1)
    assert model.meta["format"] == onnx_file.FORMAT and model.precision == "int8"
    assert model.meta["model_sha256"] == onnx_file.file_sha256(default_model)
    assert json.loads(model.meta["digitsum"])["metrics"] == Predictor(default_model, device="cpu").info.meta["metrics"]
    assert model.reads_digits


def test_a_stale_or_damaged_onnx_file_is_never_used(tmp_path, default_model, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "m.safetensors"
    shutil.copy(default_model, model)
    beside = onnx_file.onnx_path(model)
    shutil.copy(onnx_file.onnx_path(default_model), beside)
    found, note = onnx_model.open_onnx(model, threads=1, build=False)
    assert found is not None and note == ""  # the same model, byte for byte: its file fits
    with open(model, "r+b") as f:  # another version of the model: same size, other bytes
        f.seek(-4, os.SEEK_END)
        f.write(b"    ")
    assert onnx_model.open_onnx(model, threads=1, build=False) == (None, "")
    beside.write_bytes(b"not an onnx file")
    assert onnx_model.open_onnx(model, threads=1, build=False) == (None, "")


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.mark.hardening("issue 14, class 6")
def test_class6_a_damaged_onnx_file_is_never_used_and_is_made_again(baseline_model, tmp_path):
    """Every kind of damage is passed over by the one check every caller goes through
    (``open_onnx``); the file is made again in this process, and once more as a user meets it,
    in a ``digitsum predict`` of its own (making one takes a child process ~15 s)."""
    from core.inputs.listing import list_inputs
    from core.models.onnx_file import file_sha256, onnx_path
    from core.predict.onnx_model import OnnxModel, open_onnx
    from core.predict.predictor import Predictor

    model = tmp_path / "m.safetensors"
    model.write_bytes(baseline_model.read_bytes())
    beside = onnx_path(model)
    damaged = {"empty": b"", "text": b"not an onnx file", "a model file": baseline_model.read_bytes()}
    for what, data in damaged.items():
        beside.write_bytes(data)
        assert open_onnx(model, 1, build=False) == (None, ""), what  # passed over, not used
    # made again in this process, over the damage last written ("a model file")
    predictor = Predictor(model, device="cpu")
    assert predictor.precision == "int8"
    rows = [row for batch in predictor.predict(list_inputs([SAMPLES])) for row in batch]
    assert len(rows) == 24 and all(r.ok for r in rows)
    assert OnnxModel(beside, threads=1).meta["model_sha256"] == file_sha256(model)
    # the first half of that good one: passed over too, and made again as a user meets it
    beside.write_bytes(beside.read_bytes()[: beside.stat().st_size // 2])
    assert open_onnx(model, 1, build=False) == (None, "")
    proc = run_cli("predict", SAMPLES, "--model", model, "--device", "cpu", "-q")
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv_bytes(proc.stdout.encode("utf-8"))
    assert len(rows) == 24 and all(r["predicted_sum"].isdigit() for r in rows)
    assert OnnxModel(beside, threads=1).meta["model_sha256"] == file_sha256(model)
