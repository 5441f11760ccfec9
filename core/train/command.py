"""What the Retrain dialog needs from ``core``: the ``digitsum train`` command it runs.

The dialog collects a ``TrainOptions``; ``train_args`` turns it into the flags of
``digitsum train`` (one code path with the command line: the child process is
``python -m core.train`` with exactly these flags, and the dialog shows them as the
``digitsum train ...`` command a user could type).

    opts = TrainOptions(data=["scans/batch-7", "synthetic:2000"], arch="resnet50", head="digits",
                        init="current.safetensors", epochs=3, out="runs/20250101-120000-resnet50-digits")
    display_command(train_args(opts))   # 'digitsum train --data scans/batch-7 ... --progress json'
    child_argv(train_args(opts))        # [sys.executable, '-m', 'core.train', ...]
"""

from __future__ import annotations

import shlex
import sys
import typing
from dataclasses import MISSING, dataclass, field, fields

from core.cpu import BF16_CPU_SPEEDUP, cpu_has_native_bf16
from core.spec import MODELS, Recipe

LONG_CPU_RUN_S = 10 * 60


@dataclass(frozen=True)
class Control:
    """How the Retrain form offers an option: a labelled control in its Schedule group.

    The kind of control follows the field's type: a spin box for ``int``, a decimal spin box
    for ``float``, a check box for ``bool``, a line of text for ``str``. It starts at the
    field's default (or at ``minimum`` where that is None), or at the recipe's value where
    ``default_hyperparameters`` has one.
    """

    label: str
    tooltip: str
    minimum: float = 0
    maximum: float = 1_000_000
    decimals: int = 0  # float only
    step: float = 1


def control(label: str, tooltip: str, **limits) -> dict:
    """A field's metadata that puts it in the Retrain form: ``field(metadata=control(...))``."""
    return {"control": Control(label, tooltip, **limits)}


@dataclass
class TrainOptions:
    """One retraining run, as chosen in the dialog (None: ``digitsum train``'s default).

    A new option is a field here, named as its flag in ``core.train.args``; with ``control(...)``
    metadata the Retrain form offers it too (``form_controls``).
    """

    data: list[str] = field(default_factory=list)
    mnist: str | None = None
    arch: str = "resnet50"
    head: str = "digits"
    init: str | None = None  # fine-tune from this model file (only read)
    distill: str | None = None  # also learn this digits model's distributions (``keeping_what_it_reads``)
    freeze_bn: bool = False
    frozen_stages: int | None = None
    epochs: int | None = field(
        default=None,
        metadata=control(
            "Epochs:",
            "Passes over the training images; the run keeps its best epoch on the validation "
            "images. Fine-tuning: 2-3; from scratch: 8-25.",
            minimum=1,
            maximum=1000,
        ),
    )
    batch_size: int | None = field(
        default=None,
        metadata=control(
            "Batch size:",
            "Images per step (1-8192): 64-128 on a CPU, 256-1024 on a GPU with memory to "
            "spare; lower it if a GPU runs out of memory",
            minimum=1,
            maximum=8192,
        ),
    )
    lr: float | None = field(
        default=None,
        metadata=control(
            "Learning rate:",
            "How large each step's change to the weights is. The value offered is the recipe's "
            "(a lower one to fine-tune); lower it if the loss turns into NaN.",
            minimum=1e-6,
            maximum=1.0,
            decimals=6,
            step=1e-4,
        ),
    )
    val_size: int | None = None  # synthetic validation images
    device: str = "auto"
    compare: str | None = None  # the model in use, scored on the same validation set
    out: str | None = None
    extra: list[str] = field(default_factory=list)  # flags typed by the user, passed as they are


# The options the form fills from the model's recipe (``default_hyperparameters``): the fields
# named as a flag of the recipe (core.spec.Recipe.FLAGS). Every other option the form offers
# starts at its field's default.
RECIPE_OPTIONS = tuple(f.name for f in fields(TrainOptions) if f.name in Recipe.FLAGS)


def keeping_what_it_reads(model: str) -> dict:
    """The options that make a fine-tune from ``model`` keep what it reads while it learns.

    The recipe of every default-model fine-tune since the eighth (the model card): the network
    also learns ``model``'s digit distributions where ``model`` reads the labels right, keeps its
    batch-norm statistics, and keeps its stem and first two stages as they are. Fine-tunes
    without it gained on the layouts they were taught and lost on everything else. ``model`` must
    have the digits head (``--distill`` reads its digits).
    """
    return {"distill": model, "freeze_bn": True, "frozen_stages": 2}


