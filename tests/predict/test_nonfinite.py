"""core.predict.nonfinite: a NaN or infinite model output is an error row, and the exit status says so."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.clitools import cli_in_process as cli
from helpers.clitools import read_csv_bytes

from core.inputs.images import read_image
from core.predict.nonfinite import NON_FINITE_OUTPUT
from core.predict.predictor import Predictor


class NanOnOneBatch(Predictor):
    """A real Predictor whose model gives NaN for the batch holding ``poison`` (as an overflow would)."""

    poison: np.ndarray | None = None

    def classify(self, images):
        probs, digit_probs = super().classify(images)
        if any(np.array_equal(image, self.poison) for image in images):
            probs = np.full_like(probs, np.nan)
        return probs, digit_probs


@pytest.mark.hardening("issue 14, class 5")
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_class5_nan_outputs_are_error_rows_and_the_exit_status_says_so(
    command, synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    poisoned = type("NanPredictor", (NanOnOneBatch,), {"poison": read_image(synth_folder / "synth_00009.png")})
    monkeypatch.setattr("core.predict.predictor.Predictor", poisoned)
    out = tmp_path / "p.csv"
    run = ["--model", baseline_model, "--batch-size", "8", "--device", "cpu", "-q"]
    if command == "predict":
        status, stdout, stderr = cli(capsys, "predict", synth_folder, *run, "--output", out)
    else:
        status, stdout, stderr = cli(capsys, "evaluate", synth_folder, "--labels", synth_folder / "labels.csv", *run)
    lines = stderr.strip().splitlines()
    assert status == 1 and "Traceback" not in stderr
    assert lines[-1] == (
        "digitsum " + command + ": error: the model gave NaN or infinite outputs for 8 of 40 inputs "
        "(error rows in the CSV); is the model file damaged?"
    )
    if command == "predict":
        assert lines[-2].startswith("40 inputs: 32 predicted, 0 unreadable, 8 without a number (NaN model output)")
        _, rows = read_csv_bytes(out.read_bytes())
        bad = [r for r in rows if r["error"]]
        assert [r["file"] for r in bad] == [f"synth_{i:05d}.png" for i in range(8, 16)]
        assert all(r["error"] == NON_FINITE_OUTPUT and r["predicted_sum"] == r["confidence"] == "" for r in bad)
        assert ",nan," not in out.read_text(encoding="utf-8-sig").lower()  # no NaN in a number column
