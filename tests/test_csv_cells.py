"""core.csv_cells: the cells and lines that the prediction CSV and the labels files share."""

from __future__ import annotations

import csv
import io

from core.csv_cells import csv_line, escape_cell, unescape_cell


def test_formula_text_is_escaped_and_every_text_comes_back():
    assert escape_cell("=SUM(A1)") == "'=SUM(A1)" and escape_cell("-1.png") == "'-1.png"
    assert escape_cell("a.png") == "a.png" and escape_cell("'quoted.png") == "'quoted.png"
    for text in ("=x.png", "'=x.png", "''+x", "a.png", "'a.png", "", "@", "\tx", "\rx"):
        assert unescape_cell(escape_cell(text)) == text


def test_a_cell_holding_a_line_break_stays_in_its_row():
    line = csv_line(["a\rb.png", "c\nd.png", 3])
    assert line.endswith("\n") and not line.endswith("\r\n")
    assert list(csv.reader(io.StringIO(line, newline=""))) == [["a\rb.png", "c\nd.png", "3"]]
    assert csv_line(["filename", "sum"]) == "filename,sum\n"
