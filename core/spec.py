"""What a digitsum image and a digitsum model are, without torch: the constants and the model registry.

Everything that only needs to *know* these facts (the GUI at start-up, the readers of images
and labels, the Retrain form) imports them from here, so it never pays for ``import torch``
(seconds on a cold disk). ``core.models.networks`` builds the networks the registry names.

    from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, MAX_SUM, MODELS, heads_of
    heads_of("baseline")                          # ("sum",)
    MODELS["resnet50", "digits"].cpu_seconds_per_image

A new architecture is one ``ModelSpec`` entry here plus its network's module, which holds
the ``builder`` the entry names (``core.models.networks.build_model`` imports it only when asked).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

IMAGE_HEIGHT, IMAGE_WIDTH = 40, 168
NUM_DIGITS = 4
NUM_SUMS = 9 * NUM_DIGITS + 1  # 0..36
MAX_SUM = NUM_SUMS - 1
HEADS = ("digits", "sum")
# Where the digits of a composed image go (core.synth.placement): ours, an independent grid, touching neighbours.
LAYOUTS = ("synth", "grid", "touch")
# Confidence under which a row is read again from shifted copies (core.predict.second_look;
# benchmarks/RESULTS.md: why 0.9). Here, not there, so the GUI can say it without torch.
SECOND_LOOK_BELOW = 0.9
# The same for crowded rows, whose four digits fill under half the width (core.predict.second_look:
# they are read again from a stretched copy; chosen on the selection half of MNIST's test writers).
CROWDED_LOOK_BELOW = 0.99
# Confidence under which the app marks a row doubtful, for a person to review: the highest on the
# filter's steps that flags at most 3% of the default model's rows on the selection half of
# MNIST's test writers, in synth and grid (benchmarks/second_look_eval.py), and reported on the
# report half (resources/models/MODEL_CARD.md, "Doubtful rows").
DOUBTFUL_BELOW = 0.96
# A model file's ``digit_split`` (core/train/script.py): how the digits of its composed images were
# split between training and validation: by "writer", by "index", or by writer in a run that
# started from (or learned from, --distill) a model that was not: the validation writers are
# then not new to it.
WRITER_SPLIT_FROM_UNSPLIT_INIT = "writer, from an --init that was not"
WRITER_SPLIT_FROM_UNSPLIT_TEACHER = "writer, from a --distill model that was not"


# What ``Recipe.optimizer`` and ``Recipe.schedule`` may name (core.train.optimizer builds them).
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """``digitsum train``'s defaults for one model: how it trains unless a flag says otherwise.

    Each field is the run setting of its name (``args.lr``, ``args.batch_size``, ...). Those
    in ``FLAGS`` have a flag of that name (``--lr``, ``--batch-size``, ...) which replaces
    them; ``optimizer`` and ``schedule`` come with the model alone. ``fine_tune_lr`` is the
    learning rate of a run that starts from such a model (:meth:`for_fine_tuning`).
    """

    FLAGS: ClassVar[tuple[str, ...]] = ("lr", "batch_size", "epochs", "weight_decay")

    lr: float
    batch_size: int
    epochs: int
    weight_decay: float
    optimizer: str  # one of OPTIMIZERS
    schedule: str  # one of SCHEDULES
    fine_tune_lr: float | None = None  # None: a tenth of lr

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS or self.schedule not in SCHEDULES:
            raise ValueError(f"a recipe's optimizer is one of {OPTIMIZERS} and its schedule one of {SCHEDULES}")

    def for_fine_tuning(self) -> Recipe:
        """The recipe for a run that starts from a model of this kind that already works.

        ``fine_tune_lr`` (by default a tenth of the learning rate) and at most three epochs
        adapt it to new images (a person's corrections) without forgetting what it knew.
        """
        lr = self.lr / 10 if self.fine_tune_lr is None else self.fine_tune_lr
        return replace(self, lr=lr, epochs=min(3, self.epochs))


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One shipped network: an architecture with one head.

    ``builder`` names the function that makes it, ``"module:function"`` with
    ``function(pretrained: bool) -> core.models.networks.DigitSumNet`` (a name, so this module needs no
    torch). ``recipe`` holds ``digitsum train``'s defaults for it. ``cpu_seconds_per_image`` is the
    rough training cost per image on a CPU (forward + backward, a few cores), for the Retrain
    dialog's warning before a long CPU run; validation costs about a third of that per image.
    """

    arch: str
    head: str
    summary: str
    cpu_seconds_per_image: float
    builder: str
    recipe: Recipe


# The first entry of an architecture names its default head (``digitsum train --arch A``).
# The report's recipes are the defaults for its two models; ours for the digits head.
MODELS = {
    (m.arch, m.head): m
    for m in (
        ModelSpec(
            arch="resnet50",
            head="digits",
            summary="ResNet-50 reading the four digits; the sum's exact distribution",
            cpu_seconds_per_image=0.05,
            builder="core.models.networks:resnet50_digits",
            # fine_tune_lr: the rate of the default model's own fine-tunes (its card). A Retrain at a tenth
            # of 2e-3 read the selection half's blurred images worse: on 300 corrections and 2,000
            # composed images per epoch, two seeds each, 13 and 9 fewer right of 5,000 at 2e-4, 4 and 7 at
            # 5e-5, with synth, grid and touch alike and the corrections' own validation as good
            recipe=Recipe(
                lr=2e-3,
                batch_size=128,
                epochs=10,
                weight_decay=0.05,
                optimizer="adamw",
                schedule="cosine",
                fine_tune_lr=5e-5,
            ),
        ),
        ModelSpec(
            arch="resnet50",
            head="sum",
            summary="ResNet-50 with the report's 128-d head, 37-way softmax over sums",
            cpu_seconds_per_image=0.05,
            builder="core.models.networks:resnet50_sum",
            recipe=Recipe(lr=5e-4, batch_size=64, epochs=25, weight_decay=0.0, optimizer="adam", schedule="constant"),
        ),
        ModelSpec(
            arch="baseline",
            head="sum",
            summary="the report's small CNN, 37-way softmax over sums",
            cpu_seconds_per_image=0.004,
            builder="core.models.networks:baseline_sum",
            recipe=Recipe(lr=1e-3, batch_size=64, epochs=8, weight_decay=0.0, optimizer="adam", schedule="constant"),
        ),
    )
}
ARCHS = tuple(dict.fromkeys(arch for arch, _ in MODELS))  # ("resnet50", "baseline")


def heads_of(arch: str) -> tuple[str, ...]:
    """The heads ``arch`` is built with, its default first (empty for an unknown arch)."""
    return tuple(head for a, head in MODELS if a == arch)
