"""The prediction CSV: ``file,predicted_sum,confidence,digits,error``, UTF-8 with BOM.

Spreadsheets are where these files end up, so text cells that Excel or LibreOffice would
run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) get a leading ``'``
(``core.csv_cells``, as in the labels files); numbers are written as plain numbers. A file is
written to a temporary file beside it and renamed into place (``core.files.atomic_text_file``),
so a crash, a full disk or a cancelled run never leaves half a CSV behind.

What a CSV may replace (``check_output_target``): never an input of the same run, a labels
file or a file that is not text (an image, a model, an array); never a disk or a socket.
Terminals, ``/dev/null``, named pipes and open descriptors (``/dev/stdout``) are written through, not replaced.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from core.csv_cells import csv_line, escape_cell, unescape_cell
from core.errors import one_line, reason
from core.files import WriteError, atomic_text_file, descriptor_named, refuse_folder_spelling
from core.inputs.arrays import is_labels_name

CSV_COLUMNS = ("file", "predicted_sum", "confidence", "digits", "error")


class ExportError(WriteError):
    """A prediction CSV that could not be written, or may not replace its destination; ``str()``
    is a one-line reason. A ``core.files.WriteError``, so a ``DigitsumError`` and an ``OSError``."""


def _is_labels_text(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a labels file: a header row naming filename and sum."""
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    columns = {c.strip().strip('"').lower() for c in first.split(",")}
    return {"filename", "sum"} <= columns


