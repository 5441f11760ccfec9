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
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from core.cli.argtypes import (
    MAX_BATCH,
    MAX_SEED,
    MAX_WORKERS,
    data_spec,
    device_spec,
    duration,
    float_in,
    int_in,
    seconds_in,
)
from core.devices import auto_precision, autocast, distributed_setup, resolve_device
from core.errors import DigitsumError, exception_line, signal_exit_status
from core.models.checkpoint import ModelFileError, load_checkpoint, load_model, save_checkpoint, save_model
from core.models.networks import build_model
from core.models.store import STOP_NAME, run_folder_name
from core.spec import ARCHS, HEADS, MODELS, WRITER_SPLIT_FROM_UNSPLIT_INIT, heads_of
from core.train.data_checks import load_training_data
from core.train.datasets import VAL_FRACTION
from core.train.events import DoneEvent, EpochEvent, Metrics, ProgressReporter, StartEvent
from core.train.resume_check import check_checkpoint, saved_rng_states
from core.train.run_folder import RunFolderError, claim_run_folder, release_run_folders

RECIPES = {key: m.recipe for key, m in MODELS.items()}  # the defaults of each model (core.spec)


class TrainingError(DigitsumError, RuntimeError):
    """A run that cannot go on (bad data, non-finite loss, unreadable --init or --resume)."""


def get_args_parser(add_help=True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train a digitsum model", add_help=add_help)
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="SPEC",
        type=data_spec,
        help="training data, repeatable: a folder with labels.csv, an assignment data*.npy "
        "(its lab*.npy twin found by name), or synthetic:N (default: none)",
    )
    p.add_argument(
        "--mnist",
        default=None,
        help="MNIST digits for synthetic:N: .npz with x,y, torchvision's MNIST folder or IDX "
        "files (default: the small bank in resources/)",
    )
    p.add_argument("--arch", default=ARCHS[0], choices=ARCHS, help="network (default: resnet50)")
    p.add_argument(
        "--head",
        default=None,
        choices=HEADS,
        help="digits: read four digits and convolve; sum: 37-way softmax "
        "(default: digits for resnet50, sum for baseline)",
    )
    p.add_argument(
        "--epochs", type=int_in(1), default=None, help="epochs (default: 8 baseline, 25 resnet50/sum, 10 digits)"
    )
    p.add_argument(
        "--batch-size",
        type=int_in(1, MAX_BATCH),
        default=None,
        help="images per step and process (default: 64 report models, 128 digits)",
    )
    p.add_argument(
        "--lr",
        type=float_in(0, low_open=True),
        default=None,
        help="peak learning rate (default: 1e-3 baseline, 5e-4 resnet50/sum, 2e-3 digits)",
    )
    p.add_argument(
        "--weight-decay",
        type=float_in(0),
        default=None,
        help="AdamW weight decay (default: 0 report models, 0.05 digits)",
    )
    p.add_argument(
        "--warmup",
        type=float_in(0, 1),
        default=0.03,
        help="share of steps with linear warm-up, cosine schedule only (default: 0.03)",
    )
    p.add_argument("--device", default="auto", type=device_spec, help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="autocast precision (default: auto = bf16 on CUDA and on CPUs with native bf16, where the "
        "start of the run measures it faster than fp32; fp32 elsewhere)",
    )
    p.add_argument(
        "--augment",
        type=float_in(0, 1),
        default=1.0,
        metavar="SHARE",
        help="share of composed training images that get augmentation (rotation, shear, elastic distortion, "
        "stroke thickness, wider layouts, blur, noise, contrast); the rest are composed like `digitsum synth` "
        "(default: 1.0)",
    )
    p.add_argument(
        "--touch",
        type=float_in(0, 1),
        default=0.0,
        metavar="SHARE",
        help="share of composed training images whose neighbours touch or overlap (core.synth.placement.touch_layout) "
        "(default: 0)",
    )
    p.add_argument(
        "--ema",
        type=float_in(0, 1, high_open=True),
        default=0.0,
        metavar="DECAY",
        help="keep an exponential moving average of the weights (and batch-norm statistics) with this decay per "
        "step, e.g. 0.999; it is what is validated and saved (default: 0, off)",
    )
    p.add_argument(
        "--val-digits",
        default=None,
        metavar="NPZ",
        help="compose the validation images from these digits, all of them, in each layout alike (synth, grid, "
        "touch), e.g. the selection half of MNIST's test writers; --mnist's digits then all train, none are set "
        "aside (default: the --mnist bank's validation writers)",
    )
    p.add_argument(
        "--time-limit",
        type=duration,
        default=None,
        metavar="SPAN",
        help="stop at the first step after training this long (150m, 2h30m, 90s; set-up not counted) and keep "
        "the best model, as a STOP file would; --resume redoes the steps since the last whole epoch and starts "
        "a new span (default: none)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model (default: off)")
    p.add_argument(
        "--onnx",
        action="store_true",
        help="at the end, also write best.int8.onnx, the file prediction runs on a CPU (needs "
        "pip install 'digitsum[onnx]'; default: off, made on the model's first use on a CPU)",
    )
    p.add_argument("--pretrained", action="store_true", help="start ResNet-50 from ImageNet weights (default: off)")
    p.add_argument(
        "--init", default=None, metavar="MODEL", help="fine-tune from this model file; it is only read (default: none)"
    )
    p.add_argument(
        "--compare",
        default=None,
        metavar="MODEL",
        help="also score this model file on the run's validation set, reported as compare_val_acc "
        "(the GUI passes the model in use) (default: none)",
    )
    p.add_argument(
        "--resume", default=None, metavar="DIR", help="continue the run in DIR from its checkpoint (default: none)"
    )
    p.add_argument("--out", default=None, help="run folder (default: runs/<time>-<arch>-<head>/)")
    p.add_argument(
        "--val-fraction",
        type=float_in(0, 1),
        default=VAL_FRACTION,
        help="share of real labelled files for validation (default: 0.1)",
    )
    p.add_argument(
        "--val-size",
        type=int_in(1),
        default=2000,
        help="composed validation images with synthetic data (default: 2000)",
    )
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default: 0)")
    p.add_argument(
        "--threads", type=int_in(1, MAX_WORKERS), default=None, help="CPU threads for torch (default: torch's choice)"
    )
    p.add_argument(
        "--progress",
        default="bar",
        choices=["bar", "json"],
        help="bar: tqdm and epoch lines on stderr; json: one JSON event per line on stdout (default: bar)",
    )
    return p


