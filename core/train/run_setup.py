"""A run's settings and folder, before anything is built: its flags resolved, or restored by ``--resume``.

    args, checkpoint = prepare_run(args, ctx)   # args.out: the run folder, claimed by rank 0

A new run fills the flags left at None from its model's recipe (``core.spec.Recipe``) and makes
its paths absolute; a resumed run takes its own flags back from its checkpoint (checked by
``core.train.resume_check``), but for this machine's choices (``MACHINE_CHOICES``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from core.errors import TrainingError
from core.models.checkpoint import ModelFileError, load_checkpoint
from core.models.store import MODEL_NAME, run_folder_name
from core.spec import MODELS, Recipe, heads_of
from core.train.args import get_args_parser
from core.train.resume_check import check_checkpoint
from core.train.run_folder import RunFolderError, claim_run_folder
from core.train.saver import CHECKPOINT_NAME

# The flags --resume takes from this command, not from the checkpoint: this machine's and this session's.
MACHINE_CHOICES = ("resume", "progress", "device", "threads", "precision", "compile", "time_limit", "onnx")
PATH_FLAGS = ("mnist", "val_digits", "init", "distill", "compare")  # made absolute, as --data's files are


def prepare_run(args: argparse.Namespace, ctx) -> tuple[argparse.Namespace, dict | None]:
    """The run's settings, and its folder claimed (``core.train.run_folder``) on the main rank.

    Returns
    -------
    tuple of (argparse.Namespace, dict or None)
        The settings, ``out`` the run folder; the checkpoint of ``--resume`` (None for a new run).

    Raises
    ------
    core.errors.TrainingError
        No recipe for the model, a folder that is not free, a checkpoint that cannot be resumed.
    """
    if args.resume:
        return _resumed(args, ctx)
    args = _absolute_paths(resolve_recipe(args))
    if ctx.is_main:
        _note_synthetic_only_flags(args)
    default_name = args.out is None
    if default_name:
        args.out = str(Path("runs") / run_folder_name(args.arch, args.head))
    if ctx.is_main:
        args.out = str(_claim(args.out, resumed=False, default_name=default_name))
    return args, None


def resolve_recipe(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the flags left at None from the recipe of the chosen model (``core.spec.MODELS``); with ``--init``,
    from its fine-tuning recipe (``Recipe.for_fine_tuning``: a lower learning rate, at most three
    epochs), as the Retrain dialog does: the from-scratch rate would undo the model it starts from."""
    if args.head is None:
        heads = heads_of(args.arch)
        args.head = heads[0] if heads else "digits"  # an unknown arch is refused just below, by name
    model = MODELS.get((args.arch, args.head))
    if model is None:
        raise TrainingError(f"no recipe for {args.arch}/{args.head}; the baseline CNN has only the sum head")
    recipe = model.recipe.for_fine_tuning() if args.init else model.recipe
    for name in Recipe.FLAGS:
        if getattr(args, name) is None:
            setattr(args, name, getattr(recipe, name))
    if args.epochs < 1 or args.batch_size < 1:
        raise TrainingError("--epochs and --batch-size must be at least 1")
    for flag, given in (("--freeze-bn", args.freeze_bn), ("--frozen-stages", args.frozen_stages)):
        if given and not (args.init or args.pretrained):
            raise TrainingError(f"{flag} keeps what --init or --pretrained learned; give one of them")
    args.optimizer, args.schedule = model.recipe.optimizer, model.recipe.schedule
    return args


def _resumed(args: argparse.Namespace, ctx) -> tuple[argparse.Namespace, dict]:
    """``--resume DIR``: the folder claimed, its checkpoint checked, its run's own flags back."""
    run = Path(args.resume)
    if ctx.is_main and run.is_dir():  # before the clean-up below: another run's saves in progress are not stale
        _claim(run, resumed=True, default_name=False)
    for stale in [*run.glob(f".{CHECKPOINT_NAME}.*.tmp"), *run.glob(f".{MODEL_NAME}.*.tmp")]:
        stale.unlink(missing_ok=True)  # left by a run killed while saving
    if not (run / CHECKPOINT_NAME).is_file():
        raise TrainingError(
            f"--resume {run}: no {CHECKPOINT_NAME} there (a run writes one at the end of each whole epoch)"
        )
    checkpoint = load_checkpoint(run / CHECKPOINT_NAME)
    parser = get_args_parser()
    try:  # its structure, flags, shapes and random states, before anything is built from it
        saved = check_checkpoint(checkpoint, parser, MACHINE_CHOICES)  # over the defaults: new flags take theirs
    except ModelFileError as exc:
        raise TrainingError(f"--resume {run}: {CHECKPOINT_NAME}: {exc}") from None
    defaults = vars(parser.parse_args([]))
    ignored = [
        k
        for k, v in vars(args).items()
        if k not in (*MACHINE_CHOICES, "epochs", "out") and v != defaults.get(k) and v != saved.get(k)
    ]  # (a flag given at its default looks not given)
    if ignored and ctx.is_main:  # a resumed run is the same run: its recipe cannot change halfway
        flags = " ".join(_as_flags(k, getattr(args, k)) for k in ignored)
        print(f"digitsum train: note: --resume keeps the run's own settings; ignoring {flags}", file=sys.stderr)
    for k in MACHINE_CHOICES:
        saved[k] = getattr(args, k)
    saved["out"] = str(run)  # the folder may have been moved or copied since
    if args.epochs is not None:  # a resumed run may be extended
        saved["epochs"] = args.epochs
    return argparse.Namespace(**saved), checkpoint


def _absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with the files and folders it names made absolute, as the checkpoint keeps them:
    ``--resume`` from another working folder reads the same data and models."""
    for name in PATH_FLAGS:
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    args.data = [spec if spec.startswith("synthetic:") else os.path.abspath(spec) for spec in args.data]
    return args


def _note_synthetic_only_flags(args: argparse.Namespace) -> None:
    """Say so when flags that shape composed images are given to a run that composes none."""
    synthetic_only = [
        flag
        for flag, given in (
            ("--augment", args.augment != 1.0),
            ("--touch", args.touch),
            ("--val-digits", args.val_digits),
            ("--val-blurred", args.val_blurred),
        )
        if given
    ]
    if synthetic_only and not any(spec.startswith("synthetic:") for spec in args.data or []):
        print(
            f"digitsum train: note: {' and '.join(synthetic_only)} "
            f"{'applies' if len(synthetic_only) == 1 else 'apply'} to synthetic:N images only; this run has none",
            file=sys.stderr,
        )


def _as_flags(name: str, value) -> str:
    """``value`` of argument ``name`` as it would be typed: ``--lr 0.1``, ``--compile``, ``--data a --data b``."""
    flag = "--" + name.replace("_", "-")
    if value is True:
        return flag
    return " ".join(f"{flag} {shlex.quote(str(v))}" for v in (value if isinstance(value, list) else [value]))


def _claim(folder, resumed: bool, default_name: bool) -> Path:
    try:
        return claim_run_folder(folder, resumed=resumed, default_name=default_name)
    except RunFolderError as exc:
        raise TrainingError(str(exc)) from None
