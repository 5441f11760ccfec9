"""Columns that make the app's exported CSV read in a spreadsheet as its table reads.

The prediction CSV's own columns are a contract other tools read (``core.predict.prediction_csv``:
``file,predicted_sum,confidence,digits,error``, kept exact). A spreadsheet opening it takes the
digits ``0459`` for the number 459 and shows a confidence of 0.99998 as ``1.0000``. Rather than
change those cells, the app's export adds these columns after them (extending the file only by
adding, as the contract allows): the confidence as the table shows it (``>99.99%``, ``98.77%``)
and the four digits with spaces between them (``0 4 5 9``), which no spreadsheet reads as a
number, so the leading zero stays.

    write_predictions_csv(rows, "sums.csv", extra_columns=SPREADSHEET_COLUMNS)

Qt-free: the table (``digitsum_gui.table.columns``) shows confidences with ``confidence_text``
from here, so the table and the export write them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.predict.prediction_csv import row_field


def format_probability(p: float) -> str:
    """``98.77%``; never rounds a near-certainty up to 100% or a tiny chance down to 0%."""
    if 0.99995 <= p < 1.0:
        return ">99.99%"
    if 0.0 < p < 0.00005:
        return "<0.01%"
    return f"{p:.2%}"


def digits_text(digits: str) -> str:
    """``0 4 5 9`` for ``0459``: spaced, a spreadsheet keeps it as text (and its leading zero)."""
    return " ".join(digits)


def confidence_text(confidence: float | None) -> str:
    """A confidence as the table shows it (``format_probability``); empty where there is none."""
    return "" if confidence is None else format_probability(confidence)


def _confidence_text(row: Any) -> str:
    return confidence_text(row_field(row, "confidence"))


def _digits_text(row: Any) -> str:
    return digits_text(row_field(row, "digits") or "")


# name -> function of a row, for ``write_predictions_csv(extra_columns=...)``
SPREADSHEET_COLUMNS: dict[str, Callable[[Any], str]] = {
    "confidence_text": _confidence_text,
    "digits_text": _digits_text,
}
