"""`digitsum`: predict, evaluate, train and synth from a terminal (also `python -m core`).

    digitsum predict folder/ --output sums.csv
    digitsum evaluate folder/ --labels folder/labels.csv
    digitsum train --data synthetic:200000 --mnist mnist-train.npz
    digitsum synth out/ --count 200 --mnist mnist-train.npz

Errors that stop a command print one line, ``digitsum <command>: error: <reason>``, and
exit 1; unreadable images are not such errors: they become error rows and the run goes on.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core import __version__
from core.cli.argtypes import MAX_BATCH, MAX_SEED, MAX_WORKERS, device_spec, int_in
from core.errors import DigitsumError, exception_line, reason, signal_exit_status
from core.spec import LAYOUTS, SECOND_LOOK_BELOW

if TYPE_CHECKING:  # named only: a command imports what it runs when it runs
    from core.predict.rows import PredictionRow, RunStats


class CommandError(DigitsumError):
    """A reason why a command cannot run at all (exit status 1)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that temporary files are removed on the way out.

    Their default action ends the process on the spot, leaving ``.sums.csv.*.tmp`` behind.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once, unwinding or not
    raise Terminated(signum)


@contextlib.contextmanager
def _termination_unwinds():
    """While a command runs, SIGTERM and SIGHUP raise ``Terminated`` (main thread only: Python's rule)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hangup = getattr(signal, "SIGHUP", None)  # (not on Windows)
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, hangup) if sig is not None}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _add_predict_args(p):
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
    p.add_argument("--device", default="auto", type=device_spec, help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument(
        "--batch-size",
        type=int_in(1, MAX_BATCH),
        default=None,
        help=f"images per forward pass, 1 to {MAX_BATCH} (default: 64 CPU, 1024 CUDA)",
    )
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
        help=f"do not read doubtful rows (confidence below {SECOND_LOOK_BELOW:g}) again from shifted copies "
        "(default: they are read again, which costs a few percent of the time)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitsum", description="Read the sum of four handwritten digits in 40x168 images."
    )
    parser.add_argument("--version", action="version", version=f"digitsum {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="predict sums, write a CSV")
    _add_predict_args(p)
    p.add_argument("--output", "-o", default="-", help="CSV file, or - for stdout (default: -)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (default: off)")

    p = sub.add_parser("evaluate", help="accuracy against known sums")
    _add_predict_args(p)
    p.add_argument("--labels", required=True, help="labels.csv (filename,sum[,digits]) or lab*.npy")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (default: off)")

    # listed only: main() hands `digitsum train ...` to core.train.script, whose parser (core.train.args) and
    # torch a prediction on the CPU never loads
    sub.add_parser("train", help="train a model (see digitsum train --help)")

    p = sub.add_parser(
        "export-onnx",
        help="write a model's ONNX file (int8, as the CPU runs it; or fp32) to run it elsewhere",
        description="Write the ONNX file of a digitsum model: uint8 images (n, 40, 168) in, the digit "
        "probabilities (n, 4, 10) out (sum models: the sum's (n, 37)); the metadata names the model "
        "file's SHA-256 and carries its card's figures (key 'digitsum'). Needs pip install 'digitsum[onnx]'.",
    )
    p.add_argument("model", metavar="MODEL", help="a .safetensors model file")
    p.add_argument(
        "--output", "-o", default=None, help="ONNX file (default: MODEL.int8.onnx beside MODEL; MODEL.onnx with --fp32)"
    )
    p.add_argument("--fp32", action="store_true", help="keep fp32 weights and activations (default: int8)")

    p = sub.add_parser("synth", help="compose labelled images from MNIST digits")
    p.add_argument("out_dir", metavar="OUT_DIR")
    p.add_argument("--count", type=int_in(1), required=True, help="number of images, at least 1")
    p.add_argument(
        "--mnist", default=None, help="digits: .npz, torchvision MNIST folder or IDX files (default: bundled bank)"
    )
    p.add_argument(
        "--split",
        default=None,
        choices=["all", "train", "val", "holdout"],
        help="whose digits to use, by writer where the source names writers, else by index "
        "(default: holdout for the bundled bank, its digits by MNIST test writers, strangers to every "
        "training digit, whose figures the model card reports; all for --mnist)",
    )
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default: 0)")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into OUT_DIR even if it holds files: images of the same names and labels.csv "
        "are replaced (default: off, a folder that is not empty is refused)",
    )
    p.add_argument(
        "--layout",
        default="synth",
        choices=LAYOUTS,
        help="where digits go: synth (ours: uneven gaps, touching neighbours), grid (an independent "
        "layout, one digit per quarter of the width, jittered), for figures not tied to ours, or touch "
        "(neighbours close, touching or overlapping: each digit's box starts 0.5-1.0 of the previous box's "
        "width after it) (default: synth)",
    )
    return parser


class PredictionRun:
    """One ``predict`` or ``evaluate`` run over the command line's inputs: its rows, counts and failure.

    Parameters
    ----------
    args : argparse.Namespace
        The command's arguments (``_add_predict_args``).
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

    def __init__(self, args, before_run=None):
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
        from core.devices import DistContext, distributed_setup, resolve_device, torchrun_world
        from core.inputs.listing import left_out_note, list_inputs
        from core.predict.predictor import Predictor, is_cpu
        from core.predict.rows import RunStats
        from core.train.events import progress_bar

        args = self.args
        if not args.inputs:
            raise CommandError("no INPUT given: name a folder, image files or an .npy array")
        left_out: list[str] = []
        items = list_inputs(args.inputs, recursive=args.recursive, skipped=left_out)
        if not items:
            raise CommandError("no images found in " + ", ".join(args.inputs))
        if self.before_run is not None:
            self.before_run(items)
        if is_cpu(args.device) and torchrun_world() == 1:
            ctx = DistContext("cpu")  # one process on the CPU: ONNX Runtime, and torch is never imported
        else:
            ctx = distributed_setup(resolve_device(args.device))
        self.is_main = ctx.is_main
        if left_out and ctx.is_main:
            print(f"digitsum {args.command}: note: {left_out_note(left_out)}", file=sys.stderr)
        try:
            predictor = Predictor(
                args.model,
                device=ctx.device,
                batch_size=args.batch_size,
                workers=args.workers,
                second_look_below=0.0 if args.no_second_look else SECOND_LOOK_BELOW,
                threads=args.threads,
                announce=lambda text: ctx.is_main and print(f"digitsum {args.command}: {text}", file=sys.stderr),
            )
            if predictor.precision_note and ctx.is_main:  # why the CPU is not on ONNX Runtime (torch runs the model)
                print(f"digitsum {args.command}: note: {predictor.precision_note}", file=sys.stderr)
            # torch's ~200,000 objects live as long as the process: out of the cycle collector's
            # sight, so the rows' allocations no longer set off scans of them (rows build 4x faster).
            # No collection first (the GUI does one, digitsum_gui/collector.py): this process ends
            # with the run, and a full collection costs ~0.1 s.
            gc.freeze()
            shard = items[ctx.rank :: ctx.world]
            stats = self.stats = RunStats(len(items))
            quiet = getattr(args, "quiet", False) or not ctx.is_main
            with progress_bar(len(shard), "img", quiet=quiet) as bar:
                if not quiet:
                    # tqdm.write goes to stdout unless told: that is where the CSV goes
                    look = (
                        f", second look below {predictor.second_look_below:g}"
                        if predictor.second_look_below and predictor.info.reads_digits
                        else ""
                    )
                    bar.write(
                        f"{predictor.info.name} on {predictor.device_name} ({predictor.precision}{look}): "
                        f"{len(items)} inputs",
                        file=sys.stderr,
                    )
                mine = []
                try:
                    for rows in predictor.predict(shard):
                        if ctx.world == 1:
                            stats.add(rows)
                            yield from rows  # written before the bar counts them: "4/200" means 4 rows are out
                        else:
                            mine.extend(rows)
                        bar.update(len(rows))
                except (
                    Exception
                ) as exc:  # the model failed, not a file (out of memory is a MemoryError, not a RuntimeError)
                    why = exception_line(exc, first_line=True)  # CUDA errors run on for lines
                    self.failure = f"prediction stopped after {stats.done} rows: {why}"
                    if ctx.world == 1:
                        return
                    raise
            if ctx.world > 1:
                import torch.distributed as dist

                gathered = [None] * ctx.world if ctx.is_main else None
                dist.gather_object(mine, gathered, dst=0)
                if ctx.is_main:  # shards were dealt round-robin: interleave them back into input order
                    for i in range(len(items)):
                        row = gathered[i % ctx.world][i // ctx.world]
                        stats.add([row])
                        yield row
        finally:
            ctx.close()


def _run_inputs(args, items) -> list[str]:
    """The files a run reads (images, arrays, the model): its output may replace none of them."""
    from core.models.store import DEFAULT_MODEL

    return [*dict.fromkeys(os.fspath(item.path) for item in items), os.fspath(args.model or DEFAULT_MODEL)]


def cmd_predict(args) -> int:
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
    import itertools

    stream = itertools.chain([] if first is None else [first], rows)
    write_predictions_csv(stream, sys.stdout if args.output == "-" else args.output)
    _summary(run.stats)
    if run.failure:
        raise CommandError(run.failure)
    _refuse_nonfinite(run.stats)
    return 0


def _refuse_nonfinite(stats: RunStats | None) -> None:
    """NaN or infinite model outputs end the command with exit 1 (after the rows are written): the model is at fault."""
    if stats is not None and stats.nonfinite:
        raise CommandError(
            f"the model gave NaN or infinite outputs for {stats.nonfinite} of "
            f"{stats.total} inputs (error rows in the CSV); is the model file damaged?"
        )


def _summary(stats) -> None:
    ok = stats.done - stats.errors
    count = f"{stats.done}" if stats.done == stats.total else f"{stats.done} of {stats.total}"
    bad = f", {stats.nonfinite} without a number (NaN model output)" if stats.nonfinite else ""
    msg = (
        f"{count} inputs: {ok} predicted, {stats.errors - stats.nonfinite} unreadable{bad} "
        f"({stats.images_per_s:.0f} images/s)"
    )
    print(msg, file=sys.stderr)


def cmd_evaluate(args) -> int:
    from core.errors import InputError
    from core.labels.labels_csv import read_truth
    from core.predict.rows import score

    try:
        truth = read_truth(args.labels, args.inputs)
    except (InputError, OSError) as exc:
        raise CommandError(str(exc)) from None
    run = PredictionRun(args)
    rows = list(run.rows())
    if not run.is_main:
        return 0
    if run.failure:
        raise CommandError(run.failure)
    _refuse_nonfinite(run.stats)  # a score over NaN rows would pass for a score of the model
    result = score(rows, truth)
    if result["count"] == 0:
        raise CommandError("no input matched a label: check that --labels names the same files")
    result["labels_without_input"] = len(truth.keys() - {r.file for r in rows})  # not scored: said, not dropped
    if args.json:
        print(json.dumps(result))
    else:
        print(f"images evaluated   {result['count']}")
        print(f"accuracy (sum)     {result['accuracy']:.4f}")
        print(f"mean abs. error    {result['mae']:.4f}")
        if "digit_accuracy" in result:
            print(f"per-digit accuracy {result['digit_accuracy']:.4f}")
        if result["errors"] or result["unlabelled"]:
            print(f"unreadable {result['errors']}, without a label {result['unlabelled']}")
        if result["labels_without_input"]:
            print(f"labels naming no input {result['labels_without_input']} (not scored)")
    return 0


def _refuse_used_folder(folder: str, force: bool, count: int) -> None:
    """``synth`` writes synth_NNNNN.png and labels.csv: into a new or empty folder, or with --force.

    The folder is made and locked first (``core.train.run_folder.lock_folder``), then looked into: of
    two commands started into one new folder, the second is refused instead of mixing its
    images and sums with the first's.
    """
    from core.synth.folder import synth_names
    from core.train.run_folder import lock_folder, refuse_foreign_entries

    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CommandError(f"{folder}: a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{folder}: cannot create the folder ({reason(exc)})") from None
    if not lock_folder(Path(folder)):
        raise CommandError(f"{folder}: another digitsum command is writing into this folder now; choose another")
    if force:  # a link named synth_00000.png would take the image; a pipe would take it forever
        refuse_foreign_entries(Path(folder), writes=synth_names(count))
        return
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as exc:
        raise CommandError(f"{folder}: cannot list folder ({reason(exc)})") from None
    if names:
        shown = "labels.csv" if "labels.csv" in names else names[0]
        raise CommandError(
            f"{folder} is not empty ({len(names)} entries, e.g. {shown}); give a new or empty "
            "folder, or --force to replace images of the same names and labels.csv"
        )


def cmd_synth(args) -> int:
    from core.limits import require_disk
    from core.synth.bank import INDEX_SPLIT_NOTE, load_bank
    from core.synth.folder import SYNTH_PNG_BYTES, write_synthetic_folder
    from core.train.events import progress_bar

    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise CommandError(f"{args.out_dir}: a file, not a folder")
    bank = load_bank(args.mnist)  # empty, or labels that are not 0..9: one line, before any folder is made
    split = args.split or ("all" if args.mnist else "holdout")
    if split != "all" and bank.split_by == "index":
        print(f"digitsum synth: {INDEX_SPLIT_NOTE.format(source=args.mnist or 'the bundled bank')}", file=sys.stderr)
    bank = bank.subset(split)
    require_disk("--count", args.out_dir, args.count, SYNTH_PNG_BYTES)  # before any folder is made
    _refuse_used_folder(args.out_dir, args.force, args.count)
    with progress_bar(args.count, "img") as bar:
        out = write_synthetic_folder(
            args.out_dir, args.count, bank, seed=args.seed, progress=bar.update, layout=args.layout
        )
    print(f"wrote {args.count} images and labels.csv to {out}", file=sys.stderr)
    return 0


def cmd_export_onnx(args) -> int:
    from core.models.info import read_model_info
    from core.models.onnx_export import export_onnx
    from core.predict.onnx_model import onnx_path

    read_model_info(args.model)  # a file that is no model: one line before the exporter loads
    dest = args.output or onnx_path(args.model, int8=not args.fp32)
    if os.path.exists(dest) and os.path.samefile(dest, args.model):
        raise CommandError(f"--output {dest} is the model itself")
    out = export_onnx(args.model, dest, int8=not args.fp32)
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({'fp32' if args.fp32 else 'int8'}, {size:.1f} MB)", file=sys.stderr)
    return 0


def run() -> None:
    """The ``digitsum`` executable (and ``python -m core``): ``main``, then a quick exit.

    When a command returns, its files are closed (CSVs and models are written to a
    temporary name, flushed to disk and renamed) and only the interpreter's teardown is
    left. For torch's thousands of modules that takes 0.5-0.9 s of CPU on a 2-core machine,
    a tenth of a 2,000-image `predict`, and does nothing a finished command needs. So run
    the exit handlers, flush Python's and the C library's output buffers and leave with the
    status directly. (A bad command line or an uncaught exception exits the usual way.)
    """
    status = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the stream closed
                stream.flush()
        except BrokenPipeError:  # a reader that went away (`| head`): not an error
            pass
        except (OSError, ValueError) as exc:  # a full disk or a size limit cut the output short
            if status == 0:
                status = 120  # what Python itself returns when the final flush fails
            with contextlib.suppress(OSError, ValueError, AttributeError):
                print(f"digitsum: error: output incomplete ({exc})", file=sys.stderr, flush=True)
    with contextlib.suppress(Exception):  # native libraries' printf output (NCCL_DEBUG, oneDNN logs)
        import ctypes

        ctypes.CDLL(None).fflush(None)
    os._exit(status)


def _fill_closed_streams() -> None:
    """Started with stdout or stderr closed (``>&-``, ``2>&-``): /dev/null takes their place.

    Else the next file opened (a CSV's temporary file) would get descriptor 1 or 2, and what
    a library prints there would land in it. Messages then go nowhere and the work is still
    done; a CSV asked for on a closed stdout is refused (``cmd_predict``).
    """
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)


def main(argv=None) -> int:
    """Run one command (``argv`` defaults to ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    _fill_closed_streams()
    if argv[:1] == ["train"]:
        from core.train.script import run_cli

        return run_cli(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        with _termination_unwinds():
            commands = {"predict": cmd_predict, "evaluate": cmd_evaluate, "synth": cmd_synth}
            return {**commands, "export-onnx": cmd_export_onnx}[args.command](args)
    except Terminated as exc:
        print(f"digitsum {args.command}: terminated by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return signal_exit_status(exc.signum)
    except DigitsumError as exc:  # every reason a command cannot run: one line
        print(f"digitsum {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"digitsum {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # e.g. `| head`: not an error
        return 0
    except OSError as exc:  # e.g. printing to a full disk: one line, not a traceback
        print(f"digitsum {args.command}: error: {reason(exc)}", file=sys.stderr)
        return 1
