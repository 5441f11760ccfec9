"""``digitsum train``'s flags, in groups: data, model, schedule, run, machine.

The defaults that depend on the model (``--head``, ``--epochs``, ``--batch-size``, ``--lr``,
``--weight-decay``) are None here and filled from its recipe (``core.train.run_setup.resolve_recipe``);
their help texts are written from ``core.spec.MODELS``, so a new model's recipe shows in
``--help`` without a word here.

    args = get_args_parser().parse_args(["--data", "synthetic:512", "--arch", "baseline"])
"""

from __future__ import annotations

import argparse

from core.argtypes import (
    MAX_BATCH,
    MAX_SEED,
    MAX_WORKERS,
    data_spec,
    device_spec,
    duration,
    float_in,
    int_in,
)
from core.spec import ARCHS, HEADS, MODELS, heads_of
from core.train.datasets import VAL_FRACTION


def recipe_defaults(name: str, fine_tuning: bool = False) -> str:
    """Each model's recipe value of ``name`` (``fine_tuning``: its fine-tuning recipe's), for a help text:
    ``128 for resnet50/digits, 64 for resnet50/sum and baseline/sum``."""
    models_by_value: dict[object, list[str]] = {}
    for (arch, head), model in MODELS.items():
        recipe = model.recipe.for_fine_tuning() if fine_tuning else model.recipe
        models_by_value.setdefault(getattr(recipe, name), []).append(f"{arch}/{head}")
    return ", ".join(f"{value:g} for {' and '.join(models)}" for value, models in models_by_value.items())


def default_heads() -> str:
    """Each architecture's default head, for a help text: ``digits for resnet50, sum for baseline``."""
    return ", ".join(f"{heads_of(arch)[0]} for {arch}" for arch in ARCHS)


class TrainArgumentParser(argparse.ArgumentParser):
    """argparse's parser, keeping the reason it refused the command line (``refusal``): a
    ``--progress json`` caller gets it as an ``error`` event too (``core.train.script.run_cli``)."""

    refusal = ""

    def error(self, message: str):
        self.refusal = message
        super().error(message)


def get_args_parser(add_help=True) -> TrainArgumentParser:
    """The parser of ``digitsum train`` (``python -m core.train``); its ``prog`` is set by the caller."""
    p = TrainArgumentParser(description="Train a digitsum model", add_help=add_help)
    _add_data_args(p.add_argument_group("data", "what the run trains and validates on"))
    _add_model_args(p.add_argument_group("model", "the network and where its weights start"))
    _add_schedule_args(p.add_argument_group("schedule", "how long and how fast it trains"))
    _add_run_args(p.add_argument_group("run", "the run's folder, randomness and output"))
    _add_machine_args(p.add_argument_group("machine", "where it runs: --resume chooses these anew"))
    return p


def _add_data_args(g) -> None:
    g.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="SPEC",
        type=data_spec,
        help="training data, repeatable: a folder with labels.csv, an assignment data*.npy "
        "(its lab*.npy twin found by name), or synthetic:N (default: none)",
    )
    g.add_argument(
        "--mnist",
        default=None,
        help="MNIST digits for synthetic:N: .npz with x,y, torchvision's MNIST folder or IDX "
        "files (default: the small bank in resources/)",
    )
    g.add_argument(
        "--augment",
        type=float_in(0, 1),
        default=1.0,
        metavar="SHARE",
        help="share of composed training images that get augmentation (rotation, shear, elastic distortion, "
        "stroke thickness, wider layouts, blur, noise, contrast); the rest are composed like `digitsum synth` "
        "(default: 1.0)",
    )
    g.add_argument(
        "--touch",
        type=float_in(0, 1),
        default=0.0,
        metavar="SHARE",
        help="share of composed training images whose neighbours touch or overlap (core.synth.placement.touch_layout) "
        "(default: 0)",
    )
    g.add_argument(
        "--val-digits",
        default=None,
        metavar="NPZ",
        help="compose the validation images from these digits, all of them, in each layout alike (synth, grid, "
        "touch), e.g. the selection half of MNIST's test writers; --mnist's digits then all train, none are set "
        "aside (default: the --mnist bank's validation writers)",
    )
    g.add_argument(
        "--val-blurred",
        action="store_true",
        help="validate on blurred images too: a further equal share of the composed validation images, in ours "
        "layout, blurred by a Gaussian of sigma 1 px (the robustness check's blur), so that the epoch kept does not "
        "read blurred images worse unseen (default: off)",
    )
    g.add_argument(
        "--val-fraction",
        type=float_in(0, 1),
        default=VAL_FRACTION,
        help=f"share of real labelled files for validation (default: {VAL_FRACTION:g})",
    )
    g.add_argument(
        "--val-size",
        type=int_in(1),
        default=2000,
        help="composed validation images with synthetic data (default: 2000)",
    )


