"""Where a model fails on a labelled folder: digit confusions, positions, confidence of errors.

    python benchmarks/failure_analysis.py /tmp/heldout [--model M] [--count 10000]

The last table says how useful "sort by confidence" is in the app: how many wrong sums sit
below a confidence threshold, and how many right ones a person would review to find them.
"""

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.inputs.listing import list_inputs
from core.labels.labels_csv import read_labels_csv
from core.predict.predictor import Predictor


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--model", default=None)
    p.add_argument("--count", type=int, default=None)
    args = p.parse_args()
    labels = read_labels_csv(Path(args.folder) / "labels.csv")
    items = [i for i in list_inputs([args.folder]) if i.name in labels][: args.count]
    rows = [r for batch in Predictor(args.model).predict(items) for r in batch]
    confusions, positions = collections.Counter(), collections.Counter()
    wrong = []
    for r in rows:
        true_sum, true_digits = labels[r.file]
        if r.predicted_sum != true_sum:
            wrong.append(r)
        if true_digits and r.digits:
            for k, (t, d) in enumerate(zip(true_digits, r.digits, strict=True)):
                if t != d:
                    confusions[(t, d)] += 1
                    positions[k + 1] += 1
    n = len(rows)
    print(f"{n} images, {len(wrong)} wrong sums ({1 - len(wrong) / n:.4%} right)")
    print(
        "most frequent digit confusions (true -> read):",
        ", ".join(f"{t}->{d} x{c}" for (t, d), c in confusions.most_common(8)),
    )
    print("digit errors by position (1 = leftmost):", dict(sorted(positions.items())))
    print("| confidence below | wrong sums caught | rows to review |")
    print("|---|---|---|")
    for thr in (0.5, 0.8, 0.9, 0.99):
        caught = sum(r.confidence < thr for r in wrong)
        review = sum(r.confidence < thr for r in rows)
        print(f"| {thr} | {caught} of {len(wrong)} | {review} of {n} ({review / n:.1%}) |")


if __name__ == "__main__":
    main()
