"""Model outputs that are not numbers: error rows, never predictions.

A model file with weights that pass every load-time check can still give NaN or infinity on
some inputs (an overflow in fp16, a damaged file of another kind). Such a row would read
``0,nan,0000`` and count as predicted; instead it becomes an error row with this reason, and
``digitsum predict``/``evaluate`` exit non-zero after writing the rows.
"""

from __future__ import annotations

import numpy as np

NON_FINITE_OUTPUT = "the model gave no number for this image (NaN or infinite output)"


def nonfinite_as_errors(rows: list, probs: np.ndarray, digit_probs: np.ndarray | None) -> list:
    """Turn the rows whose model output holds NaN or infinity into error rows, in place.

    Parameters
    ----------
    rows : list of core.predict.rows.PredictionRow
        One batch's rows; those without an error are the ones ``probs`` was read for, in order.
    probs : np.ndarray, (n, 37)
    digit_probs : np.ndarray (n, 4, 10) or None

    Returns
    -------
    list
        ``rows`` itself.
    """
    bad = ~np.isfinite(probs).all(1)
    if digit_probs is not None:
        bad |= ~np.isfinite(digit_probs).all((1, 2))
    if not bad.any():
        return rows
    for row, nonfinite in zip([r for r in rows if not r.error], bad.tolist(), strict=True):
        if nonfinite:
            row.predicted_sum, row.confidence, row.digits = None, None, ""
            row.top3, row.digit_confidence, row.error = (), (), NON_FINITE_OUTPUT
    return rows
