"""The ``digitsum`` metadata of a model file, checked before anyone reads a field of it.

The metadata is JSON written by ``core.models.checkpoint.save_model``, but a file can say anything:
a list where a mapping belongs, a string where a figure belongs, an array nested 100,000
deep. ``parse_metadata`` refuses what the readers of a model (the command line, the window's
model list and details, the model store) could not use, with one line, so that none of them
meets a field of the wrong type. Fields it does not know are kept as they are.
"""

from __future__ import annotations

import json
import math

from core.errors import DigitsumError

MAX_DEPTH = 32  # nesting of lists and mappings (ours: 3); deeper JSON is an attack, not a model
# figures the readers format as numbers (``ModelInfo.metric``, the window's tables)
NUMBER_METRICS = (
    "val_acc",
    "val_loss",
    "val_digit_acc",
    "val_images",
    "heldout_acc",
    "heldout_digit_acc",
    "train_loss",
    "epoch",
    "compare_val_acc",
)
TEXT_FIELDS = ("format", "created", "version", "command", "data", "init", "hardware")
WHOLE_FIELDS = (
    "input_height",
    "input_width",
    "num_classes",
    "channels",
    "seed",
    "epochs_trained",
    "train_images_per_epoch",
)


class MetadataError(DigitsumError, ValueError):
    """Metadata that no reader of a model could use; ``str()`` is one line without the file's name."""


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _depth(value) -> int:
    """Nesting depth of lists and mappings, without recursion (the value may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_metadata(raw: str) -> dict:
    """The metadata JSON ``raw`` as a dict whose known fields have the types their readers expect.

    Raises
    ------
    MetadataError
        Unparsable, too deep, not a mapping, or a known field of the wrong type.
    """
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):  # (a JSONDecodeError is a ValueError; deep nesting overflows the parser)
        raise MetadataError("unreadable digitsum metadata (not JSON)") from None
    if not isinstance(meta, dict):
        raise MetadataError(f"unreadable digitsum metadata (a {type(meta).__name__}, not a mapping)")
    if _depth(meta) > MAX_DEPTH:
        raise MetadataError(f"digitsum metadata nested more than {MAX_DEPTH} deep")
    for key in TEXT_FIELDS:
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise MetadataError(f"metadata field {key} must be text, got {_short(meta[key])}")
    for key in WHOLE_FIELDS:
        if meta.get(key) is not None and (not isinstance(meta[key], int) or isinstance(meta[key], bool)):
            raise MetadataError(f"metadata field {key} must be a whole number, got {_short(meta[key])}")
    metrics = meta.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise MetadataError(f"metadata field metrics must be a mapping, got {_short(metrics)}")
        for key in NUMBER_METRICS:
            value = metrics.get(key)
            if value is not None and (not _is_number(value) or not math.isfinite(value)):
                raise MetadataError(f"metadata metrics.{key} must be a finite number, got {_short(value)}")
    for key in ("arch", "head"):
        if not isinstance(meta.get(key), str):
            raise MetadataError(f"unknown model: metadata field {key} is {_short(meta.get(key))}")
    return meta
