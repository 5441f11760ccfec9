"""Labels files: ``labels.csv`` beside the images, and the labelled sets training reads.

``read_labels_csv`` and ``write_labels_csv`` are every reader and writer of ``labels.csv``
(header ``filename,sum``, optionally ``digits``; the user's other columns and row order kept
on rewriting, through the one reading of the header, ``labels_columns``). ``load_labelled``
reads a whole labelled set for training: a folder with ``labels.csv`` or an assignment-style
``dataN.npy`` with its ``labN.npy`` twin (``core.inputs.arrays``); ``labelled_count`` counts
one, ``read_truth`` reads evaluate's labels. Images are read through ``core.inputs.listing``:
this module imports the inputs, never the reverse.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.csv_cells import csv_line, escape_cell, unescape_cell
from core.errors import InputError, reason
from core.files import WriteError, atomic_text_file, require_regular
from core.inputs.arrays import ARRAY_FORMATS, array_format, array_rows, label_twin, read_array_labels
from core.inputs.images import ImageReadError
from core.inputs.listing import InputItem, display_name, load_item, named_file, skipped_names
from core.spec import MAX_SUM, NUM_DIGITS

# labels.csv is read whole (100,000 rows are ~3 MB); a file far larger is no labels file
LABELS_NAME = "labels.csv"  # a folder's labels file, read by everything that reads labelled folders
LABELS_MAX_BYTES = 256 << 20


class SkippedFilesWarning(UserWarning):
    """Labelled files left out of a set because they could not be read; ``str()`` is one line naming a few."""


@dataclass
class LabelledSet:
    """Images with their labels, ready for training."""

    images: np.ndarray  # uint8 (N, 40, 168)
    sums: np.ndarray  # int64 (N,)
    digits: np.ndarray  # int64 (N, 4), -1 where unknown
    names: list[str]
    skipped: list[str] = field(default_factory=list)  # "name: reason" for unreadable files


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


def load_labelled(spec: str | os.PathLike) -> LabelledSet:
    """Read a labelled set: a folder with ``labels.csv``, or an array ``dataN.npy`` with ``labN.npy``.

    Files listed in ``labels.csv`` that cannot be read are left out, named in ``skipped`` and
    reported with a ``SkippedFilesWarning`` (count and the first few names): a user's data is
    never dropped in silence.

    Raises
    ------
    InputError
        If the spec is neither, its labels are bad, or no labelled image could be read.
    """
    path = Path(spec)
    if path.is_dir():
        found = _read_labelled_folder(path, spec)
    elif path.is_file() and array_format(path):
        found = _read_labelled_array(path, spec)
    elif path.exists():
        raise InputError(f"{spec}: expected a folder with labels.csv or an {' or '.join(ARRAY_FORMATS)} data file")
    else:
        raise InputError(f"{spec}: no such file or folder")
    skipped = found.skipped
    if not found.images:
        detail = f" (none of {len(skipped)} could be read: {skipped_names(skipped)})" if skipped else ""
        raise InputError(f"{spec}: no readable labelled images{detail}")
    if skipped:
        _warn_skipped(spec, skipped, len(skipped) + len(found.images))
    return found.labelled_set()


@dataclass
class _LabelledFound:
    """A labelled set as it is read, item by item: what ``load_labelled`` stacks into a ``LabelledSet``."""

    images: list[np.ndarray] = field(default_factory=list)
    sums: list[int] = field(default_factory=list)
    digits: list[list[int]] = field(default_factory=list)  # -1 where unknown
    names: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: reason"

    def add(self, image: np.ndarray, total: int, digits: list[int], name: str) -> None:
        self.images.append(image)
        self.sums.append(total)
        self.digits.append(digits)
        self.names.append(name)

    def labelled_set(self) -> LabelledSet:
        return LabelledSet(
            images=np.stack(self.images),
            sums=np.asarray(self.sums, dtype=np.int64),
            digits=np.asarray(self.digits, dtype=np.int64).reshape(-1, 4),
            names=self.names,
            skipped=self.skipped,
        )


def _read_labelled_folder(path: Path, spec: str | os.PathLike) -> _LabelledFound:
    """The images ``labels.csv`` names in folder ``path``, with their sums and digits; unreadable ones skipped."""
    labels = read_labels_csv(path / LABELS_NAME) if (path / LABELS_NAME).is_file() else None
    if labels is None:
        raise InputError(f"{spec}: no labels.csv in this folder")
    found = _LabelledFound()
    for name, (total, known) in labels.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:  # a shared labels.csv must not read elsewhere
            found.skipped.append(f"{name}: outside the data folder")
            continue
        try:
            item = InputItem(name, named_file(path, name))
            image = load_item(item, require_digits=False)  # the user's label decides
        except ImageReadError as exc:
            found.skipped.append(f"{name}: {exc}")
            continue
        found.add(image, total, [int(c) for c in known] if known else [-1] * NUM_DIGITS, name)
    return found


def _read_labelled_array(path: Path, spec: str | os.PathLike) -> _LabelledFound:
    """The rows of array ``path`` with the sums of its labels twin (no digits); unreadable rows skipped."""
    n = array_rows(path)
    twin = label_twin(path)
    labels = read_array_labels(twin)
    if len(labels) != n:
        raise InputError(f"{path.name} has {n} images but {twin.name} has {len(labels)} sums")
    found = _LabelledFound()
    for i in range(n):
        item = InputItem(f"{os.fspath(spec)}:{i}", path, i)
        try:
            image = load_item(item, require_digits=False)
        except ImageReadError as exc:
            found.skipped.append(f"{item.name}: {exc}")
            continue
        found.add(image, int(labels[i]), [-1] * NUM_DIGITS, item.name)
    return found


def _warn_skipped(spec: str | os.PathLike, skipped: list[str], total: int) -> None:
    """Say which labelled files were left out, as a ``SkippedFilesWarning`` at ``load_labelled``'s caller."""
    warnings.warn(
        SkippedFilesWarning(
            f"{spec}: {len(skipped)} of {total} labelled files could not be read and "
            f"are left out: {skipped_names(skipped)}"
        ),
        stacklevel=3,  # this function, load_labelled, its caller
    )


