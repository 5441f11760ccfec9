"""What ``digitsum train --resume`` takes from a checkpoint, checked before any of it is used.

``torch.load(weights_only=True)`` guarantees that no code runs from the file, not that the
file holds a checkpoint: an empty file, a list, a run's flags of the wrong types, weights of
another network or optimizer moments of the wrong shapes would otherwise surface as a
traceback, some of them only at the first training step. ``check_checkpoint`` refuses all of
that with one line (``ModelFileError``), before the data is loaded or the model built.

    checkpoint = load_checkpoint(run / "checkpoint.pt")
    check_checkpoint(checkpoint, parser, keep)  # in core.train.run_setup.prepare_run
"""

from __future__ import annotations

import argparse
import json
import math
import random

import numpy as np
import torch

from core.errors import exception_line, one_line
from core.models.checkpoint import ModelFileError
from core.models.networks import ModelBuildError, build_model
from core.spec import OPTIMIZERS, SCHEDULES, Recipe

KEYS = ("model", "optimizer", "scheduler", "epoch", "best", "rng", "args")
RESOLVED = ("head", *Recipe.FLAGS)  # None on the command line, filled in by the recipe


def _kind(value) -> str:
    return type(value).__name__


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_checkpoint(ckpt, parser: argparse.ArgumentParser, keep: tuple[str, ...]) -> dict:
    """Refuse a checkpoint that ``core.train.script`` could not resume from, in one line.

    Parameters
    ----------
    ckpt : object
        What ``load_checkpoint`` returned.
    parser : argparse.ArgumentParser
        ``core.train.args.get_args_parser()``: the saved flags must pass its own checks.
    keep : tuple of str
        Flags that this machine chooses again (device, threads, ...): not checked.

    Returns
    -------
    dict
        The saved flags over the parser's defaults (flags added since the checkpoint was
        written take their defaults), checked.

    Raises
    ------
    core.models.checkpoint.ModelFileError
        ``str()`` names what is wrong, e.g. ``args.lr: must be a finite number > 0, got '-1'``.
    """
    if not isinstance(ckpt, dict):
        raise ModelFileError(f"not a training checkpoint (a {_kind(ckpt)}, not a mapping)")
    missing = [key for key in KEYS if key not in ckpt]
    if missing:
        raise ModelFileError(f"not a training checkpoint (no {', '.join(missing)})")
    for key in ("model", "optimizer", "scheduler", "best", "rng", "args"):
        if not isinstance(ckpt[key], dict):
            raise ModelFileError(f"{key}: expected a mapping, got a {_kind(ckpt[key])}")
    if not _whole(ckpt["epoch"]) or ckpt["epoch"] < 0:
        raise ModelFileError(f"epoch: expected a whole number >= 0, got {one_line(ckpt['epoch'], 40)}")
    best = ckpt["best"]
    if not _number(best.get("val_acc")) or (best["val_acc"] >= 0 and not _whole(best.get("epoch"))):
        raise ModelFileError("best: expected val_acc (a number) and the epoch it was reached")
    args = _checked_args(ckpt["args"], parser, keep)
    _check_weights(ckpt["model"], ckpt["optimizer"], args["arch"], args["head"], ckpt.get("ema"))
    _check_scheduler(ckpt["scheduler"])
    _check_rng(ckpt["rng"])
    return args


def _checked_args(saved: dict, parser: argparse.ArgumentParser, keep: tuple[str, ...]) -> dict:
    """The saved flags over the parser's defaults, each passed through its own flag's check."""
    args = {**vars(parser.parse_args([])), **saved}
    for action in parser._actions:
        dest = action.dest
        if dest == "help" or dest in keep:
            continue
        value = args.get(dest)
        if value is None and (action.default is None and dest not in RESOLVED):
            continue
        try:
            if isinstance(action, argparse._StoreTrueAction):
                ok = isinstance(value, bool)
            elif isinstance(action, argparse._AppendAction):
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
                for v in value if ok else ():
                    action.type(v)
            elif action.choices is not None:
                ok = isinstance(value, str) and value in action.choices
            elif action.type is not None:
                ok = _whole(value) if action.type.__name__ == "int" else _number(value)
                if ok:
                    action.type(str(value))  # the range check of class 2, e.g. --lr > 0
            else:
                ok = isinstance(value, str)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ModelFileError(f"args.{dest}: {exception_line(exc, 120)}") from None
        if not ok:
            raise ModelFileError(f"args.{dest}: not a value of --{dest.replace('_', '-')}: {one_line(repr(value), 40)}")
    if args.get("optimizer") not in OPTIMIZERS or args.get("schedule") not in SCHEDULES:
        raise ModelFileError(f"args: optimizer must be {' or '.join(OPTIMIZERS)} and schedule {' or '.join(SCHEDULES)}")
    if args.get("command") is not None and not isinstance(args["command"], str):
        raise ModelFileError("args.command: expected text")
    return args


