"""What the user points us at: folders, image files, arrays (``.npy``) and their labels.

``list_inputs`` turns command-line or GUI inputs into a flat, ordered list of ``InputItem``
without reading any pixels; ``load_item`` reads one of them (through ``core.inputs.images``, the
one preprocessing path). ``load_labelled`` reads a whole labelled set for training: a folder
with ``labels.csv`` or an assignment-style ``dataN.npy`` with its ``labN.npy`` twin;
``labelled_count`` counts one, ``read_truth`` reads evaluate's labels. The array formats
themselves (names, reading, checks) are ``core.inputs.arrays``: this module never names one.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.csv_cells import csv_line, escape_cell, unescape_cell
from core.errors import InputError, exception_line, reason
from core.files import WriteError, atomic_text_file, require_regular
from core.inputs.arrays import ARRAY_FORMATS, array_format, array_rows, label_twin, open_array, read_array_labels
from core.inputs.images import ImageReadError, out_of_range, read_image, to_model_input
from core.inputs.no_digits import no_digits_reason
from core.spec import MAX_SUM, NUM_DIGITS

# labels.csv is read whole (100,000 rows are ~3 MB); a file far larger is no labels file
LABELS_MAX_BYTES = 256 << 20
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm", ".ppm"})


class SkippedFilesWarning(UserWarning):
    """Labelled files left out of a set because they could not be read; ``str()`` is one line naming a few."""


def skipped_names(skipped: list[str], shown: int = 3) -> str:
    """The first few of ``["name: reason", ...]`` as ``a.png (reason), b.png (reason) and 7 more``."""
    named = ", ".join(f"{name} ({reason})" for name, _, reason in (s.partition(": ") for s in skipped[:shown]))
    return named + (f" and {len(skipped) - shown} more" if len(skipped) > shown else "")


def left_out_note(left_out: list[str]) -> str:
    """What a recursive listing left out (``list_inputs(skipped=...)``), as one line."""
    return f"left out {len(left_out)} sub-folder{'s' * (len(left_out) != 1)}: {skipped_names(left_out)}"


@dataclass(frozen=True)
class InputItem:
    """One image to read: a file, or row ``index`` of an array file (``core.inputs.arrays``).

    ``name`` is what the CSV's ``file`` column shows: the path relative to the input folder,
    the path as given for single files, ``NAME.npy:INDEX`` for array rows.
    """

    name: str
    path: Path
    index: int | None = None


@dataclass
class LabelledSet:
    """Images with their labels, ready for training."""

    images: np.ndarray  # uint8 (N, 40, 168)
    sums: np.ndarray  # int64 (N,)
    digits: np.ndarray  # int64 (N, 4), -1 where unknown
    names: list[str]
    skipped: list[str] = field(default_factory=list)  # "name: reason" for unreadable files


def natural_key(text: str) -> list:
    """Sort key that puts ``img2`` before ``img10`` (digit runs compare as numbers)."""
    # re.split with a group alternates text, number, text, ... so types line up position-wise
    return [int(part) if i % 2 else part.casefold() for i, part in enumerate(re.split(r"(\d+)", text))]


def _relative_key(rel: str) -> tuple:
    return tuple(natural_key(part) for part in rel.split("/")), rel


def _scan_folder(root: Path, recursive: bool, skipped: list[str]) -> list[str]:
    """Image files under ``root`` as relative POSIX paths; symlinked folders inside it are entered once.

    Plain strings and ``scandir``'s cached entry types, no ``Path`` per file: a GPU reads a
    folder of 100,000 images in a few seconds, and listing it must not take as long. The walk
    is depth-first with a stack of its own, not recursion (a tree 1,500 folders deep overflows
    Python's stack), and each folder is read whole and closed before going deeper (an open
    ``scandir`` per level would run out of file descriptors at about 1,000).

    A sub-folder that cannot be listed (``lost+found``), or a link to a folder outside ``root``
    (to ``/``, which would list the whole disk), is left out and named in ``skipped``: one bad
    entry never loses the rest of the tree. ``root`` itself failing raises ``OSError``.
    """
    found: list[str] = []
    seen: set[tuple[int, int]] = set()
    inside = os.path.join(os.path.realpath(root), "")

    def listing(folder: str) -> list | None:
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:  # a symlink back up the tree, or two links to one folder
            return None
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as entries:
            return list(entries)

    stack = [(iter(listing(os.fspath(root))), "")]
    while stack:
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        if name.startswith("."):  # .DS_Store, macOS ._img.png, .git, ...
            continue
        try:
            is_dir, is_file = entry.is_dir(), entry.is_file()
            broken = not is_dir and not is_file and entry.is_symlink() and not os.path.exists(entry.path)
        except OSError:  # a symlink loop (ELOOP): one bad entry must not hide the folder
            is_dir, is_file, broken = False, False, True
        if is_dir:
            if not recursive:
                continue
            shown = display_name(prefix + name + "/")
            if entry.is_symlink() and not os.path.join(os.path.realpath(entry.path), "").startswith(inside):
                skipped.append(f"{shown}: a link out of the folder")
                continue
            try:
                inner = listing(entry.path)
            except OSError as exc:
                skipped.append(f"{shown}: {reason(exc)}")
                continue
            if inner is not None:
                stack.append((iter(inner), prefix + name + "/"))
        elif (is_file or broken) and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
            # a broken link named like an image is listed: its error row says why, nothing
            # vanishes silently (pipes and devices named .png are never opened)
            found.append(prefix + name)
    return sorted(found, key=_relative_key)


# What ``display_name`` writes for a byte that is not UTF-8 (\x80-\xff), and for a backslash
# that would otherwise read as one (\x5c): ``named_file`` reads back exactly these.
_ESCAPE = re.compile(r"\\x(5c|[89a-f][0-9a-f])")


def display_name(text: str) -> str:
    """``text`` as it can be shown and written to a UTF-8 CSV, one-to-one.

    A file name that is not valid UTF-8 (bytes from an old Latin-1 archive) reaches
    Python with surrogate escapes, which no UTF-8 writer accepts: one such name would make
    the whole CSV unwritable. Its undecodable bytes are shown as ``\\xNN`` instead. So that
    no two files get one name (``caf\\xe9.png`` spelled with a real backslash beside the
    Latin-1 ``café.png``), a backslash that would read as such an escape is itself written
    ``\\x5c``; any other name is left as it is.
    """
    text = _ESCAPE.sub(lambda m: "\\x5c" + m[0][1:], text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _undo_escape(match: re.Match) -> str:
    code = int(match[1], 16)
    return "\\" if code == 0x5C else chr(0xDC00 + code)  # the undecodable byte, surrogate-escaped


def named_file(folder: Path, name: str) -> Path:
    """The file in ``folder`` that ``name``, as ``display_name`` wrote it, stands for.

    The inverse of ``display_name``: ``\\xNN`` gives back the byte it stands for, so a label
    saved for ``caf\\xe9.png`` finds the Latin-1 file it was typed for, and ``\\x5c`` a
    backslash.
    """
    return folder / _ESCAPE.sub(_undo_escape, name) if "\\x" in name else folder / name


def list_inputs(
    inputs: Sequence[str | os.PathLike], recursive: bool = False, skipped: list[str] | None = None
) -> list[InputItem]:
    """Expand folders, image files and arrays (``core.inputs.arrays``) into items, in order.

    Parameters
    ----------
    inputs : sequence of str or path
        Folders (their image files, by extension, in natural order), single files (tried
        whatever their extension) and array files (``.npy``) of shape (N, 40, 168).
    recursive : bool
        Also list images in sub-folders.
    skipped : list, optional
        Gets the sub-folders left out of a recursive listing, each ``"NAME/: why"``: those
        that cannot be listed, and links to folders outside the folder given.

    Returns
    -------
    list of InputItem
        Possibly empty: a folder without images is the caller's to report.

    Raises
    ------
    InputError
        If an input does not exist, a folder cannot be listed or an array has the wrong shape.
    """
    items: list[InputItem] = []
    for given in inputs:
        shown = display_name(os.fspath(given))
        path = Path(given)
        if path.is_dir():
            try:
                left_out: list[str] = []
                files = _scan_folder(path, recursive, left_out)
            except OSError as exc:
                raise InputError(f"{shown}: cannot list folder ({reason(exc)})") from None
            if skipped is not None:
                skipped.extend(os.path.join(shown, entry) for entry in sorted(left_out))
            items.extend(InputItem(display_name(rel), path / rel) for rel in files)
        elif not path.exists():
            raise InputError(f"{shown}: no such file or folder")
        elif array_format(path):
            items.extend(InputItem(f"{shown}:{i}", path, i) for i in range(array_rows(path)))
        else:
            items.append(InputItem(shown, path))
    return items


def load_item(item: InputItem, require_digits: bool = True) -> np.ndarray:
    """Read one item as uint8 (40, 168), white on black.

    Parameters
    ----------
    item : InputItem
    require_digits : bool
        Refuse an image with no digits in it (blank, uniform, noise, specks, stripes:
        ``core.inputs.no_digits``), which a model would read as some sum, often with confidence.
        On for prediction (the decoders call this); training data and thumbnails pass False.

    Raises
    ------
    ImageReadError
        For anything unreadable or without digits; ``str()`` is a one-line reason for the error row.
    """
    if item.index is None:
        image = read_image(item.path)
    else:
        try:
            arr, scale = open_array(item.path)
            row = np.array(arr[item.index])  # copy: the result must not pin the memory map
        except Exception as exc:  # any failure of one row is that row's error, as for an image file
            raise ImageReadError(f"cannot read row {item.index}: {exception_line(exc)}") from None
        reason = out_of_range(row, scale)  # an inf or a 256 spoils its own row, not the file's scale
        if reason:
            raise ImageReadError(reason)
        image = to_model_input(row, scale=scale)
    reason = no_digits_reason(image) if require_digits else ""
    if reason:
        raise ImageReadError(reason)
    return image


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
    images: list[np.ndarray] = []
    sums: list[int] = []
    digits: list[list[int]] = []
    names: list[str] = []
    skipped: list[str] = []
    if path.is_dir():
        labels = read_labels_csv(path / "labels.csv") if (path / "labels.csv").is_file() else None
        if labels is None:
            raise InputError(f"{spec}: no labels.csv in this folder")
        for name, (total, known) in labels.items():
            rel = Path(name)
            if rel.is_absolute() or ".." in rel.parts:  # a shared labels.csv must not read elsewhere
                skipped.append(f"{name}: outside the data folder")
                continue
            try:
                item = InputItem(name, named_file(path, name))
                images.append(load_item(item, require_digits=False))  # the user's label decides
            except ImageReadError as exc:
                skipped.append(f"{name}: {exc}")
                continue
            sums.append(total)
            digits.append([int(c) for c in known] if known else [-1] * NUM_DIGITS)
            names.append(name)
    elif path.is_file() and array_format(path):
        n = array_rows(path)
        twin = label_twin(path)
        labels = read_array_labels(twin)
        if len(labels) != n:
            raise InputError(f"{path.name} has {n} images but {twin.name} has {len(labels)} sums")
        for i in range(n):
            item = InputItem(f"{os.fspath(spec)}:{i}", path, i)
            try:
                images.append(load_item(item, require_digits=False))
            except ImageReadError as exc:
                skipped.append(f"{item.name}: {exc}")
                continue
            sums.append(int(labels[i]))
            digits.append([-1] * NUM_DIGITS)
            names.append(item.name)
    elif path.exists():
        raise InputError(f"{spec}: expected a folder with labels.csv or an {' or '.join(ARRAY_FORMATS)} data file")
    else:
        raise InputError(f"{spec}: no such file or folder")
    if not images:
        detail = f" (none of {len(skipped)} could be read: {skipped_names(skipped)})" if skipped else ""
        raise InputError(f"{spec}: no readable labelled images{detail}")
    if skipped:
        total = len(skipped) + len(images)
        warnings.warn(
            SkippedFilesWarning(
                f"{spec}: {len(skipped)} of {total} labelled files could not be read and "
                f"are left out: {skipped_names(skipped)}"
            ),
            stacklevel=2,
        )
    return LabelledSet(
        images=np.stack(images),
        sums=np.asarray(sums, dtype=np.int64),
        digits=np.asarray(digits, dtype=np.int64).reshape(-1, 4),
        names=names,
        skipped=skipped,
    )


def labelled_count(spec: str | os.PathLike) -> int:
    """Images a ``--data`` spec holds, without reading them: a folder's ``labels.csv`` rows or an array's rows.

    0 when the spec cannot be read (a form counting as the user types; training says why).
    """
    path = Path(spec)
    try:
        if path.is_dir():
            return len(read_labels_csv(path / "labels.csv"))
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
