"""A training run's data, checked, with everything left out said out loud.

``core.trainsets.TrainData`` builds the data; this adds what a run must refuse or report
before it trains on it:

- a digit bank (``--mnist``) that is empty or whose labels are not the digits 0..9 (a label
  of 12 would surface as an index error deep inside a loss, 0.5 would be truncated to 0);
- labelled files that could not be read (``core.data.SkippedFilesWarning``): one note per
  data set with the count and the first few names;
- no training images at all (``--val-fraction 1`` with labelled files only).

    data = load_training_data(args, ctx)  # in core.train.main, after seeding
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from core.data import SkippedFilesWarning
from core.synth import BankError, load_bank
from core.trainsets import DataSpecError, TrainData


def check_bank(path: str | Path | None):
    """Load the digit bank at ``path`` (None: the bundled one) and refuse one that cannot train anything.

    Returns
    -------
    core.synth.DigitBank

    Raises
    ------
    core.synth.BankError
        Unreadable, empty, labels that are not whole numbers 0..9 (one line naming the source).
    """
    bank = load_bank(path)
    source = path if path is not None else "the bundled digit bank"
    if len(bank.y) == 0:
        raise BankError(f"{source}: the digit bank holds no digits")
    if path is not None and Path(path).suffix == ".npz":
        # load_bank has cast the labels to int64 already: their own type is in the file
        with np.load(path, allow_pickle=False) as z:
            dtype = z["y"].dtype
        if dtype.kind not in "iu":
            raise BankError(f"{source}: digit labels must be whole numbers 0..9, got dtype {dtype}")
    bad = (bank.y < 0) | (bank.y > 9)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise BankError(
            f"{source}: digit labels must be 0..9, got {int(bank.y[first])} at index {first} "
            f"({int(bad.sum())} of {len(bank.y)} outside)"
        )
    return bank


def load_training_data(args, ctx) -> TrainData:
    """``TrainData`` for ``args`` (this rank's share), with the checks above; notes go to stderr on rank 0.

    Raises
    ------
    core.trainsets.DataSpecError
        A digit bank that cannot train anything, or no training images.
    """
    if any(spec.startswith("synthetic:") for spec in args.data):
        try:
            check_bank(args.mnist)
        except BankError as exc:
            raise DataSpecError(f"synthetic data: {exc}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedFilesWarning)
        data = TrainData(
            args.data,
            args.mnist,
            ctx.device,
            args.seed,
            args.val_fraction,
            args.val_size,
            ctx.rank,
            ctx.world,
            args.augment,
        )
    notes = list(data.notes)
    for w in caught:
        if issubclass(w.category, SkippedFilesWarning):
            notes.append(f"note: {w.message}")
        else:  # not ours: shown as it would have been
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    for note in notes if ctx.is_main else []:
        print(f"digitsum train: {note}", file=sys.stderr)
    if data.train_size == 0:  # e.g. --val-fraction 1 with labelled files only: every one went to validation
        held = 0 if data.val is None else len(data.val.sums)
        raise DataSpecError(
            f"no training images: --val-fraction {args.val_fraction:g} keeps all {held} labelled "
            "images for validation; lower it or add synthetic:N data"
        )
    return data