def _check_weights(state: dict, optimizer: dict, arch: str, head: str, ema: dict | None = None) -> None:
    """The model's tensors (its average's too, with ``--ema``) and the optimizer's moments fit an ``arch``/``head``."""
    try:
        with torch.device("meta"):  # shapes only
            model = build_model(arch, head)
    except ModelBuildError as exc:
        raise ModelFileError(str(exc)) from None
    expected = model.state_dict()
    _check_state("model", state, expected, arch, head)
    if ema is not None:
        _check_state("ema", ema, expected, arch, head)
    # core.train.optimizer's two groups: weights (ndim > 1), then biases and norms, each in parameter order
    params = [p for p in model.parameters() if p.ndim > 1] + [p for p in model.parameters() if p.ndim <= 1]
    groups, moments = optimizer.get("param_groups"), optimizer.get("state")
    if (
        not isinstance(groups, list)
        or len(groups) != 2
        or not isinstance(moments, dict)
        or not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups)
        or [i for g in groups for i in g["params"]] != list(range(len(params)))
    ):
        raise ModelFileError(f"optimizer: not the state of core.train.script's optimizer for a {arch}/{head} network")
    for group in groups:
        if not all(_number(group.get(key)) for key in ("lr", "weight_decay")):
            raise ModelFileError("optimizer: a parameter group without a finite lr and weight_decay")
    for index, entry in moments.items():
        if not _whole(index) or not 0 <= index < len(params) or not isinstance(entry, dict):
            raise ModelFileError(f"optimizer: state of an unknown parameter {one_line(index, 20)}")
        for name, tensor in entry.items():
            shape = () if name == "step" else params[index].shape
            if not isinstance(tensor, torch.Tensor) or tensor.shape != shape:
                raise ModelFileError(f"optimizer: {name} of parameter {index} does not fit its shape")


def _check_state(name: str, state, expected: dict, arch: str, head: str) -> None:
    if not isinstance(state, dict):
        raise ModelFileError(f"{name}: expected a mapping, got a {_kind(state)}")
    if set(state) != set(expected):
        odd = sorted(set(state) ^ set(expected), key=str)[0]
        raise ModelFileError(f"{name}: weights do not match a {arch}/{head} network ({one_line(odd, 60)})")
    for key, want in expected.items():
        got = state[key]
        if not isinstance(got, torch.Tensor) or got.shape != want.shape or got.dtype != want.dtype:
            what = f"{tuple(got.shape)} {got.dtype}" if isinstance(got, torch.Tensor) else _kind(got)
            raise ModelFileError(f"{name}: {key} is {what}, expected {tuple(want.shape)} {want.dtype}")
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise ModelFileError(f"{name}: {key} holds NaN or infinite values")


def _check_scheduler(state: dict) -> None:
    lambdas = state.get("lr_lambdas", [None, None])
    if (
        not _whole(state.get("last_epoch"))
        or state["last_epoch"] < -1
        or not isinstance(state.get("base_lrs"), list)
        or len(state["base_lrs"]) != 2
        or not all(_number(v) for v in state["base_lrs"])
        or not isinstance(lambdas, list)
        or len(lambdas) != 2
        or any(f is not None for f in lambdas)
    ):
        raise ModelFileError("scheduler: not the state of core.train.script's schedule")


def saved_rng_states(rng: dict) -> tuple[tuple, tuple]:
    """numpy's and Python's random states from a checkpoint's ``rng`` (``core.train.saver.rng_state``)."""
    saved = json.loads(rng["numpy"])
    # checkpoints written before the position was kept hold the 624 keys alone
    keys, pos, has_gauss, gauss = saved if len(saved) == 4 else (saved, 624, 0, 0.0)
    numpy_state = ("MT19937", np.array(keys, dtype=np.uint32), pos, has_gauss, gauss)
    return numpy_state, (3, tuple(json.loads(rng["python"])), None)


def _check_rng(rng: dict) -> None:
    """The saved random states can be set: tried on fresh generators, never on the process's own."""
    try:
        torch.Generator().set_state(rng["torch"])
        numpy_state, python_state = saved_rng_states(rng)
        np.random.RandomState().set_state(numpy_state)
        random.Random().setstate(python_state)
    except Exception as exc:  # any damage: a KeyError, a TypeError, a ValueError, a RuntimeError from torch
        reason = exception_line(exc, 80)
        raise ModelFileError(f"rng: the saved random states cannot be restored ({reason})") from None
