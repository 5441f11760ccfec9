"""A second look at doubtful rows: read them again from shifted copies and average the readings.

A model trained on one composer's images is sensitive to where digits sit: on handwriting and
layouts it never saw, a copy of the image moved by two pixels is sometimes read differently.
Reading a doubtful row again from a few shifted copies repairs some of those misreadings, and
where the copies disagree the averaged probability of any one sum falls, so the confidence
column drops exactly on the rows a person should look at.

Only rows below ``SECOND_LOOK_BELOW`` pay for it (``len(SHIFTS)`` more images each), and only
for models that read digits; a row the model is sure of is left exactly as it was read.

    from core.predict.predictor import Predictor
    Predictor(second_look_below=0)  # off; digitsum predict --no-second-look, or the GUI's Model menu
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.spec import SECOND_LOOK_BELOW

# (dx, dy) in pixels: two pixels either way along each axis. The issue that asked for this found
# seven copies shifted by 1-2 px worth +0.5 points on a foreign layout, three worth +0.4.
SHIFTS = ((-2, 0), (2, 0), (0, -2), (0, 2))


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


def look_again(
    classify: Callable[..., tuple],
    images,
    probs: np.ndarray,
    digit_probs: np.ndarray | None,
    below: float = SECOND_LOOK_BELOW,
):
    """Replace the readings of rows with confidence below ``below`` by the average over shifted copies.

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
        by the mean over the original and its shifted copies (a mixture of their
        distributions: disagreement spreads the probability, so it lowers the confidence).
    """
    if digit_probs is None or below <= 0 or not len(probs):
        return probs, digit_probs
    doubtful = np.flatnonzero(probs.max(1) < below)
    if not len(doubtful):
        return probs, digit_probs
    copy_probs, copy_digits = classify(shifted_copies(images[doubtful]))
    views = len(SHIFTS) + 1
    probs, digit_probs = probs.copy(), digit_probs.copy()
    probs[doubtful] = (probs[doubtful] + copy_probs.reshape(len(SHIFTS), len(doubtful), -1).sum(0)) / views
    copy_digits = copy_digits.reshape(len(SHIFTS), len(doubtful), *digit_probs.shape[1:])  # (k, d, 4, 10)
    digit_probs[doubtful] = (digit_probs[doubtful] + copy_digits.sum(0)) / views
    return probs, digit_probs
