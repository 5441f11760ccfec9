"""benchmarks/second_look_eval.py: the threshold that flags at most 3% of rows (how DOUBTFUL_BELOW is chosen)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from second_look_eval import threshold_flagging


def test_the_threshold_flags_at_most_the_share_and_the_next_step_up_flags_more():
    rng = np.random.default_rng(0)
    confidence = 1 - rng.beta(0.3, 8, 5000)  # most rows sure, a tail of doubtful ones
    below = threshold_flagging(confidence, share=0.03)
    assert abs(below * 1000 - round(below * 1000)) < 1e-6  # in the app's steps of 0.1%
    assert (confidence < below).sum() <= 150
    assert (confidence < below + 0.001).sum() > 150


def test_a_threshold_on_a_step_itself_is_kept():
    confidence = np.array([0.5, 0.6, 0.7, 0.97] + [0.99] * 96)  # the 4th least confident row sits on 0.970
    assert threshold_flagging(confidence, share=0.03) == 0.97
