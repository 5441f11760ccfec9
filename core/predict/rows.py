"""What a prediction run gives back: one ``PredictionRow`` per input, and the figures made from rows.

``batch_rows`` turns one batch's model outputs into rows (``core.predict.predictor.Predictor``
calls it for every batch); ``RunStats`` counts rows as they arrive (progress lines, the GUI's
status bar); ``score`` compares them with known sums (``digitsum evaluate``). Torch-free.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.predict.nonfinite import NON_FINITE_OUTPUT, nonfinite_as_errors

if TYPE_CHECKING:  # only named: rows are made without the listing's image readers
    from core.inputs.listing import InputItem


@dataclass(slots=True)  # slots: 100,000 rows (the GUI keeps them all) take 15.5 MB instead of 20.3
class PredictionRow:
    """One input's result. ``error`` is empty on success, else a one-line reason."""

    file: str
    predicted_sum: int | None = None
    confidence: float | None = None
    digits: str = ""
    error: str = ""
    top3: tuple = ()  # ((sum, probability), ...) best first
    digit_confidence: tuple = ()  # probability of each digit read, left to right

    @property
    def ok(self) -> bool:
        return not self.error


def batch_rows(
    items: Sequence[InputItem], errors: Sequence[str], probs: np.ndarray | None, digit_probs: np.ndarray | None
) -> list[PredictionRow]:
    """The rows of one batch, in the order of its items.

    Parameters
    ----------
    items : sequence of InputItem
        The batch's inputs.
    errors : sequence of str
        One per item: ``""`` where it decoded, else why not (that item's row is an error row).
    probs : np.ndarray or None
        float (n, 37), sum probabilities of the good items only, in order; None when none was good.
    digit_probs : np.ndarray or None
        (n, 4, 10) for a model that reads digits, else None.

    Returns
    -------
    list of PredictionRow
        A row whose model output is NaN or infinite is an error row (``core.predict.nonfinite``).
    """
    if probs is None or not len(probs):
        return [PredictionRow(item.name, error=e) for item, e in zip(items, errors, strict=True)]
    # whole-batch numpy, then plain Python values: per-row numpy calls cost more than the model on a GPU
    top = np.argsort(-probs, axis=1, kind="stable")[:, :3]  # (n, 3)
    top_p = np.take_along_axis(probs, top, 1).tolist()
    top = top.tolist()
    texts, read_p = itertools.repeat(""), itertools.repeat(())
    if digit_probs is not None:
        read = digit_probs.argmax(-1)  # (n, 4)
        read_p = map(tuple, np.take_along_axis(digit_probs, read[..., None], -1)[..., 0].tolist())
        texts = (read.astype(np.uint8) + ord("0")).view("S4").ravel().astype(str).tolist()
    # texts and read_p repeat endlessly for a model that reads no digits: the first two set the length
    results = zip(top, top_p, texts, read_p, strict=False)  # one per good item, in order
    rows = []
    for item, error in zip(items, errors, strict=True):
        if error:
            rows.append(PredictionRow(item.name, error=error))
            continue
        sums, p, text, text_p = next(results)
        rows.append(PredictionRow(item.name, sums[0], p[0], text, "", tuple(zip(sums, p, strict=True)), text_p))
    return nonfinite_as_errors(rows, probs, digit_probs)  # NaN or infinity: an error row, not a sum


@dataclass
class RunStats:
    """Counts and speed of a prediction run, for progress lines and status bars."""

    total: int
    done: int = 0
    errors: int = 0  # rows with an error, ``nonfinite`` among them
    nonfinite: int = 0  # rows the model gave NaN or infinity for (``core.predict.nonfinite``)
    started: float = field(default_factory=time.time)

    def add(self, rows: Iterable[PredictionRow]) -> None:
        for r in rows:
            self.done += 1
            self.errors += bool(r.error)
            self.nonfinite += r.error == NON_FINITE_OUTPUT

    @property
    def images_per_s(self) -> float:
        return self.done / max(time.time() - self.started, 1e-9)

    @property
    def eta(self) -> float | None:
        rate = self.images_per_s
        return (self.total - self.done) / rate if self.done and rate > 0 else None


def score(rows: Sequence[PredictionRow], truths: Sequence) -> dict:
    """Accuracy of predicted sums (and digits where known) against each row's ``(sum, digits)``,
    or None where the row has no label (``truths`` in the rows' order).

    Returns a dict with ``count``, ``accuracy`` (exact sum), ``mae``, ``errors`` (unreadable
    files), ``unlabelled`` and, when digits are known, ``digit_accuracy``.
    """
    n = correct = abs_err = errors = unlabelled = digit_ok = digit_n = 0
    for r, truth in zip(rows, truths, strict=True):
        if truth is None:
            unlabelled += 1
            continue
        true_sum, true_digits = truth
        if r.error:
            errors += 1
            continue
        n += 1
        correct += r.predicted_sum == true_sum
        abs_err += abs(r.predicted_sum - true_sum)
        if true_digits and r.digits:
            digit_n += len(true_digits)
            digit_ok += sum(a == b for a, b in zip(r.digits, true_digits, strict=True))
    out = {
        "count": n,
        "accuracy": correct / n if n else None,
        "mae": abs_err / n if n else None,
        "errors": errors,
        "unlabelled": unlabelled,
    }
    if digit_n:
        out["digit_accuracy"] = digit_ok / digit_n
    return out
