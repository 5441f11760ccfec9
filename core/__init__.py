"""digitsum core: read the sum of four handwritten digits in 40x168 images, without Qt."""

__version__ = "0.1.0"

from pathlib import Path as _Path

# the default model, its int8 ranges, the digit bank and the samples (an editable install)
RESOURCES = _Path(__file__).resolve().parent.parent / "resources"
