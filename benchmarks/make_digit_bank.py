"""Remake the bundled ``resources/digit-bank.npz`` from the MNIST training digits and their writers.

    python benchmarks/make_digit_bank.py ../shared/data/mnist-train.npz

The bank holds every digit of the held-out writers (so ``digitsum synth OUT --count 10000
--seed 1`` from a fresh clone writes the model card's held-out images, byte for byte the
ones ``--split holdout --mnist mnist-train.npz`` writes) and seeded samples of the validation
and training writers' digits, for what the Retrain dialog and ``digitsum train`` compose
without ``--mnist`` (``core.trainsets.split_bank`` never lets them use a held-out writer).
Each digit keeps its MNIST index and writer ID.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from core.synth import BUNDLED_BANK, load_bank, writer_split


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mnist", help="mnist-train.npz with mnist-train-writers.npz beside it")
    p.add_argument("--val", type=int, default=2000, help="validation writers' digits to keep (default: 2000)")
    p.add_argument("--train", type=int, default=6000, help="training writers' digits to keep (default: 6000)")
    p.add_argument("--out", default=str(BUNDLED_BANK), help="where to write (default: the bundled bank)")
    args = p.parse_args()
    bank = load_bank(args.mnist)
    if bank.writer is None:
        sys.exit(f"{args.mnist}: no writer IDs, so no split by writer to bundle")
    side = writer_split(bank.writer)
    rng = np.random.default_rng(0)
    keep = [np.flatnonzero(side == "holdout")]
    for split, count in (("val", args.val), ("train", args.train)):
        pool = np.flatnonzero(side == split)
        keep.append(rng.choice(pool, size=min(count, len(pool)), replace=False))
    keep = np.sort(np.concatenate(keep))
    sub = bank.take(keep)
    np.savez_compressed(
        args.out,
        x=sub.x,
        y=sub.y.astype(np.uint8),
        index=sub.index.astype(np.int32),
        writer=sub.writer.astype(np.int16),
    )
    counts = {s: int((writer_split(sub.writer) == s).sum()) for s in ("train", "val", "holdout")}
    print(f"wrote {len(keep)} digits to {args.out}: {counts}")


if __name__ == "__main__":
    main()
