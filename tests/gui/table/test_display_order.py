"""The display order on its own (plain Python): sorted, stable both ways, new rows put in place."""

import random

import pytest

from digitsum_gui.table.display_order import DisplayOrder


@pytest.mark.parametrize("descending", [False, True])
def test_the_order_is_a_stable_sort_and_new_inputs_go_where_a_full_sort_would_put_them(descending):
    keys = [random.Random(7).randrange(5) for _ in range(40)]  # many equal keys: stability shows
    order = DisplayOrder()
    order.sort(2, descending, keys[:20])
    for i in range(20, 30):  # one by one, as a few rows arrive during a run
        shown = order.row_for(keys[i], i)
        order.insert(keys[i], i)
        assert order.input_index(shown) == i
    order.extend((keys[i], i) for i in range(30, 40))  # many at once

    stable = sorted(range(40), key=lambda i: keys[i], reverse=descending)  # equal keys in input order
    assert [order.input_index(r) for r in range(40)] == stable
    assert [order.display_row(keys[i], i) for i in stable] == list(range(40))
    assert order.display_row(keys[0] + 10, 0) is None  # not under another key


def test_unsorted_and_unplaced_rows_keep_their_input_index():
    order = DisplayOrder()
    assert not order.is_sorted and order.input_index(5) == 5 and not order.placed(5)
    order.sort(1, False, [3, 1, 2])
    assert [order.input_index(r) for r in range(3)] == [1, 2, 0]
    assert order.placed(2) and not order.placed(3) and order.input_index(3) == 3  # appended, not placed yet
    order.sort(-1, False, [])
    assert [order.input_index(r) for r in range(3)] == [0, 1, 2]