def _absolute_paths(args) -> argparse.Namespace:
    """``args`` with the files and folders it names made absolute, as the checkpoint keeps them:
    ``--resume`` from another working folder reads the same data and models."""
    for name in ("mnist", "val_digits", "init", "compare"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    args.data = [spec if spec.startswith("synthetic:") else os.path.abspath(spec) for spec in args.data]
    return args


def resolve_recipe(args) -> argparse.Namespace:
    """Fill the flags left at None from the recipe of the chosen model."""
    if args.head is None:
        heads = heads_of(args.arch)
        args.head = heads[0] if heads else "digits"  # an unknown arch is refused just below, by name
    recipe = RECIPES.get((args.arch, args.head))
    if recipe is None:
        raise TrainingError(f"no recipe for {args.arch}/{args.head}; the baseline CNN has only the sum head")
    for key in ("lr", "batch_size", "epochs", "weight_decay"):
        if getattr(args, key) is None:
            setattr(args, key, recipe[key])
    if args.epochs < 1 or args.batch_size < 1:
        raise TrainingError("--epochs and --batch-size must be at least 1")
    args.optimizer, args.schedule = recipe["optimizer"], recipe["schedule"]
    return args


def compute_loss(sum_log_probs, digit_logits, sums, digits):
    """NLL of the labelled sum, plus digit cross-entropy where the digits are known."""
    loss = F.nll_loss(sum_log_probs, sums)
    if digit_logits is not None:
        known = digits[:, 0] >= 0
        if known.any():
            loss = loss + F.cross_entropy(digit_logits[known].reshape(-1, 10), digits[known].reshape(-1))
    return loss


def train_one_epoch(model, optimizer, scheduler, data, epoch, args, ctx, reporter, stop, ema=None):
    """One pass over this rank's batches; returns (mean loss, images/s, whether it ran to the end, steps done).

    ``ema`` (a ``torch.optim.swa_utils.AveragedModel``), if given, is updated after every step.
    """
    model.train()
    total, seen, t0 = torch.zeros((), device=ctx.device), 0, time.time()
    bad = torch.zeros((), dtype=torch.bool, device=ctx.device)
    any_rank_stops = False
    for step, batch in enumerate(data.epoch(epoch, args.batch_size)):
        # checked before the step: a request during the last step still lets the epoch end whole
        if stop.requested if ctx.world == 1 else any_rank_stops:
            completed, steps_done = False, step
            break
        x = batch.images.contiguous(memory_format=torch.channels_last)
        with autocast(ctx.device, args.precision):
            sum_log_probs, digit_logits = model(x)
        loss = compute_loss(sum_log_probs, digit_logits, batch.sums, batch.digits)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        # accumulate on the device: reading loss.item() every step would stall a GPU
        bad |= ~torch.isfinite(loss.detach())
        total += loss.detach() * len(batch.sums)
        seen += len(batch.sums)
        if ctx.world > 1:
            # every rank must stop (or fail) at the same step, or the others hang in the next all_reduce
            flags = ctx.all_reduce_sum(
                torch.stack([torch.tensor(float(stop.requested), device=ctx.device), bad.float()])
            )
            any_rank_stops, nonfinite = (flags > 0).tolist()
        else:
            nonfinite = (reporter.due() or stop.requested) and bool(bad.item())
        if nonfinite:
            raise TrainingError(
                f"non-finite loss in epoch {epoch + 1} by step {step + 1}; "
                "try a lower --lr; the last good model is kept"
            )
        if step == 0 or reporter.due() or stop.requested:  # each epoch's first step, then a few per second
            reporter.step(
                epoch, step + 1, loss.item(), scheduler.get_last_lr()[0], seen * ctx.world / (time.time() - t0)
            )
    else:
        completed, steps_done = True, None
    if bad.item():
        raise TrainingError(f"non-finite loss in epoch {epoch + 1}; try a lower --lr; the last good model is kept")
    return ctx.all_reduce_mean(total / max(seen, 1)), seen * ctx.world / (time.time() - t0), completed, steps_done


@torch.inference_mode()
def evaluate(model, data, args, ctx) -> Metrics:
    """Loss, exact-sum accuracy and per-digit accuracy on this run's validation set."""
    model.eval()
    counts = torch.zeros(5, device=ctx.device, dtype=torch.float64)  # n, loss sum, correct, digits right, digits known
    for batch in data.val_batches(args.batch_size * 2):
        with autocast(ctx.device, args.precision):
            sum_log_probs, digit_logits = model(batch.images.contiguous(memory_format=torch.channels_last))
        counts[0] += len(batch.sums)
        counts[1] += compute_loss(sum_log_probs, digit_logits, batch.sums, batch.digits).double() * len(batch.sums)
        counts[2] += (sum_log_probs.argmax(1) == batch.sums).sum()
        if digit_logits is not None:
            known = batch.digits >= 0
            counts[3] += ((digit_logits.argmax(-1) == batch.digits) & known).sum()
            counts[4] += known.sum()
    counts = ctx.all_reduce_sum(counts)
    n = max(counts[0].item(), 1)
    out = Metrics(val_loss=counts[1].item() / n, val_acc=counts[2].item() / n, val_images=int(counts[0].item()))
    if counts[4] > 0:
        out["val_digit_acc"] = counts[3].item() / counts[4].item()
    return out


class StopFlag:
    """Set by SIGINT/SIGTERM or by a stop file: the loop stops at the next step and keeps the best model.

    The file (``watch``) is the channel that works everywhere: on Windows a console child
    cannot be sent SIGTERM. Looking for it costs a ``stat`` per check, a few per step.
    """

    def __init__(self):
        self.signum = None
        self._requested = False
        self._file: Path | None = None
        self._deadline: float | None = None
        self._previous = {}

    @property
    def requested(self) -> bool:
        if not self._requested and self._file is not None and self._file.exists():
            self._requested = True
        if not self._requested and self._deadline is not None and time.monotonic() >= self._deadline:
            self._requested = True
        return self._requested

    def stop_after(self, seconds: float) -> None:
        """Stop as well once ``seconds`` have passed (``--time-limit``)."""
        self._deadline = time.monotonic() + seconds

    def watch(self, path) -> None:
        """Stop as well when ``path`` appears."""
        self._file = Path(path)

    def install(self):
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread; a caller in a thread stops us its own way
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handler)

    def uninstall(self):
        """Give the signals back to whoever had them (main() may be called in-process, e.g. by tests)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def agreed(self, ctx) -> bool:
        """Whether any rank was asked to stop: under DDP all ranks must leave the loop together."""
        if ctx.world == 1:
            return self.requested
        return ctx.all_reduce_sum(torch.tensor(float(self.requested), device=ctx.device)).item() > 0

    def _handler(self, signum, frame):
        self.signum = signum  # a signal, unlike the user's own stop request, makes the exit status non-zero
        if self._requested:  # asked twice: the user wants out now, not at the next step
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        self._requested = True


def choose_precision(model, ctx) -> str:
    """``--precision auto``: bf16 where the device computes it natively, unless it measures slower here.

    On a CPU the two are timed on one training step of 16 images each (after one untimed step
    each), so a CPU whose flags promise bf16 but whose torch build or load makes it slower keeps
    fp32, and the run says so in one line. The model's weights are not changed (no optimizer step).
    """
    precision = auto_precision(ctx.device)
    if precision != "bf16" or ctx.device.type != "cpu" or ctx.world > 1:
        return precision  # (torchrun: ranks timing on one shared CPU could choose differently)
    g = torch.Generator().manual_seed(0)  # the run's own random streams stay as seeded
    x = torch.rand(16, 1, 40, 168, generator=g).contiguous(memory_format=torch.channels_last)
    seconds = {}
    was_training = model.training
    model.eval()  # batch-norm statistics stay the model's, not the noise's
    for candidate in ("fp32", "bf16"):
        for _ in range(2):  # the first step of each pays for its kernels' set-up
            t0 = time.perf_counter()
            with autocast(ctx.device, candidate):
                sum_log_probs, _ = model(x)
            sum_log_probs.float().sum().backward()
            seconds[candidate] = time.perf_counter() - t0
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    if seconds["bf16"] >= seconds["fp32"]:
        if ctx.is_main:
            print(
                f"digitsum train: note: bf16 measured slower than fp32 on this CPU ({16 / seconds['bf16']:.0f} "
                f"against {16 / seconds['fp32']:.0f} images/s): training in fp32",
                file=sys.stderr,
            )
        return "fp32"
    return "bf16"


def make_schedule(optimizer, args, total_steps):
    if args.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    warm = max(1, int(args.warmup * total_steps))

    def factor(s):
        if s < warm:
            return (s + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / max(1, total_steps - warm))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def rng_state() -> dict:
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps([keys.tolist(), pos, has_gauss, gauss]),
        "python": json.dumps(random.getstate()[1]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state, python_state = saved_rng_states(state)  # (checked on fresh generators by check_checkpoint)
    np.random.set_state(numpy_state)
    random.setstate(python_state)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_flags(name: str, value) -> str:
    """``value`` of argument ``name`` as it would be typed: ``--lr 0.1``, ``--compile``, ``--data a --data b``."""
    flag = "--" + name.replace("_", "-")
    if value is True:
        return flag
    return " ".join(f"{flag} {shlex.quote(str(v))}" for v in (value if isinstance(value, list) else [value]))


def prepare_run(args, ctx):
    """Resolve flags (or restore them from --resume) and claim the run folder (``core.train.run_folder``)."""
    checkpoint = None
    default_name = False
    if args.resume:
        run = Path(args.resume)
        if ctx.is_main and run.is_dir():  # before the clean-up below: another run's saves in progress are not stale
            _claim(run, resumed=True, default_name=False)
        for stale in [*run.glob(".checkpoint.pt.*.tmp"), *run.glob(".best.safetensors.*.tmp")]:
            stale.unlink(missing_ok=True)  # left by a run killed while saving
        if not (run / "checkpoint.pt").is_file():
            raise TrainingError(
                f"--resume {run}: no checkpoint.pt there (a run writes one at the end of each whole epoch)"
            )
        checkpoint = load_checkpoint(run / "checkpoint.pt")
        # this machine's and this session's choices
        keep = ("resume", "progress", "device", "threads", "precision", "compile", "time_limit", "onnx")
        parser = get_args_parser()
        try:  # its structure, flags, shapes and random states, before anything is built from it
            saved = check_checkpoint(checkpoint, parser, keep)  # over the defaults: flags added since take theirs
        except ModelFileError as exc:
            raise TrainingError(f"--resume {run}: checkpoint.pt: {exc}") from None
        defaults = vars(parser.parse_args([]))
        ignored = [
            k
            for k, v in vars(args).items()
            if k not in (*keep, "epochs", "out") and v != defaults.get(k) and v != saved.get(k)
        ]  # (a flag given at its default looks not given)
        if ignored and ctx.is_main:  # a resumed run is the same run: its recipe cannot change halfway
            flags = " ".join(_as_flags(k, getattr(args, k)) for k in ignored)
            print(f"digitsum train: note: --resume keeps the run's own settings; ignoring {flags}", file=sys.stderr)
        for k in keep:
            saved[k] = getattr(args, k)
        saved["out"] = str(run)  # the folder may have been moved or copied since
        if args.epochs is not None:  # a resumed run may be extended
            saved["epochs"] = args.epochs
        args = argparse.Namespace(**saved)
    else:
        args = _absolute_paths(resolve_recipe(args))
        synthetic_only = [
            flag
            for flag, given in (
                ("--augment", args.augment != 1.0),
                ("--touch", args.touch),
                ("--val-digits", args.val_digits),
            )
            if given
        ]
        if synthetic_only and not any(spec.startswith("synthetic:") for spec in args.data or []) and ctx.is_main:
            print(
                f"digitsum train: note: {' and '.join(synthetic_only)} "
                f"{'applies' if len(synthetic_only) == 1 else 'apply'} to synthetic:N images only; this run has none",
                file=sys.stderr,
            )
        if args.out is None:
            args.out = str(Path("runs") / run_folder_name(args.arch, args.head))
            default_name = True
    if ctx.is_main and checkpoint is None:  # (a resumed run's folder was claimed above)
        args.out = str(_claim(args.out, resumed=False, default_name=default_name))
    return args, checkpoint


def _claim(folder, resumed: bool, default_name: bool) -> Path:
    try:
        return claim_run_folder(folder, resumed=resumed, default_name=default_name)
    except RunFolderError as exc:
        raise TrainingError(str(exc)) from None


def main(args) -> DoneEvent:
    """Run one training; return its ``done`` event (the best model, its metrics). Raises TrainingError & co."""
    reporter = ProgressReporter(args.progress)
    ctx = None
    stop = StopFlag()
    try:
        ctx = distributed_setup(resolve_device(args.device))
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
        data = load_training_data(args, ctx)  # the digit bank checked, files left out reported (core.train.data_checks)
        if data.val is None:
            raise TrainingError("no validation images: give more labelled files or add synthetic:N data")

        init_saw_val = False  # an --init trained on digits not split by writer has seen the validation writers
        if args.init:
            model, init_info = load_model(args.init, "cpu")
            if (init_info.arch, init_info.head) != (args.arch, args.head):
                raise TrainingError(
                    f"--init {init_info.name} is a {init_info.arch}/{init_info.head} model, not {args.arch}/{args.head}"
                )
            # the shipped model (and anything tuned from it) trained on digits chosen by index, every
            # training writer's included: fine-tuning cannot make it unsee this run's validation writers
            # (MNIST's test writers, --val-digits, were never trained on by any model of this project)
            init_saw_val = (
                data.digit_split == "writer" and not args.val_digits and init_info.meta.get("digit_split") != "writer"
            )
            if init_saw_val and ctx.is_main:
                print(
                    f"digitsum train: note: --init {init_info.name} was not trained with digits split by writer: "
                    "it has seen this run's validation writers, so its validation figures overstate a stranger's "
                    "hand (--val-digits with MNIST's test writers does not)",
                    file=sys.stderr,
                )
        else:
            model = build_model(args.arch, args.head, pretrained=args.pretrained)
        model = model.to(ctx.device).to(memory_format=torch.channels_last)
        if args.precision == "auto":
            args.precision = choose_precision(model, ctx)
        params = [
            {"params": [p for p in model.parameters() if p.ndim > 1], "weight_decay": args.weight_decay},
            {"params": [p for p in model.parameters() if p.ndim <= 1], "weight_decay": 0.0},
        ]
        optimizer = (
            torch.optim.AdamW(params, lr=args.lr) if args.optimizer == "adamw" else torch.optim.Adam(params, lr=args.lr)
        )
        steps = data.steps_per_epoch(args.batch_size)
        scheduler = make_schedule(optimizer, args, steps * args.epochs)
        start_epoch, best = 0, Metrics(val_acc=-1.0)
        # the weights validated and saved: the running average with --ema, else the model itself
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True) if args.ema else None
        kept = ema.module if ema is not None else model
        if checkpoint is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
            if ema is not None:
                ema.module.load_state_dict(checkpoint.get("ema", checkpoint["model"]))
                ema.n_averaged.fill_(1)  # the next update averages into the loaded weights instead of copying over them
            start_epoch, best = checkpoint["epoch"], Metrics(**checkpoint["best"])
            set_rng_state(checkpoint["rng"])
        train_model = ctx.wrap(model)
        if args.compile:
            train_model = torch.compile(train_model)
        config = {"args": vars(args), "data": data.fingerprint, "world_size": ctx.world, "device": ctx.describe()}
        if ctx.is_main and checkpoint is None:
            (run / "config.json").write_text(json.dumps(config, indent=2))
        compare = {}
        if getattr(args, "compare", None):
            compare_model, _ = load_model(args.compare, ctx.device)  # (evaluated in the run's precision)
            compare = {
                "compare_val_acc": evaluate(compare_model, data, args, ctx)["val_acc"],
                "compare_model": args.compare,
            }
            del compare_model
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
        stopped = False
        meta = {
            "command": getattr(args, "command", None),
            "data": data.fingerprint,
            "seed": args.seed,
            "init": args.init,
            "train_images_per_epoch": data.train_size,
            # "writer": validation and held-out writers never trained on, by this run or its --init
            "digit_split": WRITER_SPLIT_FROM_UNSPLIT_INIT if init_saw_val else data.digit_split,
        }
        for epoch in range(start_epoch, args.epochs):
            train_loss, speed, completed, steps_done = train_one_epoch(
                train_model, optimizer, scheduler, data, epoch, args, ctx, reporter, stop, ema
            )
            if not completed and (best["val_acc"] >= 0 or steps_done == 0):
                stopped = True
                break  # stopped mid-epoch: keep the best model and the checkpoint of the last whole epoch
            # a first epoch cut short still gives a usable model (flagged "partial"), never a checkpoint
            # that claims the epoch finished: --resume redoes it from the last whole epoch
            metrics = evaluate(kept, data, args, ctx)
            improved = metrics["val_acc"] > best["val_acc"]
            if improved:
                best = Metrics(**metrics, epoch=epoch + 1, train_loss=train_loss)
                if not completed:
                    best["partial"] = True
            if ctx.is_main:
                if improved:
                    save_model(
                        run / "best.safetensors",
                        kept,
                        {**meta, "metrics": best, "epochs_trained": epoch + 1 if completed else epoch},
                    )
                if completed:
                    save_checkpoint(
                        run / "checkpoint.pt",
                        {
                            "model": model.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "epoch": epoch + 1,
                            "best": best,
                            "rng": rng_state(),
                            "args": vars(args),
                            **({"ema": ema.module.state_dict()} if ema is not None else {}),
                        },
                    )
            if completed:
                reporter.epoch(
                    EpochEvent(
                        epoch=epoch + 1,
                        epochs=args.epochs,
                        train_loss=train_loss,
                        lr=scheduler.get_last_lr()[0],
                        images_per_s=speed,
                        best_val_acc=best["val_acc"],
                        best_epoch=best["epoch"],
                        **metrics,
                    )
                )
            if stop.agreed(ctx):
                stopped = not completed or epoch + 1 < args.epochs  # (asked as the last epoch ended: it ran whole)
                break
        ctx.barrier()
        if best["val_acc"] < 0:
            raise TrainingError("stopped before the first epoch finished: no model was written")
        result = DoneEvent(
            model=str(run / "best.safetensors"), metrics=best, out=str(run), stopped_early=stopped, **compare
        )
        if args.onnx and ctx.is_main and stop.signum is None:  # (a signal: the system wants the process gone)
            result.update(_onnx_of(run / "best.safetensors"))
        if stop.signum is not None:
            result["stopped_by"] = signal.Signals(stop.signum).name
        reporter.done(result)
        return result
    except DigitsumError as exc:
        reporter.error(str(exc))
        raise
    finally:
        stop.uninstall()
        release_run_folders()
        if ctx is not None:
            ctx.close()


def _onnx_of(model_path: Path) -> dict:
    """``{"onnx": its int8 ONNX file}``, or ``{"onnx_error": why not}``: the model stands either way."""
    from core.models.onnx_export import ExportError, export_onnx

    try:
        return {"onnx": str(export_onnx(model_path))}
    except (ExportError, OSError) as exc:
        return {"onnx_error": exception_line(exc)}


def run_cli(argv=None) -> int:
    """Entry point for ``digitsum train`` and ``python -m core.train``: errors as one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = get_args_parser()
    parser.prog = "digitsum train"  # not "__main__.py" in usage lines and errors
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(run_cli())
