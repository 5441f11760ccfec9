"""The digit bank: single MNIST digits with their labels and writers, read from any source.

A bank is read from a ``.npz``, torchvision's MNIST folder or IDX files (:func:`load_bank`);
:meth:`DigitBank.subset` keeps its digits apart by writer (``core.synth.splits``).
``core.synth.composer`` composes four-digit images from a bank.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from core import RESOURCES
from core.errors import DigitsumError
from core.files import require_regular
from core.synth.splits import SPLITS, split_indices, writer_split

BUNDLED_BANK = RESOURCES / "digit-bank.npz"


class BankError(DigitsumError, ValueError):
    """A digit bank that cannot be read."""


@dataclass
class DigitBank:
    """Single digits, uint8 (N, 28, 28) white on black, with labels (N,) and MNIST indices.

    ``writer`` holds each digit's NIST writer ID where the source gives it (else ``None``);
    :meth:`subset` then splits by writer, otherwise by MNIST index. ``stranger`` marks each
    digit by one of MNIST's *test* writers (``None``: none is): they are for held-out figures
    only (``subset("holdout")``) and never train (``core.train.datasets.split_bank``).
    """

    x: np.ndarray
    y: np.ndarray
    index: np.ndarray
    writer: np.ndarray | None = None
    stranger: np.ndarray | None = None

    @property
    def strangers(self) -> bool:
        """Whether any digit is by one of MNIST's test writers."""
        return self.stranger is not None and bool(self.stranger.any())

    @property
    def split_by(self) -> str:
        """``"writer"`` or ``"index"``: how :meth:`subset` keeps splits apart."""
        return "index" if self.writer is None else "writer"

    def take(self, keep: np.ndarray) -> DigitBank:
        """The digits selected by a boolean mask or index array."""
        return DigitBank(
            self.x[keep],
            self.y[keep],
            self.index[keep],
            None if self.writer is None else self.writer[keep],
            None if self.stranger is None else self.stranger[keep],
        )

    def subset(self, split: str) -> DigitBank:
        """The digits of one split ("train", "val", "holdout" or "all"), by writer where known."""
        if split == "all":
            return self
        if split not in SPLITS:
            raise BankError(f"unknown split {split!r}; choose from {SPLITS}")
        if split == "holdout" and self.strangers:
            keep = self.stranger  # MNIST's test writers: strangers to every training digit
        else:
            if self.writer is not None:
                keep = writer_split(self.writer) == split
            else:
                keep = np.isin(self.index, split_indices()[split])
            if self.stranger is not None:
                keep &= ~self.stranger  # a stranger's digit is never on a training writer's side
        if not keep.any():
            raise BankError(f"this digit bank holds no '{split}' digits")
        return self.take(keep)


