"""``digitsum predict``: the sums of the inputs, as the prediction CSV on stdout or in a file."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from typing import TYPE_CHECKING

from core.cli.prediction_run import PredictionRun, add_run_arguments, refuse_nonfinite
from core.errors import CommandError

if TYPE_CHECKING:  # named only: a command imports what it runs when it runs
    from core.inputs.listing import InputItem
    from core.predict.rows import RunStats


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    """The ``predict`` sub-command: a run's options, then where the CSV goes."""
    p = sub.add_parser("predict", help="predict sums, write a CSV")
    add_run_arguments(p)
    p.add_argument("--output", "-o", default="-", help="CSV file, or - for stdout (default: -)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (default: off)")


def cmd_predict(args: argparse.Namespace) -> int:
    """Write the prediction CSV of ``args.inputs``; returns the exit status.

    Raises
    ------
    core.errors.CommandError
        No inputs, an output that may not be written, or a model that failed (after the rows
        it gave are written) or gave NaN.
    """
    from core.files import descriptor_named
    from core.predict.prediction_csv import check_output_target, write_predictions_csv

    if sys.stdout is None and (args.output == "-" or descriptor_named(args.output) == 1):
        raise CommandError("stdout is closed (>&-): name a CSV file with --output")

    def refuse_unsafe_output(items):  # before the model loads: a refused output costs no work
        if args.output != "-":
            check_output_target(args.output, _run_inputs(args, items))

    run = PredictionRun(args, refuse_unsafe_output)
    rows = run.rows()
    first = next(rows, None)  # start the run: a rank other than 0 writes nothing
    if not run.is_main:
        for _ in rows:
            pass
        return 0
    if first is None and run.failure:
        raise CommandError(run.failure)  # failed before its first row: an older CSV stays as it was
    stream = itertools.chain([] if first is None else [first], rows)
    write_predictions_csv(stream, sys.stdout if args.output == "-" else args.output)
    _summary(run.stats)
    if run.failure:
        raise CommandError(run.failure)
    refuse_nonfinite(run.stats)
    return 0


def _run_inputs(args: argparse.Namespace, items: list[InputItem]) -> list[str]:
    """The files a run reads (images, arrays, the model): its output may replace none of them."""
    from core.models.store import DEFAULT_MODEL

    return [*dict.fromkeys(os.fspath(item.path) for item in items), os.fspath(args.model or DEFAULT_MODEL)]


def _summary(stats: RunStats) -> None:
    """The line on stderr after the CSV: how many inputs were predicted, unreadable or NaN, and how fast."""
    ok = stats.done - stats.errors
    count = f"{stats.done}" if stats.done == stats.total else f"{stats.done} of {stats.total}"
    bad = f", {stats.nonfinite} without a number (NaN model output)" if stats.nonfinite else ""
    msg = (
        f"{count} inputs: {ok} predicted, {stats.errors - stats.nonfinite} unreadable{bad} "
        f"({stats.images_per_s:.0f} images/s)"
    )
    print(msg, file=sys.stderr)
