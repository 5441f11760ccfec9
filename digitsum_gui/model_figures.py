"""What a model's accuracy figures were measured on, in words a person can compare.

A model file's metadata ``metrics`` may hold three kinds of figure, and they are not
interchangeable:

- ``heldout_writers_acc`` (+ ``heldout_writers``, a description): images composed from the
  digits of writers the model never saw. The figure that says how it will do on a new hand.
- ``heldout_acc`` (+ ``heldout``): digits never trained on, but by writers whose other digits
  were (the bundled model's "MNIST digits set aside by index"): higher than on writers it never saw.
- ``val_acc`` (+ ``val_images``): the run's own validation images, used to pick its best epoch.

So every figure shown says its kind and on how many images it was measured, with a 95%
interval where the set is small (``"val 100.0% of 100 (±3.7)"``), and a figure of one kind
is never put beside one of another kind as if they were comparable. Plain Python: no Qt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.spec import WRITER_SPLIT_FROM_UNSPLIT_INIT, WRITER_SPLIT_FROM_UNSPLIT_TEACHER

# (metrics key, description key, count key, short name, long name), the most telling first
KINDS = (
    (
        "heldout_writers_acc",
        "heldout_writers",
        "heldout_writers_images",
        "writers it never saw",
        "writers it never saw (strangers: MNIST test writers, none of whose digits it trained on)",
    ),
    (
        "heldout_acc",
        "heldout",
        "heldout_images",
        "held-out digits",
        "held-out digits (never trained on, but by writers seen in training)",
    ),
    ("val_acc", None, "val_images", "val", "validation (the run's own, used to pick its best epoch{})"),
)
# What the composed part of a run's validation set is, by the model file's ``digit_split``:
# only a writer split with a starting point that was split so too is by hands the model never saw.
VALIDATION_WRITERS = {
    "writer": "its composed images by writers it never trained on",
    WRITER_SPLIT_FROM_UNSPLIT_INIT: (
        "its composed images by writers it never trained on, but the model it started from did"
    ),
    WRITER_SPLIT_FROM_UNSPLIT_TEACHER: (
        "its composed images by writers it never trained on, but the model it learned from (--distill) did"
    ),
    "index": "its composed images of digits it never trained on, by writers it did",
}
# said wherever a model's figures of different kinds stand together
COMPARE_NOTE = "Each figure is on its own images: compare models only on the same kind of figure and set."
# below this interval the figure is shown without one: it would only clutter a short line
SHOW_MARGIN_FROM = 0.005


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of an accuracy measured on ``n`` images.

    Unlike the normal approximation it does not collapse to nothing at 100%: 100 of 100 right
    is 96.3% to 100%.
    """
    if n <= 0:
        return 0.0, 1.0
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval_margin(accuracy: float, n: int) -> float:
    """Half the width of the 95% Wilson interval on ``n`` images (its larger side), in accuracy units."""
    low, high = wilson_interval(accuracy, n)
    return max(accuracy - low, high - accuracy)


def _images_in(description: object) -> int | None:
    """``10000`` from ``"10,000 images: ..."``; None when the text names no count."""
    match = re.search(r"(\d[\d,]*)\s+images", str(description or ""))
    return int(match.group(1).replace(",", "")) if match else None


@dataclass(frozen=True)
class Figure:
    """One accuracy figure and what it was measured on."""

    key: str  # the metrics key it came from
    name: str  # short: "val", "held-out digits", "writers it never saw"
    long_name: str
    accuracy: float
    images: int | None = None
    description: str = ""  # the model file's own words about the set, if any

    @property
    def margin(self) -> float | None:
        """Half the width of the 95% interval, in accuracy units (the larger side); None without a count."""
        return interval_margin(self.accuracy, self.images) if self.images else None

    def value_text(self, always_margin: bool = False) -> str:
        """``98.9% of 10,000`` (+ `` (±3.7)`` where the set is small, or always)."""
        text = f"{self.accuracy:.1%}"
        if self.images:
            text += f" of {self.images:,}"
        margin = self.margin
        if margin is not None and (always_margin or margin >= SHOW_MARGIN_FROM):
            text += f" (\u00b1{margin * 100:.1f})"
        return text

    def short_text(self) -> str:
        """``held-out digits 98.9% of 10,000``."""
        return f"{self.name} {self.value_text()}"

    def long_text(self) -> str:
        """One line for a tooltip: the kind in full, the figure with its interval, the set."""
        text = f"{self.long_name}: {self.accuracy:.1%}"
        if self.images:
            text += f" of {self.images:,} images (95% interval \u00b1{self.margin * 100:.1f} points)"
        return text + (f" \u2014 {self.description}" if self.description else "")


def model_figures(metrics: dict | None, digit_split: str | None = None) -> list[Figure]:
    """The figures a model's ``metrics`` hold, the most telling first (writers it never saw, held-out digits, val).

    ``digit_split`` is the model file's own (``"writer"``, ``"index"``, ...): the validation
    figure's long name then says whose handwriting its composed images are.
    """
    metrics = metrics if isinstance(metrics, dict) else {}
    figures = []
    for key, about_key, count_key, name, long_name in KINDS:
        value = metrics.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            continue
        description = str(metrics.get(about_key) or "") if about_key else ""
        if key == "val_acc":
            whose = VALIDATION_WRITERS.get(digit_split)
            long_name = long_name.format(f"; {whose}" if whose else "")
        images = metrics.get(count_key)
        if not isinstance(images, int) or isinstance(images, bool) or images <= 0:
            images = _images_in(description)
        figures.append(Figure(key, name, long_name, float(value), images, description))
    return figures


def best_figure_text(metrics: dict | None) -> str:
    """The most telling figure in a few words (``writers it never saw 99.1% of 10,000``), or ``""``."""
    figures = model_figures(metrics)
    return figures[0].short_text() if figures else ""


def figures_tooltip(metrics: dict | None, digit_split: str | None = None) -> str:
    """Every figure of ``metrics``, one a line, each saying what it was measured on."""
    figures = model_figures(metrics, digit_split)
    if not figures:
        return "This model file records no accuracy."
    lines = [f.long_text() for f in figures]
    if len(figures) > 1:
        lines.append(COMPARE_NOTE)
    return "\n".join(lines)