def _is_text(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) can be the start of a UTF-8 text file such as a CSV."""
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # only a character cut at the end of what was read
    return True


def check_output_target(dest: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> bool:
    """Refuse a CSV destination that would destroy something; say whether to write through.

    Parameters
    ----------
    dest : str or path
        Where the CSV is to go.
    inputs : iterable of str or path
        Files this run reads (images, arrays, the model): never replaced by its output.
        Each is looked at only when ``dest`` exists, with one ``stat`` apiece.

    Returns
    -------
    bool
        True when ``dest`` is a terminal, ``/dev/null``, a named pipe or an open descriptor
        (``/dev/stdout``, ``/dev/fd/N``: ``core.files.descriptor_named``): the CSV is written
        into it as it is, never renamed over it. False for a regular file or a new name.

    Raises
    ------
    ExportError
        If ``dest`` is a disk or a socket, an input of this run, a labels file, or an
        existing file that is not text (one line naming the file and the reason).
    """
    if not os.fspath(dest):
        raise ExportError("no output file named (an empty name); name a CSV file, or - for stdout")
    try:
        refuse_folder_spelling(dest)
    except NotADirectoryError as exc:
        raise ExportError(f"cannot write {dest}: {reason(exc)}") from None
    if descriptor_named(dest) is not None:
        return True  # /dev/stdout, /dev/fd/N: into the descriptor, never over the file behind it (`>> log`)
    try:
        st = os.stat(dest)
    except OSError:
        return False  # nothing there (or an unreachable parent: the write says why)
    mode = st.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    if stat.S_ISDIR(mode):
        return False  # the rename fails with "Is a directory", which says it all
    if not stat.S_ISREG(mode):
        raise ExportError(f"cannot write {dest}: not a regular file (a disk or a socket); it is never replaced")
    for given in inputs:
        try:
            other = os.stat(given)
        except OSError:
            continue  # an input that is gone is not this file
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            raise ExportError(f"cannot write {dest}: it is an input of this run; choose another output file")
    try:
        with open(dest, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise ExportError(f"cannot write {dest}: {reason(exc)}") from None
    if is_labels_name(Path(dest).name) or _is_labels_text(head):
        raise ExportError(f"cannot write {dest}: it is a labels file (filename,sum); predictions never replace labels")
    if not _is_text(head):
        raise ExportError(
            f"cannot write {dest}: it exists and is not a CSV (binary data: an image, array or "
            "model?); choose another output file"
        )
    return False


def _cell(value: Any) -> str:
    """A value from an extra column: text is escaped, numbers are not, None is empty."""
    if value is None:
        return ""
    return escape_cell(value) if isinstance(value, str) else str(value)


def row_field(row: Any, name: str) -> Any:
    """A field of a row, an object (``PredictionRow``) or a mapping: the writer takes both."""
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def _format_row(row: Any, extra: Mapping[str, Callable[[Any], Any]]) -> list[str]:
    get = functools.partial(row_field, row)
    total, confidence, error = get("predicted_sum"), get("confidence"), get("error")
    if error:
        error = one_line(error)  # error stays one line
    cells = [
        escape_cell(str(get("file"))),
        "" if total is None else str(int(total)),
        "" if confidence is None else f"{confidence:.4f}",
        escape_cell(get("digits") or ""),
        escape_cell(error or ""),
    ]
    if extra:
        cells += [_cell(func(row)) for func in extra.values()]
    return cells


def _write_rows(f: IO[str], rows: Iterable[Any], extra: Mapping[str, Callable[[Any], Any]]) -> int:
    f.write(csv_line([*CSV_COLUMNS, *extra]))
    writer = csv.writer(f, lineterminator="\n")  # one writer for all rows: 100,000 rows in well under a second
    count = 0
    for row in rows:
        cells = _format_row(row, extra)
        if "\r" in "".join(cells):  # a CR in a file name: the slow way that quotes it (csv_line)
            f.write(csv_line(cells))
        else:
            writer.writerow(cells)
        count += 1
    return count


def write_predictions_csv(
    rows: Iterable[Any],
    dest: str | os.PathLike | IO[str],
    extra_columns: Mapping[str, Callable[[Any], Any]] | None = None,
) -> int:
    """Write prediction rows as CSV.

    Parameters
    ----------
    rows : iterable
        Objects (or mappings) with ``file``, ``predicted_sum`` (int or None), ``confidence``
        (float or None), ``digits`` (str) and ``error`` (str). A generator is consumed as it
        goes, so the CLI can stream.
    dest : str, path or text stream
        A file path (written atomically), ``"-"`` for stdout, or an open text stream.
    extra_columns : mapping of str to callable, optional
        Column name -> function of a row, appended after the fixed columns.

    Returns
    -------
    int
        Number of rows written.

    Raises
    ------
    ExportError
        If the file or stream cannot be written, or ``dest`` may not be replaced
        (``check_output_target``). A previous file at ``dest`` is unchanged.
    """
    extra = dict(extra_columns or {})
    if isinstance(dest, (str, os.PathLike)) and os.fspath(dest) != "-":
        if not check_output_target(dest):
            with atomic_text_file(dest, encoding="utf-8-sig", error=ExportError) as f:  # -sig writes the BOM
                return _write_rows(f, rows, extra)
        try:  # a terminal, /dev/null, a pipe or a descriptor: into it, as a shell's `>` would
            fd = descriptor_named(dest)  # (into the descriptor itself: opened again, a `>> log` would be cut)
            target = os.dup(fd) if fd is not None else dest
            with open(target, "w", encoding="utf-8-sig", newline="") as f:
                return _write_rows(f, rows, extra)
        except (OSError, UnicodeError) as exc:
            raise ExportError(f"cannot write {dest}: {reason(exc)}") from exc

    stream = dest if hasattr(dest, "write") else sys.stdout
    wrapped = None
    if stream is sys.stdout and hasattr(stream, "buffer"):
        # The console's encoding may be cp1252 or ASCII; the contract says UTF-8.
        stream.flush()
        wrapped = stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
    try:
        stream.write("\ufeff")
        count = _write_rows(stream, rows, extra)
        stream.flush()
        return count
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the caller ends quietly, it is no write failure
    except (OSError, UnicodeError) as exc:
        raise ExportError(f"cannot write CSV: {reason(exc)}") from exc
    finally:
        if wrapped is not None:
            wrapped.detach()  # closing the wrapper would close the real stdout


def read_predictions_csv(path: str | os.PathLike, unescape: bool = True) -> list[dict[str, str]]:
    """Read a prediction CSV back as a list of dicts of strings (BOM or not).

    With ``unescape`` the ``'`` added against formula injection is removed again.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    if unescape:
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str):
                    row[key] = unescape_cell(value)
    return rows
