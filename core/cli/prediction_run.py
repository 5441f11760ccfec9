"""One ``predict`` or ``evaluate`` run: the arguments both take, and the rows they give.

``add_run_arguments`` puts the inputs, model and device options on a command's parser;
``PredictionRun`` lists the inputs, loads the model and yields the rows in input order (on one
process, or gathered from torchrun's ranks); ``refuse_nonfinite`` ends a run whose model gave
NaN. Every module a run needs is imported when it runs: ``digitsum --help`` loads no numpy.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from core.argtypes import MAX_WORKERS, add_device_arguments, int_in
from core.errors import CommandError, exception_line
from core.spec import CROWDED_LOOK_BELOW, SECOND_LOOK_BELOW

if TYPE_CHECKING:  # named only: a command imports what it runs when it runs
    from core.devices import DistContext
    from core.inputs.listing import InputItem
    from core.predict.predictor import Predictor
    from core.predict.rows import PredictionRow, RunStats


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Put the options of a prediction run (inputs, model, device, batch, threads) on ``p``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The parser of ``predict`` or ``evaluate``.
    """
    # nargs="*" and our own check: "no input" is a one-line error with exit 1, like "no model"
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="folders, image files or (N,40,168) .npy arrays (one or more). An array's scale is decided "
        "per file: floats are 0..1 unless over 1%% of their non-zero values exceed 1 (then 0..255), "
        "integers 0..255 unless over 1%% exceed 255 (then 0..65535); a row with values outside its "
        "file's range, NaN or infinity is an error row of its own",
    )
    p.add_argument("--model", default=None, help="model file (default: the bundled resources/models model)")
    add_device_arguments(p)
    p.add_argument(
        "--workers",
        type=int_in(1, MAX_WORKERS),
        default=None,
        help=f"decoding threads, 1 to {MAX_WORKERS} (default: up to 4 CPU, 16 CUDA)",
    )
    p.add_argument(
        "--threads",
        type=int_in(1, MAX_WORKERS),
        default=None,
        help=f"CPU: threads that run the model, 1 to {MAX_WORKERS} (default: one per usable core)",
    )
    p.add_argument("--recursive", action="store_true", help="look into sub-folders (default: off)")
    p.add_argument(
        "--no-second-look",
        action="store_true",
        help=f"do not read doubtful rows (confidence below {SECOND_LOOK_BELOW:g}) again from shifted copies, "
        f"or rows whose digits crowd into under half the width (below {CROWDED_LOOK_BELOW:g}) from a stretched "
        "copy (default: they are read again, which costs a few percent of the time)",
    )


