"""Images with no digits in them: found before the model sees them, so never read with confidence.

A network trained on four digits answers every input with some sum, and on inputs unlike
anything it saw it can be sure of nonsense: the default model reads a uniform grey image
as 32 ("8888") at 0.99, 4000x4000 random noise at 0.99, ruled lines at 1.00. No later
step can repair that (a second look at shifted copies of a grey image sees the same grey).
So ``no_digits_reason`` looks at the model's input itself and names what it sees instead:

- blank: (nearly) one grey level, or a few bright pixels at most;
- no background: the image's middle grey level is not its dark background (noise, a
  gradient, a photograph), or most of it is ink;
- specks: its bright pixels touch each other no more than independent points would (salt
  noise, dust, random noise of any density), where strokes do far more;
- lines: it varies along one axis only (ruled paper, stripes, a gradient).

Handwritten digits on a dark background pass all four by a wide margin: on 9,500 composed
images (our layout, an independent grid layout, training augmentation, JPEG at quality 30
and 50, blur, a third of the contrast, a grey background, half the resolution, noise of
sigma 25) none is flagged. It costs about 40 us per image (80 us in a decoding thread, whose
caches PNG decoding has just filled), against ~110 us to decode a PNG and ~2 ms of model
time per image on a 2-core CPU: within the noise of a whole run (benchmarks in issue 14).
"""

from __future__ import annotations

import numpy as np

MIN_SPAN = 40  # grey levels between background and ink (digits: >= 136 even at a third of the contrast)
MIN_INK = 24  # pixels clearly above the background (four digits: > 100)
MAX_INK_SHARE = 0.45  # share of the image that is ink (digits: < 0.3)
MAX_BACKGROUND_RISE = 0.3  # where the median sits between darkest and brightest (digits: < 0.2)
# Bright 4-neighbours per bright pixel beyond what chance gives (4 x their density for independent
# pixels): salt, noise and dust of any density score ~0, strokes >= 1.6
MIN_EXCESS_NEIGHBOURS = 0.8
MIN_2D_VARIANCE = 0.1  # share of the variance that neither row nor column means explain (digits: > 0.4)
_LEVELS = np.arange(256, dtype=np.float64)


def no_digits_reason(image: np.ndarray) -> str:
    """Why ``image`` holds no digits to read, or ``""`` when it may hold some.

    Parameters
    ----------
    image : np.ndarray
        The model's input: uint8 (40, 168), white strokes on black (``core.inputs.images.to_model_input``).

    Returns
    -------
    str
        ``""``, or a one-line reason for the row's error, e.g. ``no digits found (blank or uniform image)``.

    Notes
    -----
    About a dozen numpy calls on one histogram and a few views, no temporary image of more
    than 6,720 bytes: it runs in the decoding threads, beside PNG decoding.
    """
    n = image.size
    hist = np.bincount(image.ravel(), minlength=256)
    cdf = hist.cumsum()
    lo, med, hi = (int(v) for v in cdf.searchsorted((0.005 * n, 0.5 * n, 0.995 * n)))
    span = hi - lo
    if span < MIN_SPAN:
        return "no digits found (blank or uniform image)"
    if med - lo > MAX_BACKGROUND_RISE * span:
        return "no digits found (no dark background: noise, a gradient or a photograph?)"
    ink = n - int(cdf[med + (hi - med) // 4])  # pixels above a quarter of the way to the brightest
    if ink < MIN_INK:
        return "no digits found (blank or uniform image)"
    if ink > MAX_INK_SHARE * n:
        return "no digits found (no dark background: noise, a gradient or a photograph?)"
    level = med + (hi - med) // 2
    bright = max(1, n - int(cdf[level]))
    strong = image > level
    pairs = np.count_nonzero(strong[:, 1:] & strong[:, :-1]) + np.count_nonzero(strong[1:] & strong[:-1])
    if 2 * pairs / bright - 4 * bright / n < MIN_EXCESS_NEIGHBOURS:  # (a pair gives two pixels a neighbour)
        return "no digits found (isolated specks or noise)"
    # variance left once each row (column) is flattened to its mean: E[x^2] - E[row mean^2], all from sums
    height, width = image.shape
    mean, square = float(hist @ _LEVELS) / n, float(hist @ (_LEVELS * _LEVELS)) / n
    row_means = image.sum(1, dtype=np.int64) / width
    col_means = image.sum(0, dtype=np.int64) / height
    total = square - mean * mean
    across_rows = square - float(row_means @ row_means) / height
    across_cols = square - float(col_means @ col_means) / width
    if min(across_rows, across_cols) < MIN_2D_VARIANCE * total:
        return "no digits found (only lines or stripes)"
    return ""
