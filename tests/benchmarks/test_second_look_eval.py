"""benchmarks/second_look_eval.py: the threshold that flags at most 3% of rows (how DOUBTFUL_BELOW is chosen)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def threshold_flagging(monkeypatch):
    """The script's function, imported when a test runs: collecting needs no benchmarks/ (the sdist has none)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports benchlib beside it
    return importlib.import_module("second_look_eval").threshold_flagging


def test_the_threshold_flags_at_most_the_share_and_the_next_step_up_flags_more(threshold_flagging):
    rng = np.random.default_rng(0)
    confidence = 1 - rng.beta(0.3, 8, 5000)  # most rows sure, a tail of doubtful ones
    below = threshold_flagging(confidence, share=0.03)
    assert below < 0.99 and abs(below * 100 - round(below * 100)) < 1e-6  # in the filter's 1% steps
    assert (confidence < below).sum() <= 150
    assert (confidence < below + 0.01).sum() > 150


def test_from_99_percent_up_the_threshold_steps_by_a_tenth(threshold_flagging):
    confidence = np.array([0.5, 0.6, 0.7, 0.9968] + [0.999] * 96)  # the 4th least confident row: 99.68%
    assert threshold_flagging(confidence, share=0.03) == 0.996
    confidence[3] = 0.97  # on a step itself: kept
    assert threshold_flagging(confidence, share=0.03) == 0.97
