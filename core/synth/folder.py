"""Write a folder of composed images and their ``labels.csv``, as ``digitsum synth`` does.

digitsum synth /tmp/s --count 200 --mnist ../shared/data/mnist-train.npz --seed 0
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from core.labels.labels_csv import LABELS_NAME
from core.synth.bank import DigitBank
from core.synth.composer import compose_chunks

SYNTH_PNG_BYTES = 1400  # one composed PNG and its labels.csv row, at most about this (they are 0.9-1.3 KB)


def synth_names(count: int) -> Callable[[str], bool]:
    """Whether ``write_synthetic_folder`` of ``count`` images writes a file of this name."""
    width = max(5, len(str(count)))
    pattern = re.compile(rf"synth_(\d{{{width}}})\.png")

    def writes(name: str) -> bool:
        match = pattern.fullmatch(name)
        return name == LABELS_NAME or (match is not None and int(match[1]) < count)

    return writes


def write_synthetic_folder(
    out_dir: str | Path, count: int, bank: DigitBank, seed: int = 0, progress=None, layout: str = "synth"
) -> Path:
    """Write ``count`` composed PNGs and ``labels.csv`` (``filename,sum,digits``) to ``out_dir``.

    The images are written as they are composed (``compose_chunks``): memory stays bounded.
    See :func:`core.synth.composer.compose_chunks` for ``layout``.
    """
    from PIL import Image

    from core.labels.labels_csv import write_labels_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(count)))
    labels = {}
    i = 0
    for images, digits in compose_chunks(bank, count, seed, layout=layout):
        for img, dig in zip(images, digits, strict=True):
            name = f"synth_{i:0{width}d}.png"
            Image.fromarray(img, mode="L").save(out / name, optimize=False)
            labels[name] = (int(dig.sum()), "".join(map(str, dig)))
            i += 1
            if progress is not None:
                progress(1)
    write_labels_csv(out / LABELS_NAME, labels)
    return out
