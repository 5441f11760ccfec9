"""``digitsum evaluate``: the accuracy of a run against the true sums, as a table or one JSON object."""

from __future__ import annotations

import argparse
import json

from core.cli.prediction_run import PredictionRun, add_run_arguments, refuse_nonfinite
from core.errors import CommandError


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    """The ``evaluate`` sub-command: a run's options, then the labels it is scored against."""
    p = sub.add_parser("evaluate", help="accuracy against known sums")
    add_run_arguments(p)
    p.add_argument("--labels", required=True, help="labels.csv (filename,sum[,digits]) or lab*.npy")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (default: off)")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a run of ``args.inputs`` against ``args.labels`` and print the figures; returns the exit status.

    Raises
    ------
    core.errors.CommandError
        Labels that cannot be read or match no input, a model that failed or gave NaN.
    """
    from core.errors import InputError
    from core.labels.labelled_set import read_truth, truth_of_inputs
    from core.predict.rows import score

    try:
        truth = read_truth(args.labels, args.inputs)
    except (InputError, OSError) as exc:
        raise CommandError(str(exc)) from None
    matched: list = []  # (each input's label or None, labels naming no input), once listed

    def match_labels(items) -> None:  # before the model loads: an ambiguous match is refused at once
        try:
            matched[:] = truth_of_inputs(truth, items, args.labels)
        except InputError as exc:
            raise CommandError(str(exc)) from None

    run = PredictionRun(args, before_run=match_labels)
    rows = list(run.rows())
    if not run.is_main:
        return 0
    if run.failure:
        raise CommandError(run.failure)
    refuse_nonfinite(run.stats)  # a score over NaN rows would pass for a score of the model
    inputs_truth, without_input = matched
    result = score(rows, inputs_truth)
    if result["count"] == 0:
        raise CommandError("no input matched a label: check that --labels names the same files")
    result["labels_without_input"] = without_input  # not scored: said, not dropped
    if args.json:
        print(json.dumps(result))
    else:
        _print_figures(result)
    return 0


def _print_figures(result: dict) -> None:
    """The figures as a table for a person: accuracy, error, and what was not scored."""
    print(f"images evaluated   {result['count']}")
    print(f"accuracy (sum)     {result['accuracy']:.4f}")
    print(f"mean abs. error    {result['mae']:.4f}")
    if "digit_accuracy" in result:
        print(f"per-digit accuracy {result['digit_accuracy']:.4f}")
    if result["errors"] or result["unlabelled"]:
        print(f"unreadable {result['errors']}, without a label {result['unlabelled']}")
    if result["labels_without_input"]:
        print(f"labels naming no input {result['labels_without_input']} (not scored)")
