"""Labels files: ``labels.csv`` beside the images.

``read_labels_csv`` and ``write_labels_csv`` are every reader and writer of ``labels.csv``
(header ``filename,sum``, optionally ``digits``; the user's other columns and row order kept
on rewriting, through the one reading of the header, ``labels_columns``). The labelled sets
training reads from such folders and from arrays are ``core.labels.labelled_set``'s.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

from core.csv_cells import csv_line, escape_cell, unescape_cell
from core.errors import InputError, reason
from core.files import WriteError, atomic_text_file, require_regular
from core.spec import MAX_SUM

# labels.csv is read whole (100,000 rows are ~3 MB); a file far larger is no labels file
LABELS_NAME = "labels.csv"  # a folder's labels file, read by everything that reads labelled folders
LABELS_MAX_BYTES = 256 << 20


def _parse_digits(text: str, total: int, where: Callable[[], str]) -> str | None:
    """The four digits of a labels row (None when empty); ``where()`` names the row in errors."""
    text = text.strip()
    if not text:
        return None
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        raise InputError(f"{where()}: digits must be four digits 0-9, got {text!r}")
    if sum(map(int, text)) != total:
        raise InputError(f"{where()}: digits {text} do not add up to sum {total}")
    return text


_LABELS_COLUMNS = ("filename", "sum", "digits")


def labels_columns(header: list[str], name: str) -> tuple[int, int, int | None]:
    """Where ``filename``, ``sum`` and ``digits`` stand in a labels file's header row.

    The one reading of the header that reading and rewriting ``labels.csv`` share: names
    are matched without case or surrounding spaces; ``digits`` may be missing.

    Raises
    ------
    InputError
        ``filename`` or ``sum`` missing, or one of the three named twice (which one would be
        meant is anyone's guess).
    """
    names = [h.strip().lower() for h in header]
    for column in _LABELS_COLUMNS:
        if names.count(column) > 1:
            raise InputError(f"{name}: the header names {column!r} {names.count(column)} times; keep one")
    if "filename" not in names or "sum" not in names:
        raise InputError(f"{name}: expected a header row 'filename,sum[,digits]'")
    return names.index("filename"), names.index("sum"), names.index("digits") if "digits" in names else None


def read_labels_csv(path: str | os.PathLike) -> dict[str, tuple[int, str | None]]:
    """Read ``labels.csv``: header ``filename,sum`` and optionally ``digits``.

    Returns
    -------
    dict
        filename -> (sum, digits or None), in file order.

    Raises
    ------
    InputError
        Missing file or columns, a sum that is not an integer 0..36, bad digits, duplicates.
    """
    path = Path(path)
    labels: dict[str, tuple[int, str | None]] = {}
    try:
        require_regular(path, LABELS_MAX_BYTES)  # a named pipe would wait forever
        with open(path, encoding="utf-8-sig", newline="") as f:  # -sig: Excel writes a BOM
            reader = csv.reader(f)
            i_name, i_sum, i_digits = labels_columns(next(reader, []), path.name)

            def where() -> str:  # made only for an error: 100,000 rows are read on the GUI thread
                return f"{path.name} line {reader.line_num}"

            for row in reader:
                if not "".join(row).strip():  # a blank line, or only commas
                    continue
                if len(row) <= max(i_name, i_sum):
                    raise InputError(f"{where()}: expected filename and sum")
                name, total = unescape_cell(row[i_name].strip()), row[i_sum].strip()
                if not name:
                    raise InputError(f"{where()}: empty filename")
                if not total.isdecimal() or int(total) > MAX_SUM:  # (what the former \d+ took)
                    raise InputError(f"{where()}: sum must be an integer 0..{MAX_SUM}, got {total!r}")
                total = int(total)
                digits = None
                if i_digits is not None and i_digits < len(row):
                    digits = _parse_digits(row[i_digits], total, where)
                if name in labels:
                    raise InputError(f"{where()}: {name} is listed twice")
                labels[name] = (total, digits)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a valid CSV file ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({reason(exc)})") from None
    return labels


def write_labels_csv(path: str | os.PathLike, labels: dict[str, tuple[int, str | None]]) -> None:
    """Write ``labels.csv`` atomically: the user's file, changed only where ``labels`` says.

    Where the file exists with a ``filename,sum`` header, every column of it is kept, unknown
    ones (``writer``, ``note``...) included, in their order, and so is the order of its rows:
    a row's ``sum`` and ``digits`` take their new values, a row whose file is no longer in
    ``labels`` goes (its sum was cleared), files new to it follow at the end. Otherwise (no
    file, or one that is not a labels file) it is written afresh: ``filename,sum``, and
    ``digits`` where some digits are known. A name a spreadsheet would run as a formula
    (``=HYPERLINK(...).png``) gets a leading ``'``, as in the prediction CSV, and
    ``read_labels_csv`` takes it off again.

    Raises
    ------
    core.files.WriteError
        If the file cannot be written, or the labels file there cannot be read whole; an
        existing file is left as it was.
    """
    header, rows = _labels_rows(path)
    with_digits = any(digits for _, digits in labels.values())
    if header is None:
        header, rows = (["filename", "sum", "digits"] if with_digits else ["filename", "sum"]), []
    if with_digits and labels_columns(header, Path(path).name)[2] is None:
        header = [*header, "digits"]
    i_name, i_sum, i_digits = labels_columns(header, Path(path).name)
    written = set()
    with atomic_text_file(path, encoding="utf-8") as f:
        f.write(csv_line(header))
        for row in rows:
            name = unescape_cell(row[i_name].strip()) if i_name < len(row) else ""
            if name not in labels or name in written:
                continue  # cleared (or a blank line)
            written.add(name)
            f.write(csv_line(_labels_row(row, len(header), i_name, i_sum, i_digits, name, *labels[name])))
        for name, (total, digits) in labels.items():
            if name not in written:
                f.write(csv_line(_labels_row([], len(header), i_name, i_sum, i_digits, name, total, digits)))


def _labels_rows(path) -> tuple[list[str] | None, list[list[str]]]:
    """An existing labels file's header and rows as text, or ``(None, [])`` where there is none to keep.

    Raises
    ------
    core.files.WriteError
        If a file is there but cannot be read whole: it is not replaced by a file of fewer rows.
    """
    try:
        require_regular(path, LABELS_MAX_BYTES)
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        return None, []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WriteError(f"cannot update {path}: {reason(exc)}; it is left as it was") from None
    header = rows[0] if rows else []
    names = [h.strip().lower() for h in header]
    if "filename" not in names or "sum" not in names:
        return None, []
    try:
        labels_columns(header, Path(path).name)
    except InputError as exc:  # a column named twice: which one to change is not ours to guess
        raise WriteError(f"cannot update {path}: {exc}; it is left as it was") from None
    return header, rows[1:]


def _labels_row(row, width, i_name, i_sum, i_digits, name, total, digits) -> list[str]:
    cells = list(row) + [""] * (width - len(row))
    cells[i_name], cells[i_sum] = escape_cell(name), str(int(total))  # as the prediction CSV: no formula runs
    if i_digits is not None:
        cells[i_digits] = digits or ""
    return cells
