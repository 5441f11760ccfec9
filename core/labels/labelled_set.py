"""Labelled sets: the images a ``--data`` spec names, with their labels, as training and ``evaluate`` read them.

``load_labelled`` reads a whole labelled set for training: a folder with ``labels.csv``
(``core.labels.labels_csv``) or an assignment-style ``dataN.npy`` with its ``labN.npy`` twin
(``core.inputs.arrays``); ``labelled_count`` counts one without reading it, ``read_truth`` reads
``evaluate``'s labels and ``truth_of_inputs`` finds each listed input's. Images are read through
``core.inputs.listing``: this module imports the inputs, never the reverse.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputError, reason
from core.inputs.arrays import ARRAY_FORMATS, array_format, array_rows, label_twin, read_array_labels
from core.inputs.images import ImageReadError
from core.inputs.listing import InputItem, display_name, load_item, named_file, skipped_names
from core.labels.labels_csv import LABELS_NAME, read_labels_csv
from core.models.store import same_file
from core.spec import NUM_DIGITS


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


def load_labelled(spec: str | os.PathLike) -> LabelledSet:
    """Read a labelled set: a folder with ``labels.csv``, or an array ``dataN.npy`` with ``labN.npy``.

    Files listed in ``labels.csv`` that cannot be read are left out, named in ``skipped`` and
    reported with a ``SkippedFilesWarning`` (count and the first few names): a user's data is
    never dropped in silence.

    Raises
    ------
    InputError
        If the spec is neither, its labels are bad, or no labelled image could be read: one line
        that starts with ``spec``.
    """
    try:
        return _load_labelled(Path(spec), spec)
    except (InputError, OSError) as exc:
        text = str(exc) if isinstance(exc, InputError) else reason(exc)
        for named in (f"{os.fspath(spec)}: ", f"{Path(spec).name}: "):  # a reason that names it already
            text = text.removeprefix(named)
        raise InputError(f"{os.fspath(spec)}: {text}") from None


def _load_labelled(path: Path, spec: str | os.PathLike) -> LabelledSet:
    if path.is_dir():
        found = _read_labelled_folder(path)
    elif path.is_file() and array_format(path):
        found = _read_labelled_array(path, spec)
    elif path.exists():
        raise InputError(f"expected a folder with labels.csv or an {' or '.join(ARRAY_FORMATS)} data file")
    else:
        raise InputError("no such file or folder")
    skipped = found.skipped
    if not found.images:
        detail = f" (none of {len(skipped)} could be read: {skipped_names(skipped)})" if skipped else ""
        raise InputError(f"no readable labelled images{detail}")
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


def _read_labelled_folder(path: Path) -> _LabelledFound:
    """The images ``labels.csv`` names in folder ``path``, with their sums and digits; unreadable ones skipped."""
    labels = read_labels_csv(path / LABELS_NAME) if (path / LABELS_NAME).is_file() else None
    if labels is None:
        raise InputError("no labels.csv in this folder")
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
        stacklevel=4,  # this function, _load_labelled, load_labelled, its caller
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


def truth_of_inputs(truth: dict, items: Sequence[InputItem], labels: str | os.PathLike) -> tuple[list, int]:
    """The true label of each listed input (None where it has none), in the inputs' order, and
    how many of ``truth``'s labels name no input.

    A name in a labels file is the path of an image relative to the file's own folder (where a
    data folder keeps its ``labels.csv``, so images given one by one still find theirs); failing
    that, the name the image's row shows (labels kept elsewhere). An image in one folder is thus
    never scored against another folder's label of the same name.

    Raises
    ------
    InputError
        If one label would score two different files (two folders holding files of one name,
        labels kept elsewhere): which of them it belongs to cannot be told.
    """
    here = os.path.dirname(os.path.abspath(labels))
    scored: dict[str, InputItem] = {}  # the label's name -> the first input it scores
    out = []
    for item in items:
        key = _label_name(item, here, truth)
        if key is not None and key in scored and not same_file(scored[key].path, item.path):
            first, second = (display_name(os.fspath(i.path)) for i in (scored[key], item))
            raise InputError(
                f"{key} in {display_name(os.fspath(labels))} would score both {first} and {second}: "
                "evaluate them one at a time"
            )
        if key is not None:
            scored.setdefault(key, item)
        out.append(None if key is None else truth[key])
    return out, len(truth) - len(scored)


def _label_name(item: InputItem, here: str, truth: dict) -> str | None:
    """The name ``item`` has in ``truth``: relative to the labels' folder ``here``, else its row's name."""
    if item.index is None:  # (an array row is named NAME.npy:INDEX alone)
        path = Path(os.path.abspath(item.path))
        if path.is_relative_to(here):  # (never across Windows drives)
            relative = display_name(path.relative_to(here).as_posix())
            if relative in truth:
                return relative
    return item.name if item.name in truth else None
