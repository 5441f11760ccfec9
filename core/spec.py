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

from dataclasses import dataclass, field

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
# Confidence under which the app marks a row doubtful, for a person to review: chosen on the
# selection half of MNIST's test writers so that about 3% of rows are flagged, and reported on
# the report half (resources/models/MODEL_CARD.md, "Doubtful rows").
DOUBTFUL_BELOW = 0.98
# A model file's ``digit_split`` (core/train/script.py): how the digits of its composed images were
# split between training and validation: by "writer", by "index", or by writer in a run that
# started from a model that was not (so the validation writers are not new to it).
WRITER_SPLIT_FROM_UNSPLIT_INIT = "writer, from an --init that was not"


@dataclass(frozen=True)
class ModelSpec:
    """One shipped network: an architecture with one head.

    ``builder`` names the function that makes it, ``"module:function"`` with
    ``function(pretrained: bool) -> core.models.networks.DigitSumNet`` (a name, so this module needs no
    torch). ``recipe`` holds ``digitsum train``'s defaults for it (lr, batch_size, epochs, optimizer,
    schedule, weight_decay). ``cpu_seconds_per_image`` is the rough training cost per image on
    a CPU (forward + backward, a few cores), for the Retrain dialog's warning before a long
    CPU run; validation costs about a third of that per image.
    """

    arch: str
    head: str
    summary: str
    cpu_seconds_per_image: float
    builder: str
    recipe: dict = field(default_factory=dict)


# The first entry of an architecture names its default head (``digitsum train --arch A``).
# The report's recipes are the defaults for its two models; ours for the digits head.
MODELS = {
    (m.arch, m.head): m
    for m in (
        ModelSpec(
            "resnet50",
            "digits",
            "ResNet-50 reading the four digits; the sum's exact distribution",
            0.05,
            "core.models.networks:resnet50_digits",
            dict(lr=2e-3, batch_size=128, epochs=10, optimizer="adamw", schedule="cosine", weight_decay=0.05),
        ),
        ModelSpec(
            "resnet50",
            "sum",
            "ResNet-50 with the report's 128-d head, 37-way softmax over sums",
            0.05,
            "core.models.networks:resnet50_sum",
            dict(lr=5e-4, batch_size=64, epochs=25, optimizer="adam", schedule="constant", weight_decay=0.0),
        ),
        ModelSpec(
            "baseline",
            "sum",
            "the report's small CNN, 37-way softmax over sums",
            0.004,
            "core.models.networks:baseline_sum",
            dict(lr=1e-3, batch_size=64, epochs=8, optimizer="adam", schedule="constant", weight_decay=0.0),
        ),
    )
}
ARCHS = tuple(dict.fromkeys(arch for arch, _ in MODELS))  # ("resnet50", "baseline")


def heads_of(arch: str) -> tuple[str, ...]:
    """The heads ``arch`` is built with, its default first (empty for an unknown arch)."""
    return tuple(head for a, head in MODELS if a == arch)
