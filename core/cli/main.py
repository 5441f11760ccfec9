"""`digitsum`: predict, evaluate, train and synth from a terminal (also `python -m core`).

    digitsum predict folder/ --output sums.csv
    digitsum evaluate folder/ --labels folder/labels.csv
    digitsum train --data synthetic:200000 --mnist mnist-train.npz
    digitsum synth out/ --count 200 --mnist mnist-train.npz

Errors that stop a command print one line, ``digitsum <command>: error: <reason>``, and
exit 1; unreadable images are not such errors: they become error rows and the run goes on.

This module is the parser's table of contents and the dispatch; each command, with its own
parser, is a module of its own (``predict_command``, ``evaluate_command``, ``synth_command``,
``export_onnx_command``), and a prediction run, which predict and evaluate share, is
``prediction_run``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys

from core import __version__
from core.cli.evaluate_command import add_evaluate_parser, cmd_evaluate
from core.cli.export_onnx_command import add_export_onnx_parser, cmd_export_onnx
from core.cli.predict_command import add_predict_parser, cmd_predict
from core.cli.synth_command import add_synth_parser, cmd_synth
from core.cli.termination import Terminated, termination_unwinds
from core.errors import DigitsumError, reason, signal_exit_status

# what each sub-command runs (`train` is handed over whole before parsing: see main)
COMMANDS = {"predict": cmd_predict, "evaluate": cmd_evaluate, "synth": cmd_synth, "export-onnx": cmd_export_onnx}


def build_parser() -> argparse.ArgumentParser:
    """The ``digitsum`` parser: one sub-command each, in the order ``--help`` lists them."""
    parser = argparse.ArgumentParser(
        prog="digitsum", description="Read the sum of four handwritten digits in 40x168 images."
    )
    parser.add_argument("--version", action="version", version=f"digitsum {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_predict_parser(sub)
    add_evaluate_parser(sub)
    _add_train_entry(sub)
    add_export_onnx_parser(sub)
    add_synth_parser(sub)
    return parser


def _add_train_entry(sub: argparse._SubParsersAction) -> None:
    # listed only: main() hands `digitsum train ...` to core.train.script, whose parser (core.train.args) and
    # torch a prediction on the CPU never loads
    sub.add_parser("train", help="train a model (see digitsum train --help)")


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
        with termination_unwinds():
            return COMMANDS[args.command](args)
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
