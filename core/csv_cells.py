"""CSV cells and lines as this project writes them, for the prediction CSV and the labels files alike.

Both end up in spreadsheets, so a text cell that Excel or LibreOffice would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR first) gets a leading ``'`` (``escape_cell``), which
``unescape_cell`` takes off again on reading; and both must keep a file name holding a CR on
its own row (``csv_line``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _reads_as_formula(text: str) -> bool:
    """Whether ``text``, after any ``'`` that lead it, starts as a spreadsheet formula does."""
    return text.lstrip("'").startswith(FORMULA_STARTS)


def escape_cell(text: str) -> str:
    """Prefix ``'`` to a text cell that a spreadsheet would take for a formula.

    A text already led by ``'`` before a formula's first character (a file named ``'=x.png``)
    gets one more, so that ``unescape_cell`` gives every text back as it was.
    """
    return "'" + text if _reads_as_formula(text) else text


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell``: one leading ``'`` before a formula's first character goes."""
    return text[1:] if text.startswith("'") and _reads_as_formula(text[1:]) else text


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV record ending in ``\\n``, with cells holding CR or LF quoted.

    The csv module quotes only the characters of its own line terminator, so a writer
    ending lines in ``\\n`` leaves a bare CR in a file name unquoted and the row splits in
    two for every reader. Writing with ``\\r\\n`` and swapping the ending avoids that.
    """
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()[:-2] + "\n"
