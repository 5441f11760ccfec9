"""The terminal progress bar of every long command-line job: predict, evaluate, synth, train."""

from __future__ import annotations

import sys

BAR_ENV = "DIGITSUM_PROGRESS_BAR"  # "1": draw bars on a pipe or file too


def progress_bar(total: int, unit: str, quiet: bool = False, initial: int = 0):
    """The tqdm bar of every long command-line job, on stderr, drawn only on a terminal.

    Redirected to a file (``2>log``), a bar is a stream of carriage returns, so there it is
    off; the lines written through it (``bar.write(..., file=sys.stderr)``) and the summary
    after it still go out. ``DIGITSUM_PROGRESS_BAR=1`` draws it anyway (a program that reads
    the bar through a pipe); ``quiet`` turns it off everywhere.
    """
    import os

    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit=unit,
        file=sys.stderr,
        dynamic_ncols=True,
        disable=quiet or not (sys.stderr.isatty() or os.environ.get(BAR_ENV) == "1"),
    )
