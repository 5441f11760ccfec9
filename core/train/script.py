"""Train a digitsum model: one script for the laptop, the GPU server, torchrun and the GUI.

    # CPU, a quick check
    digitsum train --data synthetic:512 --mnist mnist-train.npz --epochs 1 --device cpu
    # one GPU, the default model's recipe (see resources/models/MODEL_CARD.md)
    digitsum train --data synthetic:500000 --mnist mnist-train.npz --epochs 10 --batch-size 512
    # several processes or GPUs (DDP): each rank trains on its shard, rank 0 writes the run
    torchrun --standalone --nproc-per-node 2 -m core.train --data synthetic:4096 --device cpu
    # the report's two models, with its hyper-parameters as defaults
    digitsum train --arch baseline --head sum --data data0.npy
    digitsum train --arch resnet50 --head sum --data data0.npy

Each run writes its own folder (--out, default runs/<time>-<arch>-<head>/): config.json,
progress.jsonl, checkpoint.pt (resumable) and best.safetensors (the best validation epoch).
To stop a run early and keep its best model: Ctrl+C, SIGTERM, or a file named STOP in its
folder (``touch RUN/STOP``; what the GUI does, as it works on every OS).

``main`` is the run, step by step; each step's workings are in a module of its own: the flags
(``args``), the settings and folder (``run_setup``), the optimizer (``optimizer``), the saves
(``saver``), the loop (``loop``), stopping (``stopping``).
"""

from __future__ import annotations

import json
import random
import shlex
import signal
import sys
from pathlib import Path

import numpy as np
import torch

from core.argtypes import seconds_in
from core.devices import distributed_setup, resolve_device
from core.errors import DigitsumError, TrainingError, exception_line, signal_exit_status
from core.folder_lock import release_folders
from core.models.checkpoint import load_model
from core.models.info import ModelInfo
from core.models.networks import build_model
from core.models.store import STOP_NAME
from core.spec import WRITER_SPLIT_FROM_UNSPLIT_INIT, WRITER_SPLIT_FROM_UNSPLIT_TEACHER
from core.train.args import get_args_parser
from core.train.data_checks import load_training_data
from core.train.distill import load_teacher
from core.train.events import DoneEvent, ProgressReporter, StartEvent
from core.train.freezing import freeze_stages
from core.train.loop import evaluate, run_epochs
from core.train.optimizer import make_optimizer, make_schedule
from core.train.precision import choose_precision
from core.train.run_setup import prepare_run
from core.train.saver import CheckpointSaver, restore_checkpoint
from core.train.state import TrainingState, moving_average
from core.train.stopping import StopFlag


def main(args) -> DoneEvent:
    """Run one training; return its ``done`` event (the best model, its metrics). Raises TrainingError & co."""
    reporter = ProgressReporter(args.progress)
    ctx = None
    stop = StopFlag()
    try:
        # run set-up: the processes, the settings, the folder, the seeds
        ctx = distributed_setup(resolve_device(args.device))
        args, checkpoint, run = _set_up_run(args, ctx, reporter, stop)
        # data
        data = load_training_data(args, ctx)  # the digit bank checked, files left out reported (core.train.data_checks)
        if data.val is None:
            raise TrainingError("no validation images: give more labelled files or add synthetic:N data")
        # model, in the run's precision
        model, init_info = _make_model(args, data, ctx)
        freeze_stages(model, args.frozen_stages)
        if args.precision == "auto":
            args.precision = choose_precision(model, ctx)
        # optimizer, schedule, moving average
        steps = data.steps_per_epoch(args.batch_size)
        optimizer = make_optimizer(model, args)
        state = TrainingState(model, optimizer, make_schedule(optimizer, args, steps * args.epochs))
        state.ema = moving_average(model, args.ema)
        state.teacher = load_teacher(args, ctx)
        teacher_info = state.teacher.info if state.teacher is not None else None
        unsplit = {  # the models of --init and --distill that have seen every training writer's digits
            flag: info
            for flag, info in (("--init", init_info), ("--distill", teacher_info))
            if info is not None and _learned_from_every_training_writer(info, data)
        }
        _say_validation_overstates(unsplit, args, ctx)
        # restore (--resume): weights, optimizer, schedule, the best so far, the random streams
        saver = CheckpointSaver(run, _model_meta(args, data, unsplit), writes=ctx.is_main)
        start_epoch = 0
        if checkpoint is not None:
            start_epoch, saver.best = restore_checkpoint(checkpoint, state)
        state.step_model = torch.compile(ctx.wrap(model)) if args.compile else ctx.wrap(model)
        # start: config.json, the other model's score, the start event, the stop channels
        compare = _start(args, data, ctx, run, steps, start_epoch, reporter, stop, resumed=checkpoint is not None)
        # loop
        stopped = run_epochs(state, data, args, ctx, reporter, stop, saver, start_epoch)
        ctx.barrier()
        # done
        return _finish(args, saver, stop, reporter, ctx, stopped, compare)
    except DigitsumError as exc:
        reporter.error(str(exc))
        raise
    finally:
        stop.uninstall()
        release_folders()
        if ctx is not None:
            ctx.close()


