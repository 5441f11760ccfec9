"""core.predict.rows: a batch's rows from model outputs, and the figures made from rows."""

from __future__ import annotations

import numpy as np

from core.inputs.listing import InputItem
from core.predict.nonfinite import NON_FINITE_OUTPUT
from core.predict.rows import PredictionRow, RunStats, batch_rows, score


def test_score_and_stats():
    rows = [
        PredictionRow("a.png", 10, 0.9, "1234"),
        PredictionRow("b.png", 12, 0.5, "3333"),
        PredictionRow("c.png", error="unreadable"),
        PredictionRow("d.png", 5, 0.4, ""),
    ]
    truth = {"a.png": (10, "1234"), "b.png": (15, "3336"), "c.png": (3, None)}
    result = score(rows, [truth.get(r.file) for r in rows])
    assert result["count"] == 2 and result["accuracy"] == 0.5 and result["mae"] == 1.5
    assert result["errors"] == 1 and result["unlabelled"] == 1
    assert result["digit_accuracy"] == 7 / 8
    assert score([], [])["accuracy"] is None
    stats = RunStats(total=4)
    stats.add(rows)
    assert (stats.done, stats.errors) == (4, 1) and stats.images_per_s > 0 and stats.eta == 0


def test_batch_rows_keep_input_order_with_error_rows_in_place():
    items = [InputItem(f"{name}.png", f"{name}.png") for name in "abcd"]
    probs = np.full((3, 37), 0.01, np.float32)
    probs[0, 7], probs[1, 20], probs[2, 3] = 0.6, 0.5, np.nan  # the third good item: a NaN output
    digit_probs = np.full((3, 4, 10), 0.1, np.float32)
    digit_probs[0, :, 1] = digit_probs[1, :, 5] = 0.9
    rows = batch_rows(items, ["", "cannot open", "", ""], probs, digit_probs)
    assert [r.file for r in rows] == ["a.png", "b.png", "c.png", "d.png"]
    assert (rows[0].predicted_sum, rows[0].digits, rows[0].top3[0][0]) == (7, "1111", 7)
    assert rows[1].error == "cannot open" and rows[1].predicted_sum is None
    assert (rows[2].predicted_sum, rows[2].digits) == (20, "5555")
    assert rows[3].error == NON_FINITE_OUTPUT and rows[3].predicted_sum is None
    assert [r.ok for r in batch_rows(items[:2], ["x", "y"], None, None)] == [False, False]
