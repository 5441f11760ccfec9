"""A second look at doubtful rows: read them again from shifted copies and average (or from a stretched one).

A model trained on one composer's images is sensitive to where digits sit: on handwriting and
layouts it never saw, a copy of the image moved by two pixels is sometimes read differently.
Reading a doubtful row again from a few shifted copies repairs some of those misreadings, and
where the copies disagree the averaged probability of any one sum falls, so the confidence
column drops exactly on the rows a person should look at.

Crowded rows, whose ink spans less than ``CROWDED_INK_WIDTH`` pixels (four digits touching or
overlapping in half the width, where the composer that taught the model spreads them over
most of it), are read again from one copy whose inked columns are stretched to
``CROWDED_STRETCH_TO`` pixels instead: the digits then sit about as far apart as the model
learned them, and that reading replaces the first. (Averaged with the first, which is the
worse of the two on such rows, it ranked fewer wrong sums among the least confident rows; the
shifted copies of a crowded row add little.) They are read again below ``CROWDED_LOOK_BELOW``,
since on such rows the model is wrong more often when it is fairly sure.

Only rows below those thresholds pay for it (``len(SHIFTS)`` more images each, one for a
crowded row), and only for models that read digits; a row the model is sure of is left
exactly as it was read.

    from core.predict.predictor import Predictor
    Predictor(second_look_below=0)  # off; digitsum predict --no-second-look, or the GUI's Model menu
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.spec import CROWDED_LOOK_BELOW, SECOND_LOOK_BELOW

# (dx, dy) in pixels: two pixels either way along each axis. The issue that asked for this found
# seven copies shifted by 1-2 px worth +0.5 points on a foreign layout, three worth +0.4.
SHIFTS = ((-2, 0), (2, 0), (0, -2), (0, 2))
# A column holds ink where a pixel is brighter than this (the reader makes digits white on black).
INK_LEVEL = 40
# Chosen on the selection half of MNIST's test writers (5,000 images per layout, int8; the model
# card's "The second look"): touching neighbours' doubtful rows span 59-83 px, synth's 103-134 px
# and grid's 132-151 px, so only crowded rows are stretched; 105 px is the narrow end of synth's.
CROWDED_INK_WIDTH = 90
CROWDED_STRETCH_TO = 105


def shifted_copies(images):
    """Every image moved by each of ``SHIFTS``, the uncovered border black.

    Parameters
    ----------
    images : np.ndarray or torch.Tensor, uint8 (n, H, W)
        A tensor stays on its device (a GPU's second look never leaves it).

    Returns
    -------
    The same kind, uint8 (len(SHIFTS) * n, H, W): all images shifted by ``SHIFTS[0]``, then ``SHIFTS[1]``, ...
    """
    n, height, width = images.shape
    shape = (len(SHIFTS), n, height, width)
    out = images.new_zeros(shape) if hasattr(images, "new_zeros") else np.zeros(shape, images.dtype)
    for k, (dx, dy) in enumerate(SHIFTS):  # moved right by dx and down by dy: out[y, x] = in[y - dy, x - dx]
        out[k, :, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
            :, max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
        ]
    return out.reshape(len(SHIFTS) * n, height, width)


def _numpy(images) -> np.ndarray:
    return images if isinstance(images, np.ndarray) else images.cpu().numpy()


def ink_spans(images) -> tuple[np.ndarray, np.ndarray]:
    """The first and one-past-the-last column holding ink of each image (both 0 for a blank one).

    Parameters
    ----------
    images : np.ndarray or torch.Tensor, uint8 (n, H, W)

    Returns
    -------
    start, stop : np.ndarray, int (n,)
    """
    peaks = images.amax(1) if hasattr(images, "amax") else images.max(1)  # (n, W), on the images' device
    inked = _numpy(peaks) > INK_LEVEL
    width = inked.shape[1]
    any_ink = inked.any(1)
    start = np.where(any_ink, inked.argmax(1), 0)
    stop = np.where(any_ink, width - inked[:, ::-1].argmax(1), 0)
    return start, stop


def stretched_copies(images, to: int = CROWDED_STRETCH_TO):
    """Every image with its inked columns stretched to ``to`` pixels, centred where they were.

    Linear interpolation along the width only (heights are kept); the stretched span is moved
    inward where it would leave the frame, and everything outside it is black. Images whose ink
    already spans ``to`` pixels or more come back unchanged.

    Parameters
    ----------
    images : np.ndarray, uint8 (n, H, W)
    to : int
        The width of the stretched ink, at most W.

    Returns
    -------
    np.ndarray, uint8 (n, H, W)
    """
    n, height, width = images.shape
    start, stop = ink_spans(images)
    span = np.maximum(stop - start, 1)[:, None]
    last = np.maximum(stop - 1, start)[:, None]
    new_start = np.clip(np.rint((start + stop - to) / 2), 0, width - to).astype(int)[:, None]
    x = np.arange(width)[None, :]
    # each output column's centre mapped back into the span, as PIL's bilinear resize does
    source = np.clip(start[:, None] + (x - new_start + 0.5) * span / to - 0.5, start[:, None], last)
    left = np.floor(source).astype(int)
    right = np.minimum(left + 1, last)
    weight = (source - left)[:, None, :]
    pixels = images.astype(np.float32)

    def at(columns):
        return np.take_along_axis(pixels, np.broadcast_to(columns[:, None, :], (n, height, width)), axis=2)

    inside = ((x >= new_start) & (x < new_start + to))[:, None, :]
    out = np.where(inside, at(left) * (1 - weight) + at(right) * weight, 0)
    stretch = ((stop > start) & (stop - start < to))[:, None, None]
    return np.where(stretch, np.clip(np.rint(out), 0, 255).astype(np.uint8), images)


def look_again(
    classify: Callable[..., tuple],
    images,
    probs: np.ndarray,
    digit_probs: np.ndarray | None,
    below: float = SECOND_LOOK_BELOW,
):
    """Replace the readings of doubtful rows by the average over their copies (crowded rows:
    by the reading of their stretched copy).

    A row below ``below`` is read again from its shifted copies; a crowded row (its ink
    narrower than ``CROWDED_INK_WIDTH``) below ``CROWDED_LOOK_BELOW``, or ``below`` where that
    is higher, from its stretched copy instead.

    Parameters
    ----------
    classify : callable
        Runs the model on uint8 (m, 40, 168) images (of ``images``' kind and device) and
        returns numpy ``(probs (m, 37), digit_probs (m, 4, 10))``.
    images : np.ndarray or torch.Tensor, uint8 (n, 40, 168)
        The images ``probs`` were read from, in the same order.
    probs : np.ndarray, float32 (n, 37)
    digit_probs : np.ndarray (n, 4, 10) or None
        None (a model that reads no digits): nothing is read again.
    below : float
        Confidence threshold; 0 turns the second look off.

    Returns
    -------
    probs, digit_probs : np.ndarray
        The same arrays where no row was doubtful, else copies with the doubtful rows replaced
        by the mean over the original and its shifted copies (a mixture of their distributions:
        disagreement spreads the probability, so it lowers the confidence), the crowded ones by
        their stretched copy's reading.
    """
    if digit_probs is None or below <= 0 or not len(probs):
        return probs, digit_probs
    confidence = probs.max(1)
    candidates = np.flatnonzero(confidence < max(below, CROWDED_LOOK_BELOW))
    start, stop = ink_spans(images[candidates])
    is_crowded = (stop > start) & (stop - start < CROWDED_INK_WIDTH)  # a blank image is not crowded
    crowded, shifted = candidates[is_crowded], candidates[~is_crowded & (confidence[candidates] < below)]
    if not len(crowded) and not len(shifted):
        return probs, digit_probs
    probs, digit_probs = probs.copy(), digit_probs.copy()
    if len(shifted):
        copy_probs, copy_digits = classify(shifted_copies(images[shifted]))
        views = len(SHIFTS) + 1
        probs[shifted] = (probs[shifted] + _per_image_sum(copy_probs, len(shifted))) / views
        digit_probs[shifted] = (digit_probs[shifted] + _per_image_sum(copy_digits, len(shifted))) / views
    if len(crowded):  # the few crowded rows are stretched on the CPU, then go where the images are
        stretched = stretched_copies(_numpy(images[crowded]))
        probs[crowded], digit_probs[crowded] = classify(
            stretched if isinstance(images, np.ndarray) else images.new_tensor(stretched)
        )
    return probs, digit_probs


def _per_image_sum(readings: np.ndarray, images: int) -> np.ndarray:
    """Readings of k copies of ``images`` images, copy by copy, summed per image: (k * images, ...) -> (images, ...)."""
    return readings.reshape(-1, images, *readings.shape[1:]).sum(0)