def _set_up_run(args, ctx, reporter, stop) -> tuple:
    """The settings (``core.train.run_setup``), the run folder's stop file and log, the seeds.

    Returns ``(args, checkpoint, run)``: the settings, the checkpoint of ``--resume`` (or None), the run folder.
    """
    reporter.enabled = ctx.is_main
    if args.threads:
        torch.set_num_threads(args.threads)
    args, checkpoint = prepare_run(args, ctx)
    run = Path(args.out)
    if ctx.is_main:
        (run / STOP_NAME).unlink(missing_ok=True)  # the request that stopped it last time (--resume)
    ctx.barrier()  # no rank may see that old file once the others have started
    stop.watch(run / STOP_NAME)
    reporter.log_to(run / "progress.jsonl")
    if ctx.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick the fastest kernels
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    return args, checkpoint, run


def _make_model(args, data, ctx) -> tuple[torch.nn.Module, ModelInfo | None]:
    """The network, built or read from ``--init``, on the run's device, and what ``--init``'s
    file says of itself (None without ``--init``)."""
    if not args.init:
        model = build_model(args.arch, args.head, pretrained=args.pretrained)
        return model.to(ctx.device).to(memory_format=torch.channels_last), None
    model, init_info = load_model(args.init, "cpu")
    if (init_info.arch, init_info.head) != (args.arch, args.head):
        raise TrainingError(
            f"--init {init_info.name} is a {init_info.arch}/{init_info.head} model, not {args.arch}/{args.head}"
        )
    return model.to(ctx.device).to(memory_format=torch.channels_last), init_info


def _learned_from_every_training_writer(info, data) -> bool:
    """Whether the model ``info`` (of ``--init`` or ``--distill``) learned from every training writer's digits.

    The November 2026 default trained on digits chosen by index, every training writer's
    included: a run that starts from it or learns from it cannot make it unsee them, and its
    model file says so even when this run validates on MNIST's test writers (``--val-digits``,
    never trained on by any model of this project), so that a later run from it is warned too.
    """
    return data.digit_split == "writer" and info.meta.get("digit_split") != "writer"


def _say_validation_overstates(unsplit: dict, args, ctx) -> None:
    """Say once, naming each flag, where this run's own validation figures are overstated by a
    model that has seen its validation writers (``unsplit``: flag -> its model's ``ModelInfo``)."""
    if not unsplit or args.val_digits or not ctx.is_main:
        return
    named = " and ".join(f"{flag} {info.name}" for flag, info in unsplit.items())
    print(
        f"digitsum train: note: {named} {'was' if len(unsplit) == 1 else 'were'} not trained with digits "
        f"split by writer: {'it has' if len(unsplit) == 1 else 'they have'} seen this run's validation "
        "writers, so this run's validation figures overstate a stranger's hand (--val-digits with MNIST's "
        "test writers does not)",
        file=sys.stderr,
    )


def _model_meta(args, data, unsplit: dict) -> dict:
    """What the model file says of the run that made it (``core.models.checkpoint.save_model``'s metadata)."""
    if "--init" in unsplit:
        digit_split = WRITER_SPLIT_FROM_UNSPLIT_INIT
    elif "--distill" in unsplit:
        digit_split = WRITER_SPLIT_FROM_UNSPLIT_TEACHER
    else:
        digit_split = data.digit_split
    return {
        "command": getattr(args, "command", None),
        "data": data.fingerprint,
        "seed": args.seed,
        "init": args.init,
        "train_images_per_epoch": data.train_size,
        # "writer": validation and held-out writers never trained on, by this run, its --init or its --distill
        "digit_split": digit_split,
    }