def form_controls(options_type: type = TrainOptions) -> list[tuple[str, type, Control, object]]:
    """``(name, type, control, default)`` of each field the Retrain form offers, in field order.

    ``type`` is the field's type without ``None`` (``int | None`` -> ``int``): int, float, bool
    or str.

    Raises
    ------
    TypeError
        For a field the form could not offer faithfully: another type, a ``default_factory``,
        or a number whose default is None (a spin box always holds a number, so the form would
        send one in place of ``digitsum train``'s default) unless the recipe gives it one.
    """
    hints = typing.get_type_hints(options_type)
    found = []
    for f in fields(options_type):
        if "control" not in f.metadata:
            continue
        hint, args = hints[f.name], typing.get_args(hints[f.name])
        kind = next(t for t in args if t is not type(None)) if len(args) == 2 and type(None) in args else hint
        if kind not in (int, float, bool, str):  # (X | None -> X; list[str], X | Y: refused)
            raise TypeError(f"Retrain option {f.name}: the form offers int, float, bool or str, not {hint}")
        if f.default is MISSING:
            raise TypeError(f"Retrain option {f.name}: needs a plain default, not a default_factory")
        if f.default is None and kind in (int, float) and f.name not in RECIPE_OPTIONS:
            raise TypeError(f"Retrain option {f.name}: a number needs a default (the form always sends one)")
        found.append((f.name, kind, f.metadata["control"], f.default))
    return found


def default_hyperparameters(arch: str, head: str, fine_tune: bool) -> dict:
    """The ``RECIPE_OPTIONS`` to offer: the recipe's, gentler when fine-tuning
    (``core.spec.Recipe.for_fine_tuning``: a lower learning rate, a few epochs)."""
    if (arch, head) not in MODELS:
        raise ValueError(f"no recipe for {arch}/{head}")
    recipe = MODELS[arch, head].recipe
    if fine_tune:
        recipe = recipe.for_fine_tuning()
    return {name: getattr(recipe, name) for name in RECIPE_OPTIONS}


def train_args(opts: TrainOptions) -> list[str]:
    """The flags of ``digitsum train`` for ``opts``, always with ``--onnx --progress json``.

    ``--onnx``: a model trained in the app has its CPU prediction file as soon as it is done.

    Each field is the flag of its name (``batch_size`` -> ``--batch-size``), in field order;
    None and "" are left out (``digitsum train``'s default), True is the bare flag and False
    leaves it out, ``data`` repeats, ``extra`` goes last as typed. A new option is a new
    field, and a flag of that name in ``core.train.args``.
    """
    args: list[str] = []
    for f in fields(opts):
        value, flag = getattr(opts, f.name), "--" + f.name.replace("_", "-")
        if f.name == "data":
            args += [word for spec in value for word in (flag, str(spec))]
        elif f.name == "val_size" and not any(str(s).startswith("synthetic:") for s in opts.data):
            continue  # composed validation images exist only with synthetic data
        elif isinstance(value, bool):
            args += [flag] if value else []  # a switch: given or not
        elif f.name != "extra" and value is not None and value != "":
            args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return args + list(opts.extra) + ["--onnx", "--progress", "json"]


def display_command(args: list[str]) -> str:
    """The command as a person would type it: ``digitsum train ...``, quoted for a POSIX shell."""
    return "digitsum train " + shlex.join(args)


def child_argv(args: list[str]) -> list[str]:
    """The child process's argv: this Python running ``python -m core.train`` (same code, same venv)."""
    return [sys.executable, "-m", "core.train", *args]


def estimate_cpu_seconds(arch: str, head: str, train_images: int, val_images: int, epochs: int) -> float:
    """A rough CPU duration of a run of a registered model, to warn before one that takes long.

    ``cpu_seconds_per_image`` (``core.spec``) is the fp32 cost; a CPU with native bf16 trains in
    bf16 (``--precision auto``), ``BF16_CPU_SPEEDUP`` times as fast.

    The Retrain dialog's "Keep what it reads" (``keeping_what_it_reads``) is not counted apart,
    as the two costs it changes about cancel: its teacher's forward pass adds about a third of
    a step (a step is a forward pass and a backward one of twice its cost), and its two frozen
    stages, whose backward pass is skipped, make a step 1.45x as fast (``core.train.freezing``):
    1 / 1.45 + 1 / 3 = 1.02 plain steps.
    """
    # (validation costs about a third of training)
    seconds = epochs * (train_images + val_images / 3) * MODELS[arch, head].cpu_seconds_per_image
    return seconds / BF16_CPU_SPEEDUP if cpu_has_native_bf16() else seconds
