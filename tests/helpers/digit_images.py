"""Digit-like images written as real PNG files, for the tests of listing inputs and of labelled sets."""

from __future__ import annotations

import numpy as np
from PIL import Image


def digits_like(seed: int = 0) -> np.ndarray:
    """A 40x168 uint8 image, strokes of varied brightness on black (as in test_images)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((40, 168), np.uint8)
    for k in range(4):
        x0, y0 = 8 + 40 * k + int(rng.integers(0, 6)), int(rng.integers(4, 10))
        img[y0 : y0 + 24, x0 : x0 + 4] = rng.integers(120, 256)
        img[y0 + 20 : y0 + 24, x0 : x0 + 18] = 255
    return img


REF = digits_like()


def write_png(path, arr=REF):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format="PNG")
    return path
