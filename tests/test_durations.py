"""core.durations: one way to say how long, for the status bar and the Retrain dialog alike."""

from __future__ import annotations

import pytest

from core.durations import format_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (12.4, "12 s"),
        (59.6, "1 min 00 s"),  # rounded first, so never "60 s"
        (250, "4 min 10 s"),
        (3599.4, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (3 * 3600 + 5 * 60 + 59, "3 h 05 min"),
        (None, "\u2014"),
        (float("nan"), "\u2014"),
        (float("inf"), "\u2014"),  # a rate of zero
        (-1, "\u2014"),
    ],
)
def test_durations_read_as_words(seconds, text):
    assert format_duration(seconds) == text