def _read_idx(path: Path) -> np.ndarray:
    require_regular(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise BankError(f"{path.name}: not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for sub in ("", "raw", "MNIST/raw"):
        for name in (stem, stem + ".gz"):
            if (folder / sub / name).is_file():
                return folder / sub / name
    return None


def writers_beside(path: Path) -> Path:
    """Where the writer IDs of an ``.npz`` bank may lie: ``NAME-writers.npz`` beside it."""
    return path.with_name(path.stem + "-writers.npz")


def _read_writers(path: Path, count: int) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        writer = z["writer"]
    if writer.shape != (count,) or writer.dtype.kind not in "iu":
        raise BankError(
            f"{path.name}: expected {count} integer writer IDs, one per digit, got {writer.shape} {writer.dtype}"
        )
    return writer


class _BankArrays(NamedTuple):
    """A bank's arrays as its source holds them, before they are checked and given the bank's dtypes."""

    x: np.ndarray
    y: np.ndarray
    index: np.ndarray
    writer: np.ndarray | None = None
    stranger: np.ndarray | None = None


def load_bank(path: str | Path | None = None) -> DigitBank:
    """Load single digits from a ``.npz`` (``x``, ``y``), torchvision's MNIST folder, or IDX files.

    Parameters
    ----------
    path : str or Path, optional
        ``.npz`` file; a folder holding ``train-images-idx3-ubyte`` (torchvision's ``MNIST``
        root, its ``raw`` folder, or any folder with the IDX files); or the images IDX file
        itself. ``None`` loads the small bank bundled in ``resources/``. Writer IDs come from
        a ``writer`` array in the ``.npz`` or, failing that, from ``NAME-writers.npz`` beside
        it (aligned row by row); other sources have none, and their splits go by index.

    Raises
    ------
    BankError
        Unreadable, malformed, empty, or labels that are not whole numbers 0..9 (one line
        naming the source).
    """
    path = Path(path) if path is not None else BUNDLED_BANK
    arrays = _read_source(path)
    _check_shapes(path, arrays)
    _check_labels(path, arrays.y)
    return _as_bank(arrays)


def _read_source(path: Path) -> _BankArrays:
    """The arrays of a ``.npz`` bank or of MNIST's IDX files; any failure to read them a ``BankError``."""
    try:
        require_regular(path)  # a named pipe would wait forever
        return _read_npz_bank(path) if path.suffix == ".npz" else _read_idx_bank(path)
    except (OSError, KeyError, ValueError, struct.error) as exc:
        if isinstance(exc, BankError):
            raise
        raise BankError(f"{path}: cannot read digits ({exc})") from None


def _read_npz_bank(path: Path) -> _BankArrays:
    """``x`` and ``y``, and where present ``index``, ``writer`` (or ``NAME-writers.npz``) and ``stranger``."""
    with np.load(path, allow_pickle=False) as z:
        x, y = z["x"], z["y"]
        index = z["index"] if "index" in z.files else np.arange(len(y))
        writer = z["writer"] if "writer" in z.files else None
        # one flag for the bank or one per digit: by MNIST's test writers
        stranger = np.broadcast_to(z["stranger"], y.shape).astype(bool) if "stranger" in z.files else None
    if writer is None and writers_beside(path).is_file():
        writer = _read_writers(writers_beside(path), len(y))
    return _BankArrays(x, y, index, writer, stranger)


def _read_idx_bank(path: Path) -> _BankArrays:
    """MNIST's training images and labels as IDX files: ``path`` is the images file or a folder holding it."""
    images = path if path.is_file() else _find_idx(path, "train-images-idx3-ubyte")
    if images is None:
        raise BankError(f"{path}: no .npz and no MNIST IDX files found")
    labels = images.parent / images.name.replace("images-idx3", "labels-idx1")
    x, y = _read_idx(images), _read_idx(labels)
    return _BankArrays(x, y, np.arange(len(y)))


def _check_shapes(path: Path, arrays: _BankArrays) -> None:
    """Refuse digits that are not uint8 28x28, one per label, or writer IDs that are not one integer per digit."""
    x, y, writer = arrays.x, arrays.y, arrays.writer
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y) or x.dtype != np.uint8:
        raise BankError(f"{path}: expected uint8 digits of shape (N, 28, 28) and N labels")
    if writer is not None and (writer.shape != y.shape or writer.dtype.kind not in "iu"):
        raise BankError(f"{path}: expected one integer writer ID per digit")


def _check_labels(path: Path, y: np.ndarray) -> None:
    """Refuse a bank that can compose nothing true: no digits, or labels that are not whole numbers 0..9."""
    # a label of 12 would surface as an index error deep inside a loss, 0.5 would be truncated
    # to 0 by the cast in _as_bank
    if len(y) == 0:
        raise BankError(f"{path}: the digit bank holds no digits")
    if y.dtype.kind not in "iu":
        raise BankError(f"{path}: digit labels must be whole numbers 0..9, got dtype {y.dtype}")
    bad = (y < 0) | (y > 9)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise BankError(
            f"{path}: digit labels must be 0..9, got {int(y[first])} at index {first} "
            f"({int(bad.sum())} of {len(y)} outside)"
        )


def _as_bank(arrays: _BankArrays) -> DigitBank:
    """The checked arrays in the bank's own layout: contiguous uint8 digits, int64 labels, indices and writers."""
    return DigitBank(
        np.ascontiguousarray(arrays.x),
        arrays.y.astype(np.int64),
        arrays.index.astype(np.int64),
        None if arrays.writer is None else arrays.writer.astype(np.int64),
        None if arrays.stranger is None else np.ascontiguousarray(arrays.stranger),
    )
