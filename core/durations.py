"""How long something takes, in one format everywhere: ``1 h 05 min``, ``4 min 10 s``, ``12 s``.

Words rather than a clock's ``4:10``: the same text reads well in a sentence ("may take
about 1 h 05 min on the CPU") and in a status line ("about 42 s left"), in the main
window's status bar and in the Retrain dialog alike.
"""

from __future__ import annotations

import math

UNKNOWN = "\u2014"  # an em dash


def format_duration(seconds: float | None) -> str:
    """``1 h 05 min``, ``4 min 10 s``, ``12 s``; an em dash when unknown (None, NaN, infinite or negative)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return UNKNOWN
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