def _start(args, data, ctx, run: Path, steps: int, start_epoch: int, reporter, stop, resumed: bool) -> dict:
    """Write the run's ``config.json`` (a new run's), report the start, and listen for stop requests from here.

    Returns ``--compare``'s figures (``_compare``), for the done event too.
    """
    if ctx.is_main and not resumed:
        config = {"args": vars(args), "data": data.fingerprint, "world_size": ctx.world, "device": ctx.describe()}
        (run / "config.json").write_text(json.dumps(config, indent=2))
    compare = _compare(args, data, ctx)
    reporter.start(
        StartEvent(
            **compare,
            epochs=args.epochs,
            start_epoch=start_epoch,
            steps_per_epoch=steps,
            total_steps=steps * args.epochs,
            train_images=data.train_size,
            val_images=len(data.val.sums),
            device=ctx.describe(),
            arch=args.arch,
            head=args.head,
            out=str(run),
        )
    )
    stop.install()
    if args.time_limit:  # from here: the time a run trains, whatever its set-up took
        stop.stop_after(seconds_in(args.time_limit))
    return compare


def _compare(args, data, ctx) -> dict:
    """``--compare MODEL``: its accuracy on this run's validation images, for the start and done events."""
    if not getattr(args, "compare", None):
        return {}
    compare_model, _ = load_model(args.compare, ctx.device)  # (evaluated in the run's precision)
    return {"compare_val_acc": evaluate(compare_model, data, args, ctx)["val_acc"], "compare_model": args.compare}


def _finish(args, saver: CheckpointSaver, stop: StopFlag, reporter, ctx, stopped: bool, compare: dict) -> DoneEvent:
    """The ``done`` event, reported: the best model (and its ONNX file with ``--onnx``), how the run ended."""
    if not saver.has_model:
        raise TrainingError("stopped before the first epoch finished: no model was written")
    result = DoneEvent(
        model=str(saver.model_path), metrics=saver.best, out=str(saver.run), stopped_early=stopped, **compare
    )
    if args.onnx and ctx.is_main and stop.signum is None:  # (a signal: the system wants the process gone)
        result.update(_onnx_of(saver.model_path))
    if stop.signum is not None:
        result["stopped_by"] = signal.Signals(stop.signum).name
    reporter.done(result)
    return result


def _onnx_of(model_path: Path) -> dict:
    """``{"onnx": its int8 ONNX file}``, or ``{"onnx_error": why not}``: the model stands either way."""
    from core.models.onnx_export import OnnxExportError, export_onnx

    try:
        return {"onnx": str(export_onnx(model_path))}
    except (OnnxExportError, OSError) as exc:
        return {"onnx_error": exception_line(exc)}


def run_cli(argv=None) -> int:
    """Entry point for ``digitsum train`` and ``python -m core.train``: errors as one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = get_args_parser()
    parser.prog = "digitsum train"  # not "__main__.py" in usage lines and errors
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, or refused: argparse has printed why on stderr
        if parser.refusal and _wants_json(argv):  # a tool reading the events learns why too
            ProgressReporter("json").error(parser.refusal)
        raise
    if not args.resume:
        args.command = "digitsum train " + shlex.join(argv)  # goes into the model's metadata
    try:
        result = main(args)
    except DigitsumError as exc:
        print(f"digitsum train: error: {exc}", file=sys.stderr)
        return 1
    except torch.cuda.OutOfMemoryError:
        print("digitsum train: error: out of GPU memory; lower --batch-size", file=sys.stderr)
        return 1
    if "stopped_by" in result:  # a scheduler's time limit, a shutdown: scripts must not take this for a full run
        m = result["metrics"]
        print(
            f"digitsum train: stopped by {result['stopped_by']}: the best model so far (epoch {m['epoch']}, "
            f"val_acc {m['val_acc']:.4f}) is {result['model']}; continue with: "
            f"digitsum train --resume {shlex.quote(result['out'])}",
            file=sys.stderr,
        )
        return signal_exit_status(signal.Signals[result["stopped_by"]])
    return 0


def _wants_json(argv: list[str]) -> bool:
    """Whether ``argv`` asks for ``--progress json``, told without parsing it (parsing has failed)."""
    pairs = zip(argv, argv[1:], strict=False)
    return "--progress=json" in argv or any(a == "--progress" and b == "json" for a, b in pairs)


if __name__ == "__main__":
    sys.exit(run_cli())
