"""Do two models' readings of one labelled folder find the first model's wrong sums better than its confidence?

    digitsum synth /tmp/sel-synth --count 5000 --seed 2 --mnist SELECTION.npz        # and --layout grid, touch
    digitsum predict /tmp/sel-synth -o a.csv                                         # the default model
    digitsum predict /tmp/sel-synth -o b.csv --model OTHER.safetensors               # a second reader
    python benchmarks/doubtful_two_readers.py /tmp/sel-synth a.csv b.csv

Issue #22 asks that the doubtful rows hold 90% of the wrong sums while flagging at most 3% of
rows. This prints, for the 2%, 3% and 5% of rows each score ranks most doubtful, the share of
model A's wrong sums among them: A's own confidence, and the two readers together (a row the
two read as different sums first, then the lower of the two confidences). With
``--consult-below T`` the second reader is asked only about rows A reads below confidence T,
as a second look would be, and the share of rows it reads is printed too. Select on the
selection half of MNIST's test writers only.
"""

import argparse
import csv
import sys
from pathlib import Path

SHARES = (0.02, 0.03, 0.05)


def read_predictions(path: Path) -> dict[str, tuple[str, float]]:
    """``{file: (predicted_sum, confidence)}`` of a ``digitsum predict`` CSV (error rows: confidence 0)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["file"]: (r["predicted_sum"], float(r["confidence"] or 0)) for r in csv.DictReader(f)}


def caught(truth: dict[str, str], wrong: set[str], score, share: float) -> float:
    """The share of ``wrong`` among the ``share`` of rows with the lowest ``score``."""
    flagged = sorted(truth, key=score)[: int(share * len(truth))]
    return sum(f in wrong for f in flagged) / max(len(wrong), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="the labelled folder both CSVs read (its labels.csv)")
    p.add_argument("a", type=Path, help="model A's digitsum predict CSV: the model whose wrong sums are sought")
    p.add_argument("b", type=Path, help="model B's digitsum predict CSV: the second reader")
    p.add_argument("--consult-below", type=float, default=1.0, help="ask B only below this A confidence (default: 1)")
    args = p.parse_args()
    with open(args.folder / "labels.csv", encoding="utf-8-sig", newline="") as f:
        truth = {r["filename"]: r["sum"] for r in csv.DictReader(f)}
    a, b = read_predictions(args.a), read_predictions(args.b)
    missing = [f for f in truth if f not in a or f not in b]
    if missing:
        sys.exit(f"doubtful_two_readers: {len(missing)} labelled files are not in both CSVs, e.g. {missing[0]}")
    wrong = {f for f in truth if a[f][0] != truth[f]}
    consulted = {f for f in truth if a[f][1] < args.consult_below}

    def together(f: str) -> float:
        if f not in consulted:
            return a[f][1]
        return min(a[f][1], b[f][1]) if a[f][0] == b[f][0] else -1.0  # (read as different sums: first)

    print(
        f"{args.folder}: {len(truth):,} rows, A wrong on {len(wrong)}; "
        f"B asked about {len(consulted) / len(truth):.1%} of rows, reads {sum(a[f][0] != b[f][0] for f in truth)} "
        "rows as another sum"
    )
    for share in SHARES:
        alone, both = caught(truth, wrong, lambda f: a[f][1], share), caught(truth, wrong, together, share)
        print(f"  most doubtful {share:.0%} of rows: A's confidence {alone:.1%} of A's wrong sums, with B {both:.1%}")


if __name__ == "__main__":
    main()
