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
from dataclasses import dataclass, field, fields

from core.spec import MODELS

LONG_CPU_RUN_S = 10 * 60


@dataclass
class TrainOptions:
    """One retraining run, as chosen in the dialog (None: ``digitsum train``'s default)."""

    data: list[str] = field(default_factory=list)
    mnist: str | None = None
    arch: str = "resnet50"
    head: str = "digits"
    init: str | None = None  # fine-tune from this model file (only read)
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    val_size: int | None = None  # synthetic validation images
    device: str = "auto"
    compare: str | None = None  # the model in use, scored on the same validation set
    out: str | None = None
    extra: list[str] = field(default_factory=list)  # flags typed by the user, passed as they are


def default_hyperparameters(arch: str, head: str, fine_tune: bool) -> dict:
    """Epochs, batch size and learning rate to offer: the recipe, gentler when fine-tuning.

    Fine-tuning starts from a model that already works: a tenth of the learning rate and a
    few epochs adapt it to the corrections without forgetting what it knew.
    """
    if (arch, head) not in MODELS:
        raise ValueError(f"no recipe for {arch}/{head}")
    recipe = MODELS[arch, head].recipe
    if fine_tune:
        return {"epochs": min(3, recipe["epochs"]), "batch_size": recipe["batch_size"], "lr": recipe["lr"] / 10}
    return {"epochs": recipe["epochs"], "batch_size": recipe["batch_size"], "lr": recipe["lr"]}


def train_args(opts: TrainOptions) -> list[str]:
    """The flags of ``digitsum train`` for ``opts``, always with ``--progress json``.

    Each field is the flag of its name (``batch_size`` -> ``--batch-size``), in field order;
    None and "" are left out (``digitsum train``'s default), ``data`` repeats, ``extra`` goes
    last as typed. A new option is a new field, and a flag of that name in ``core.train``.
    """
    args: list[str] = []
    for f in fields(opts):
        value, flag = getattr(opts, f.name), "--" + f.name.replace("_", "-")
        if f.name == "data":
            args += [word for spec in value for word in (flag, str(spec))]
        elif f.name == "val_size" and not any(str(s).startswith("synthetic:") for s in opts.data):
            continue  # composed validation images exist only with synthetic data
        elif f.name != "extra" and value is not None and value != "":
            args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return args + list(opts.extra) + ["--progress", "json"]


def display_command(args: list[str]) -> str:
    """The command as a person would type it: ``digitsum train ...``, quoted for a POSIX shell."""
    return "digitsum train " + shlex.join(args)


def child_argv(args: list[str]) -> list[str]:
    """The child process's argv: this Python running ``core.train`` (same code, same venv)."""
    return [sys.executable, "-m", "core.train", *args]


def estimate_cpu_seconds(arch: str, train_images: int, val_images: int, epochs: int) -> float:
    """A rough CPU duration of a run, to warn before one that takes long."""
    # (core.spec.ModelSpec.cpu_seconds_per_image: validation costs about a third of training)
    per_image = next(
        (m.cpu_seconds_per_image for m in MODELS.values() if m.arch == arch),
        MODELS["resnet50", "digits"].cpu_seconds_per_image,
    )
    return epochs * (train_images + val_images / 3) * per_image
