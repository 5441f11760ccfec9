"""Array input formats: the assignment's ``dataN.npy`` image arrays with ``labN.npy`` sums beside them.

A new format is one ``ArrayFormat`` entry in ``ARRAY_FORMATS`` and its ``load`` function,
both here. Everything that handles array files asks this module: listing and reading inputs
(``core.inputs.listing.list_inputs``, ``load_item``), labelled sets (``core.labels.labels_csv``:
``load_labelled``, ``labelled_count``), evaluate's truth (``read_truth``), the Retrain form's file dialog and
the guard that keeps a prediction CSV from replacing a labels file (``core.predict.prediction_csv``).

Torch-free and Qt-free; imports neither ``core.inputs.listing`` nor ``core.predict.prediction_csv``,
which both import it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError, exception_line
from core.files import require_regular
from core.inputs.images import value_scale
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, MAX_SUM


@dataclass(frozen=True)
class ArrayFormat:
    """One file format that holds images as an array of shape (N, 40, 168), and sums as (N,).

    Attributes
    ----------
    suffix : str
        The extension, lower case with its dot (``".npy"``); also the format's key in
        ``ARRAY_FORMATS``. Files are matched to it case-insensitively.
    data_name, labels_name : str
        The assignment's names, ``{}`` standing for the part they share (``"data{}.npy"``,
        ``"lab{}.npy"``): ``label_twin`` finds ``lab0.npy`` beside ``data0.npy``, and no
        prediction CSV replaces a file named like ``labels_name``.
    load : callable
        ``load(path, mmap=...)`` -> the file's one array, memory-mapped when ``mmap`` is true
        and the format allows (a large array is read a row at a time). Reads both image and
        labels files; may raise anything for a file it cannot read (callers turn it into
        one line), and may return something that is not an ``np.ndarray`` for a file that
        holds several arrays (refused as "not a single ... array").
    """

    suffix: str
    data_name: str
    labels_name: str
    load: Callable[..., np.ndarray]


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    require_regular(path)  # a named pipe would wait forever
    # allow_pickle=False: an array from elsewhere must not run code when it is opened.
    # over="raise": a header claiming 2**62 rows overflows numpy's size sum, which would warn
    # with numpy's source line before failing; an error here is the caller's one line
    # (errstate is per thread, unlike warnings filters)
    with np.errstate(over="raise"):
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


ARRAY_FORMATS: dict[str, ArrayFormat] = {
    ".npy": ArrayFormat(suffix=".npy", data_name="data{}.npy", labels_name="lab{}.npy", load=_load_npy),
}


@functools.cache
def _name_pattern(template: str) -> re.Pattern:
    """``"data{}.npy"`` -> a pattern matching ``data0.npy``, ``DATA_train.NPY``, ... with ``{}`` as its group."""
    # case-insensitive, as files were always matched (a DATA0.NPY from a Windows share)
    return re.compile("(.*)".join(re.escape(part) for part in template.split("{}")), re.IGNORECASE)


def array_format(path: str | os.PathLike) -> ArrayFormat | None:
    """The format of an array file, by its extension (any case); None for anything else."""
    return ARRAY_FORMATS.get(Path(path).suffix.lower())


def _format_of(path: Path) -> ArrayFormat:
    fmt = array_format(path)
    if fmt is None:
        raise InputError(f"{path}: not an array file (expected {' or '.join(ARRAY_FORMATS)})")
    return fmt


def array_rows(path: str | os.PathLike) -> int:
    """Number of images in an array file, read from its header where the format allows.

    Raises
    ------
    InputError
        If the file cannot be read, holds more than one array, or is not (N, 40, 168) numbers.
    """
    path = Path(path)
    fmt = _format_of(path)
    try:
        arr = fmt.load(path, mmap=True)
    except Exception as exc:  # a mangled header raises anything (tokenize.TokenError, SyntaxError, ...)
        raise InputError(f"{path}: not a readable {fmt.suffix} array ({exception_line(exc)})") from None
    if not isinstance(arr, np.ndarray):  # an .npz archive renamed to .npy
        raise InputError(f"{path}: not a single {fmt.suffix} array")
    if arr.ndim != 3 or arr.shape[1:] != (IMAGE_HEIGHT, IMAGE_WIDTH):
        raise InputError(f"{path}: expected shape (N, {IMAGE_HEIGHT}, {IMAGE_WIDTH}), got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{path}: expected numbers (uint8 or float), got dtype {arr.dtype}")
    return arr.shape[0]


def open_array(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """The images of an array file (memory-mapped where the format allows) and their white value.

    Computed once per version of the file: the decoders read one row per call, and the white
    value (``core.inputs.images.value_scale``) is decided over the whole array, not per row.
    """
    st = os.stat(path)
    return _open_array(os.fspath(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _open_array(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, float]:
    # mtime_ns and size are only part of the key: a file rewritten between runs in the same
    # GUI session gets a fresh map instead of stale pixels
    arr = _format_of(Path(path)).load(Path(path), mmap=True)
    return arr, value_scale(arr)


def label_twin(data_path: str | os.PathLike) -> Path:
    """The labels beside an assignment data file: ``data0.npy`` -> ``lab0.npy``.

    Raises
    ------
    InputError
        If the name is not like ``data0.npy`` or its twin is not there.
    """
    data_path = Path(data_path)
    fmt = array_format(data_path)
    match = _name_pattern(fmt.data_name).fullmatch(data_path.name) if fmt else None
    if match is None:
        like = " or ".join(
            f"{f.data_name.format(0)} with {f.labels_name.format(0)}"
            for f in ([fmt] if fmt else ARRAY_FORMATS.values())
        )
        raise InputError(f"{data_path.name}: cannot find its labels: expected a name like {like} beside it")
    twin = data_path.with_name(fmt.labels_name.format(match.group(1)))
    if not twin.is_file():
        raise InputError(f"{data_path.name}: label file {twin.name} not found beside it")
    return twin


def read_array_labels(path: str | os.PathLike) -> np.ndarray:
    """Sums from a labels array file (``lab0.npy``) as int64 (N,), checked to be whole numbers 0..36.

    Raises
    ------
    InputError
        If the file cannot be read or does not hold such sums; (N, 1) is taken as (N,).
    """
    path = Path(path)
    fmt = _format_of(path)
    try:
        raw = fmt.load(path, mmap=False)
    except Exception as exc:  # as array_rows: a mangled file raises anything
        raise InputError(f"{path.name}: not a readable {fmt.suffix} array ({exception_line(exc)})") from None
    if not isinstance(raw, np.ndarray) or raw.dtype.kind not in "iuf":
        raise InputError(f"{path.name}: expected an array of sums")
    sums = raw.reshape(-1) if raw.ndim == 2 and raw.shape[1] == 1 else raw
    if sums.ndim != 1:
        raise InputError(f"{path.name}: expected shape (N,), got {raw.shape}")
    if sums.size and (
        not np.isfinite(sums).all() or (sums != np.round(sums)).any() or sums.min() < 0 or sums.max() > MAX_SUM
    ):
        raise InputError(f"{path.name}: sums must be whole numbers 0..{MAX_SUM}")
    return sums.astype(np.int64)


def is_labels_name(name: str) -> bool:
    """Whether a file called ``name`` is a labels file by its name: ``labels.csv``, ``lab0.npy``, ... (any case)."""
    templates = ("labels.csv", *(f.labels_name for f in ARRAY_FORMATS.values()))  # a folder's, then the arrays'
    return any(_name_pattern(t).fullmatch(name) for t in templates)
