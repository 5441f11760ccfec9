"""The table's display order: which input each row of the table shows, sorted by one column or not.

Why the sort lives here and not in a ``QSortFilterProxyModel``: the proxy sorts by calling
``lessThan`` about ``n log n`` times, and every call crosses from C++ into Python: 100,000
rows took 17 s. Sorting a Python list with a key takes 50 ms, so the proxy hands ``sort()``
to the table model, which keeps this order beside the input order (its ``rows`` and the CSV
export stay in input order) and puts rows arriving during a run straight into place.

Plain Python, no Qt: the model wraps each change in the signals its views need.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import Any


class DisplayOrder:
    """Display rows <-> input indices for one table, in input order or sorted by one column's key.

    While sorted it holds ``(key, +-input index)`` ascending, so bisection places new rows. For
    a descending sort the display is that list reversed and the index is negated, which keeps
    equal keys in input order either way (what a stable sort would do). Rows not placed yet
    (just appended) are shown last, in input order.
    """

    def __init__(self):
        self.column = -1  # the column sorted by; -1: input order
        self.descending = False
        self._entries: list[tuple] = []

    @property
    def is_sorted(self) -> bool:
        return self.column >= 0

    def placed(self, input_index: int) -> bool:
        """Whether input ``input_index`` has its place in a sort (False: unsorted, or not placed yet)."""
        return self.is_sorted and input_index < len(self._entries)

    def _entry(self, key: Any, input_index: int) -> tuple:
        return key, -input_index if self.descending else input_index

    def _shown(self, position: int, count: int) -> int:
        """The display row of position ``position`` among ``count`` entries."""
        return count - 1 - position if self.descending else position

    def input_index(self, row: int) -> int:
        """The input index shown at display row ``row``."""
        if not self.is_sorted or row >= len(self._entries):
            return row
        return abs(self._entries[self._shown(row, len(self._entries))][1])

    def display_row(self, key: Any, input_index: int) -> int | None:
        """Where a placed input is shown, by bisection; ``key`` is its row's sort key now
        (None: not found under that key)."""
        entry = self._entry(key, input_index)
        position = bisect_left(self._entries, entry)
        if position == len(self._entries) or self._entries[position] != entry:
            return None
        return self._shown(position, len(self._entries))

    def sort(self, column: int, descending: bool, keys: Iterable) -> None:
        """Order by ``column`` (-1: input order), whose keys for every input, in input order, are ``keys``."""
        self.column, self.descending = column, descending
        sign = -1 if descending else 1
        self._entries = sorted((key, sign * i) for i, key in enumerate(keys)) if column >= 0 else []

    def resort(self, keys: Iterable) -> None:
        """The same column and direction over new rows (or new keys): ``keys`` as in ``sort``."""
        self.sort(self.column, self.descending, keys)

    def row_for(self, key: Any, input_index: int) -> int:
        """The display row ``insert`` will give the next input (while sorted)."""
        position = bisect_right(self._entries, self._entry(key, input_index))
        return len(self._entries) - position if self.descending else position  # (one more row after the insert)

    def insert(self, key: Any, input_index: int) -> None:
        """Place the next input (while sorted) where its key puts it, after equal keys shown before it."""
        entry = self._entry(key, input_index)
        self._entries.insert(bisect_right(self._entries, entry), entry)

    def extend(self, keyed: Iterable[tuple[Any, int]]) -> None:
        """Place many next inputs at once, ``(key, input index)`` each (while sorted)."""
        self._entries.extend(self._entry(key, i) for key, i in keyed)
        self._entries.sort()  # timsort merges the two runs