class PredictionRun:
    """One ``predict`` or ``evaluate`` run over the command line's inputs: its rows, counts and failure.

    Parameters
    ----------
    args : argparse.Namespace
        The command's arguments (``add_run_arguments``).
    before_run : callable, optional
        ``before_run(items)`` is called once the inputs are listed and before the model
        loads (to refuse an output early).

    Attributes
    ----------
    stats : core.predict.rows.RunStats or None
        The run's counts, from when the model has loaded (None before).
    failure : str or None
        Why the model failed mid-run (not a file: those are error rows), once it has; the
        rows before it were still given, so that the caller can write them before it exits
        non-zero.
    is_main : bool
        False on a torchrun rank other than 0, once ``rows()`` has started: such a rank
        predicts its shard and gives no rows.
    """

    def __init__(self, args: argparse.Namespace, before_run: Callable[[list[InputItem]], None] | None = None):
        self.args, self.before_run = args, before_run
        self.stats: RunStats | None = None
        self.failure: str | None = None
        self.is_main = True

    def rows(self) -> Iterator[PredictionRow]:
        """Yield result rows in input order (once per run).

        A failure of the model mid-run ends the stream early and is kept in ``failure``.
        Under torchrun each rank predicts a round-robin shard and rank 0 alone yields the
        gathered rows.
        """
        from core.inputs.listing import left_out_note, shared_names_note
        from core.predict.rows import RunStats

        items, left_out = self._listed_inputs()
        if self.before_run is not None:
            self.before_run(items)
        ctx = self._start_processes()
        if left_out and ctx.is_main:
            self._note(left_out_note(left_out))
        if ctx.is_main and (shared := shared_names_note(items)):
            self._note(shared)
        try:
            predictor = self._load_predictor(ctx)
            _freeze_loaded_objects()
            self.stats = RunStats(len(items))
            shard = items[ctx.rank :: ctx.world]
            if ctx.world == 1:
                yield from self._predicted_alone(predictor, shard, len(items))
            else:
                mine = self._predicted_shard(predictor, shard, len(items), ctx)
                yield from self._gathered(mine, ctx, len(items))
        finally:
            ctx.close()

    def _listed_inputs(self) -> tuple[list[InputItem], list[str]]:
        """The inputs as items, and the sub-folders the listing left out; none at all is a ``CommandError``."""
        from core.inputs.listing import list_inputs

        if not self.args.inputs:
            raise CommandError("no INPUT given: name a folder, image files or an .npy array")
        left_out: list[str] = []
        items = list_inputs(self.args.inputs, recursive=self.args.recursive, skipped=left_out)
        if not items:
            raise CommandError("no images found in " + ", ".join(self.args.inputs))
        return items, left_out

    def _start_processes(self) -> DistContext:
        """This process's place in the run (one process, or a torchrun rank); sets ``is_main``."""
        from core.devices import DistContext, distributed_setup, resolve_device, torchrun_world
        from core.predict.predictor import is_cpu

        if is_cpu(self.args.device) and torchrun_world() == 1:
            ctx = DistContext("cpu")  # one process on the CPU: ONNX Runtime, and torch is never imported
        else:
            ctx = distributed_setup(resolve_device(self.args.device))
        self.is_main = ctx.is_main
        return ctx

    def _load_predictor(self, ctx: DistContext) -> Predictor:
        """The model loaded onto the run's device, with the options the command line gave."""
        from core.predict.predictor import Predictor

        args = self.args
        predictor = Predictor(
            args.model,
            device=ctx.device,
            batch_size=args.batch_size,
            workers=args.workers,
            second_look_below=0.0 if args.no_second_look else SECOND_LOOK_BELOW,
            threads=args.threads,
            announce=lambda text: ctx.is_main and self._note(text, prefix=""),
        )
        if predictor.precision_note and ctx.is_main:  # why the CPU is not on ONNX Runtime (torch runs the model)
            self._note(predictor.precision_note)
        return predictor

    def _predicted_alone(self, predictor: Predictor, shard: list[InputItem], total: int) -> Iterator[PredictionRow]:
        """One process (its shard is every input): each batch's rows, counted and given as they come.

        A model failure ends them, kept in ``failure``.
        """
        with self._progress_bar(predictor, len(shard), total, shown=True) as bar:
            try:
                for rows in predictor.predict(shard):
                    self.stats.add(rows)
                    yield from rows  # written before the bar counts them: "4/200" means 4 rows are out
                    bar.update(len(rows))
            except Exception as exc:  # the model failed, not a file (out of memory: a MemoryError, not a RuntimeError)
                self._stopped_by(exc)

    def _predicted_shard(
        self, predictor: Predictor, shard: list[InputItem], total: int, ctx: DistContext
    ) -> list[PredictionRow]:
        """A torchrun rank: its shard's rows, kept for the gather; a model failure ends the rank."""
        mine: list[PredictionRow] = []
        with self._progress_bar(predictor, len(shard), total, shown=ctx.is_main) as bar:
            try:
                for rows in predictor.predict(shard):
                    mine.extend(rows)
                    bar.update(len(rows))
            except Exception as exc:  # the model failed, not a file (out of memory: a MemoryError, not a RuntimeError)
                self._stopped_by(exc)
                raise
        return mine

    def _gathered(self, mine: list[PredictionRow], ctx: DistContext, total: int) -> Iterator[PredictionRow]:
        """Every rank's rows on rank 0, back in input order (nothing on the other ranks)."""
        import torch.distributed as dist

        gathered = [None] * ctx.world if ctx.is_main else None
        dist.gather_object(mine, gathered, dst=0)
        if ctx.is_main:  # shards were dealt round-robin: interleave them back into input order
            for i in range(total):
                row = gathered[i % ctx.world][i // ctx.world]
                self.stats.add([row])
                yield row

    @contextlib.contextmanager
    def _progress_bar(self, predictor: Predictor, count: int, total: int, shown: bool):
        """The bar over ``count`` images, headed by what runs them (unless quiet, or not rank 0)."""
        from core.progress_bar import progress_bar

        quiet = getattr(self.args, "quiet", False) or not shown
        with progress_bar(count, "img", quiet=quiet) as bar:
            if not quiet:
                # tqdm.write goes to stdout unless told: that is where the CSV goes
                bar.write(_run_heading(predictor, total), file=sys.stderr)
            yield bar

    def _stopped_by(self, exc: Exception) -> None:
        """Keep why the model failed, in one line, with how many rows came before."""
        why = exception_line(exc, first_line=True)  # CUDA errors run on for lines
        self.failure = f"prediction stopped after {self.stats.done} rows: {why}"

    def _note(self, text: str, prefix: str = "note: ") -> None:
        """A line on stderr in the command's name (stdout may be the CSV)."""
        print(f"digitsum {self.args.command}: {prefix}{text}", file=sys.stderr)


def _freeze_loaded_objects() -> None:
    # torch's ~200,000 objects live as long as the process: out of the cycle collector's
    # sight, so the rows' allocations no longer set off scans of them (rows build 4x faster).
    # No collection first (the GUI does one, digitsum_gui/collector.py): this process ends
    # with the run, and a full collection costs ~0.1 s.
    gc.freeze()


def _run_heading(predictor: Predictor, total: int) -> str:
    """The line above the bar: model, device, precision, the second look where it reads again, input count."""
    look = (
        f", second look below {predictor.second_look_below:g}"
        if predictor.second_look_below and predictor.info.reads_digits
        else ""
    )
    return f"{predictor.info.name} on {predictor.device_name} ({predictor.precision}{look}): {total} inputs"


def refuse_nonfinite(stats: RunStats | None) -> None:
    """End the command with exit 1 where the model gave NaN or infinite outputs (after the rows are written).

    Parameters
    ----------
    stats : core.predict.rows.RunStats or None
        The run's counts.

    Raises
    ------
    core.errors.CommandError
        If any row's model output was NaN or infinite: the model, not the input, is at fault.
    """
    if stats is not None and stats.nonfinite:
        raise CommandError(
            f"the model gave NaN or infinite outputs for {stats.nonfinite} of "
            f"{stats.total} inputs (error rows in the CSV); is the model file damaged?"
        )