def _add_model_args(g) -> None:
    g.add_argument("--arch", default=ARCHS[0], choices=ARCHS, help=f"network (default: {ARCHS[0]})")
    g.add_argument(
        "--head",
        default=None,
        choices=HEADS,
        help=f"digits: read four digits and convolve; sum: 37-way softmax (default: {default_heads()})",
    )
    g.add_argument("--pretrained", action="store_true", help="start ResNet-50 from ImageNet weights (default: off)")
    g.add_argument(
        "--init", default=None, metavar="MODEL", help="fine-tune from this model file; it is only read (default: none)"
    )
    g.add_argument(
        "--distill",
        default=None,
        metavar="MODEL",
        help="also learn this digits model's digit distributions where it reads the labels right, so a "
        "fine-tune keeps what it read before; usually the --init model (default: none)",
    )
    g.add_argument(
        "--distill-weight",
        type=float_in(0, low_open=True),
        default=1.0,
        help="weight of --distill's term beside the labels' (default: 1.0)",
    )
    g.add_argument(
        "--freeze-bn",
        action="store_true",
        help="keep the batch-norm statistics of --init (or --pretrained) as they are: its layers normalise with "
        "them while training too, and only their scale and shift learn (default: off)",
    )
    g.add_argument(
        "--frozen-stages",
        type=int_in(0, 4),
        default=0,
        metavar="N",
        help="keep the stem and the first N of ResNet-50's four stages as --init (or --pretrained) has them, "
        "weights and batch-norm statistics; the rest learns, and steps skip their backward pass (default: 0)",
    )
    g.add_argument(
        "--compare",
        default=None,
        metavar="MODEL",
        help="also score this model file on the run's validation set, reported as compare_val_acc "
        "(the GUI passes the model in use) (default: none)",
    )


def _add_schedule_args(g) -> None:
    g.add_argument(
        "--epochs",
        type=int_in(1),
        default=None,
        help=f"epochs (default: {recipe_defaults('epochs')}; with --init at most 3)",
    )
    g.add_argument(
        "--batch-size",
        type=int_in(1, MAX_BATCH),
        default=None,
        help=f"images per step and process (default: {recipe_defaults('batch_size')})",
    )
    g.add_argument(
        "--lr",
        type=float_in(0, low_open=True),
        default=None,
        help=f"peak learning rate (default: {recipe_defaults('lr')}; with --init {recipe_defaults('lr', True)})",
    )
    g.add_argument(
        "--weight-decay",
        type=float_in(0),
        default=None,
        help=f"AdamW weight decay (default: {recipe_defaults('weight_decay')})",
    )
    g.add_argument(
        "--warmup",
        type=float_in(0, 1),
        default=0.03,
        help="share of steps with linear warm-up, cosine schedule only (default: 0.03)",
    )
    g.add_argument(
        "--ema",
        type=float_in(0, 1, high_open=True),
        default=0.0,
        metavar="DECAY",
        help="keep an exponential moving average of the weights (and batch-norm statistics) with this decay per "
        "step, e.g. 0.999; it is what is validated and saved (default: 0, off)",
    )
    g.add_argument(
        "--time-limit",
        type=duration,
        default=None,
        metavar="SPAN",
        help="stop at the first step after training this long (150m, 2h30m, 90s; set-up not counted) and keep "
        "the best model, as a STOP file would; --resume redoes the steps since the last whole epoch and starts "
        "a new span (default: none)",
    )


def _add_run_args(g) -> None:
    g.add_argument("--out", default=None, help="run folder (default: runs/<time>-<arch>-<head>/)")
    g.add_argument(
        "--resume", default=None, metavar="DIR", help="continue the run in DIR from its checkpoint (default: none)"
    )
    g.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default: 0)")
    g.add_argument(
        "--progress",
        default="bar",
        choices=["bar", "json"],
        help="bar: tqdm and epoch lines on stderr; json: one JSON event per line on stdout (default: bar)",
    )
    g.add_argument(
        "--onnx",
        action="store_true",
        help="at the end, also write best.int8.onnx, the file prediction runs on a CPU (needs "
        "pip install 'digitsum[onnx]'; default: off, made on the model's first use on a CPU)",
    )


def _add_machine_args(g) -> None:
    g.add_argument("--device", default="auto", type=device_spec, help="auto, cpu, cuda or cuda:N (default: auto)")
    g.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="autocast precision (default: auto = bf16 on CUDA and on CPUs with native bf16, where the "
        "start of the run measures it faster than fp32; fp32 elsewhere)",
    )
    g.add_argument(
        "--threads", type=int_in(1, MAX_WORKERS), default=None, help="CPU threads for torch (default: torch's choice)"
    )
    g.add_argument("--compile", action="store_true", help="torch.compile the model (default: off)")
