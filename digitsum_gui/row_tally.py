"""A running tally over the table's rows, counted as they arrive.

The status bar's accuracy and the legend's review count both add up something over every
row. Counting all rows again at each delivery of a run would be quadratic (100,000 rows in
1,000 deliveries: 50 million rows on the GUI thread), so a tally counts only the rows added
since its last count, and starts again from the first row when what it counts changes (a
sum saved or undone, another threshold, another folder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class RowTally:
    """Two counts over a growing list of rows.

    Parameters
    ----------
    count : callable
        ``count(rows) -> (a, b)`` for a slice of rows; tallies of slices add up.
    """

    def __init__(self, count: Callable[[Sequence], tuple[int, int]]):
        self._count = count
        self.reset()

    def reset(self) -> None:
        """Forget every row counted: the next ``update`` counts from the first."""
        self._counted, self.totals = 0, (0, 0)

    def update(self, rows: Sequence) -> tuple[int, int]:
        """Count the rows added since the last call; the totals so far."""
        if self._counted < len(rows):
            a, b = self._count(rows[self._counted :])
            self.totals = (self.totals[0] + a, self.totals[1] + b)
        self._counted = len(rows)
        return self.totals
