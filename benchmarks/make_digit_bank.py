"""Remake the bundled ``resources/digit-bank.npz``: strangers to measure on, training writers to train on.

    python benchmarks/make_digit_bank.py ../shared/data/mnist-train.npz ../shared/data/mnist-test-public.npz

The bank holds every digit of the *report* half of MNIST's public test writers
(``core.synth.splits.stranger_half``; writers no training digit comes from), marked ``stranger``, so
that ``digitsum synth OUT --count 10000 --seed 1`` from a fresh clone writes the images the
model card's stranger figures were measured on; and seeded samples of the training writers'
digits (validation and training sides of ``core.synth.splits.writer_split``), for what the Retrain
dialog and ``digitsum train`` compose without ``--mnist`` (``core.train.datasets.split_bank`` never
lets them use a stranger's digit). Each digit keeps its MNIST index (a test digit: 60,000 + its
row in the public test file) and writer ID. Digits from MNIST (LeCun, Cortes, Burges; CC BY-SA
3.0), writers from QMNIST (Yadav and Bottou; BSD): see resources/DATA_NOTICE.md.

    python benchmarks/make_digit_bank.py ../shared/data/mnist-train.npz ../shared/data/mnist-test-public.npz \
        --selection .data/strangers-select.npz

writes instead the *selection* half, every digit of it: the ``--val-digits`` of a fine-tune and
the bank of every selection figure in the model card (SELECTION.npz there).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from core.synth.bank import BUNDLED_BANK, DigitBank, load_bank
from core.synth.splits import stranger_half, writer_split

MNIST_TRAIN_SIZE = 60000  # test digits are indexed after the training digits


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mnist", help="mnist-train.npz with mnist-train-writers.npz beside it")
    p.add_argument("strangers", help="mnist-test-public.npz with mnist-test-public-writers.npz beside it")
    p.add_argument("--val", type=int, default=2000, help="validation writers' digits to keep (default: 2000)")
    p.add_argument("--train", type=int, default=6000, help="training writers' digits to keep (default: 6000)")
    p.add_argument("--out", default=str(BUNDLED_BANK), help="where to write (default: the bundled bank)")
    p.add_argument("--selection", metavar="PATH", help="write the selection half's digits to PATH instead")
    args = p.parse_args()
    bank, test = load_bank(args.mnist), load_bank(args.strangers)
    if bank.writer is None or test.writer is None:
        sys.exit("both banks need their writer IDs (NAME-writers.npz beside each)")
    if args.selection:
        _save_selection(test.take(stranger_half(test.writer) == "select"), args.selection)
        return
    report = test.take(stranger_half(test.writer) == "report")
    side = writer_split(bank.writer)
    rng = np.random.default_rng(0)
    keep = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(side == split), size=min(count, int((side == split).sum())), replace=False)
                for split, count in (("val", args.val), ("train", args.train))
            ]
        )
    )
    own = bank.take(keep)
    np.savez_compressed(
        args.out,
        x=np.concatenate([report.x, own.x]),
        y=np.concatenate([report.y, own.y]).astype(np.uint8),
        index=np.concatenate([report.index + MNIST_TRAIN_SIZE, own.index]).astype(np.int32),
        writer=np.concatenate([report.writer, own.writer]).astype(np.int16),
        stranger=np.concatenate([np.ones(len(report.y), bool), np.zeros(len(own.y), bool)]),
    )
    print(
        f"wrote {len(report.y) + len(own.y)} digits to {args.out}: {len(report.y)} by "
        f"{len(np.unique(report.writer))} stranger writers (report half), {len(own.y)} by training writers"
    )


def _save_selection(select: DigitBank, path: str) -> None:
    """The selection half as a bank of its own: all strangers, indexed by their row in the public test file."""
    y, writer = select.y.astype(np.uint8), select.writer.astype(np.int16)
    np.savez_compressed(path, x=select.x, y=y, writer=writer, index=select.index, stranger=True)
    print(f"wrote {len(y)} digits by {len(np.unique(writer))} stranger writers (selection half) to {path}")


if __name__ == "__main__":
    main()
