"""A training run's data, checked, with everything left out said out loud.

``core.train.datasets.TrainData`` builds the data; this adds what a run must refuse or report
before it trains on it:

- labelled files that could not be read (``core.labels.labelled_set.SkippedFilesWarning``): one note per
  data set with the count and the first few names;
- no training images at all (``--val-fraction 1`` with labelled files only), or too few to give
  every process of a ``torchrun`` at least one.

    data = load_training_data(args, ctx)  # in core.train.script.main, after seeding
"""

from __future__ import annotations

import sys
import warnings

from core.labels.labelled_set import SkippedFilesWarning
from core.train.datasets import DataSpecError, TrainData


def load_training_data(args, ctx) -> TrainData:
    """``TrainData`` for ``args`` (this rank's share), with the checks above; notes go to stderr on rank 0.

    Raises
    ------
    core.train.datasets.DataSpecError
        A digit bank that cannot train anything (``core.synth.bank.load_bank`` says why), no
        training images, or none for some process.
    """
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
            touch=args.touch,
            val_digits=args.val_digits,
            val_blurred=args.val_blurred,
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
    if data.rank_share()[1] == 0:  # every rank finds the same: they all stop here
        raise DataSpecError(
            f"only {data.train_size} training image{'s' * (data.train_size != 1)} for {ctx.world} processes: "
            "each process needs at least one; add data or start fewer processes"
        )
    return data
