"""Issue 14, classes 5 and 6: a non-finite output is an error, and every malformed model or
checkpoint file gives one line, never a traceback.

Real model files (a seeded baseline CNN, a ResNet-50 digits model) edited as a hostile or
damaged file would be, real ``digitsum`` processes, and hypothesis fuzzing of safetensors
headers, metadata and checkpoint contents.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from clitools import ROOT, read_csv_bytes, run_cli, sha256
from core.checkpoint import ModelFileError, load_model
from core.images import read_image
from core.nonfinite import NON_FINITE_OUTPUT
from core.predict import Predictor

SAMPLES = ROOT / "resources" / "samples"


def cli(capsys, *args) -> tuple[int, str, str]:
    from core.cli import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def rewritten(source: Path, dest: Path, change) -> Path:
    """``source`` with its tensors passed through ``change(dict)``, metadata kept: a file as a tool would write it."""
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(source))
    change(tensors)
    save_file(tensors, str(dest), metadata=meta)
    return dest


# ================================================================ class 5: non-finite outputs


class NanOnOneBatch(Predictor):
    """A real Predictor whose model gives NaN for the batch holding ``poison`` (as an overflow would)."""

    poison: np.ndarray | None = None

    def classify(self, images):
        probs, digit_probs = super().classify(images)
        if any(np.array_equal(image, self.poison) for image in images):
            probs = np.full_like(probs, np.nan)
        return probs, digit_probs


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_class5_nan_outputs_are_error_rows_and_the_exit_status_says_so(
        command, synth_folder, baseline_model, tmp_path, capsys, monkeypatch):
    poisoned = type("NanPredictor", (NanOnOneBatch,), {"poison": read_image(synth_folder / "synth_00009.png")})
    monkeypatch.setattr("core.predict.Predictor", poisoned)
    out = tmp_path / "p.csv"
    run = ["--model", baseline_model, "--batch-size", "8", "--device", "cpu", "-q"]
    if command == "predict":
        status, stdout, stderr = cli(capsys, "predict", synth_folder, *run, "--output", out)
    else:
        status, stdout, stderr = cli(capsys, "evaluate", synth_folder, "--labels", synth_folder / "labels.csv", *run)
    lines = stderr.strip().splitlines()
    assert status == 1 and "Traceback" not in stderr
    assert lines[-1] == ("digitsum " + command + ": error: the model gave NaN or infinite outputs for 8 of 40 inputs "
                         "(error rows in the CSV); is the model file damaged?")
    if command == "predict":
        assert lines[0].startswith("40 inputs: 32 predicted, 0 unreadable, 8 without a number (NaN model output)")
        _, rows = read_csv_bytes(out.read_bytes())
        bad = [r for r in rows if r["error"]]
        assert [r["file"] for r in bad] == [f"synth_{i:05d}.png" for i in range(8, 16)]
        assert all(r["error"] == NON_FINITE_OUTPUT and r["predicted_sum"] == r["confidence"] == "" for r in bad)
        assert ",nan," not in out.read_text(encoding="utf-8-sig").lower()  # no NaN in a number column


def test_class5_weights_that_make_the_network_non_finite_are_refused_at_load(
        tmp_path, baseline_model, digits_model, capsys):
    def negative_variance(t):
        t["backbone.1.running_var"] = -t["backbone.1.running_var"]

    def overflowing(t):  # finite weights whose products overflow float32
        t["head.4.weight"] = torch.full_like(t["head.4.weight"], 3e38)

    cases = {
        "negative variance": (rewritten(digits_model, tmp_path / "negvar.safetensors", negative_variance),
                              "backbone.1.running_var holds negative batch-norm variances: the network would give NaN"),
        "overflow": (rewritten(baseline_model, tmp_path / "overflow.safetensors", overflowing),
                     "the network gives NaN or infinite outputs with these weights"),
    }
    for what, (path, reason) in cases.items():
        with pytest.raises(ModelFileError, match=reason):
            load_model(path)
        status, out, err = cli(capsys, "predict", SAMPLES, "--model", path, "--output", tmp_path / "o.csv")
        assert status == 1 and err.strip() == f"digitsum predict: error: {path.name}: {reason}", (what, err)
        assert not (tmp_path / "o.csv").exists()
    # a real process, and --init (only read, never written)
    path = cases["overflow"][0]
    before = sha256(path)
    proc = run_cli("train", "--data", "synthetic:16", "--arch", "baseline", "--init", path, "--epochs", "1",
                   "--device", "cpu", "--out", tmp_path / "run")
    assert proc.returncode == 1 and proc.stderr.strip() == \
        f"digitsum train: error: {path.name}: the network gives NaN or infinite outputs with these weights"
    assert sha256(path) == before and not (tmp_path / "run" / "best.safetensors").exists()