def labelled_count(spec: str | os.PathLike) -> int:
    """Images a ``--data`` spec holds, without reading them: a folder's ``labels.csv`` rows or an array's rows.

    0 when the spec cannot be read (a form counting as the user types; training says why).
    """
    path = Path(spec)
    try:
        if path.is_dir():
            return len(read_labels_csv(path / LABELS_NAME))
        return array_rows(path)
    except (InputError, OSError):
        return 0


def read_truth(labels: str | os.PathLike, inputs: Sequence[str | os.PathLike]) -> dict[str, tuple[int, str | None]]:
    """The true labels ``evaluate`` scores against, keyed like the prediction CSV's ``file`` column.

    Parameters
    ----------
    labels : str or path
        A ``labels.csv`` (filename -> sum and digits), or an array labels file (``lab0.npy``)
        whose sums belong, row for row, to the one array input of the same format.
    inputs : sequence of str or path
        The inputs as given to ``list_inputs``.

    Returns
    -------
    dict
        file -> (sum, digits or None); array rows are ``NAME:INDEX`` with no digits.

    Raises
    ------
    InputError
        Bad labels, not exactly one array input for array labels, or row counts that differ.
    """
    labels_path = Path(labels)
    fmt = array_format(labels_path)
    if fmt is None:
        return read_labels_csv(labels_path)
    sums = read_array_labels(labels_path)
    data = [os.fspath(given) for given in inputs if array_format(given) is fmt]
    if len(data) != 1:
        raise InputError(f"--labels LAB{fmt.suffix} needs exactly one data {fmt.suffix} input")
    name = data[0]
    images = array_rows(name)
    if images != len(sums):  # as `train` does: a score on a subset would pass for the whole
        raise InputError(f"{Path(name).name} has {images} images but {labels_path.name} has {len(sums)} sums")
    shown = display_name(name)  # as list_inputs names the rows: a name that is not UTF-8 still matches
    return {f"{shown}:{i}": (int(s), None) for i, s in enumerate(sums)}
