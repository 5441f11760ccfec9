"""Where the four digits of a composed image go: their box sizes and centres on the 40x168 canvas.

Each layout draws from the caller's generator (on its device) and returns ``box`` (the side of
each digit's 28 px box, scaled, in output pixels) and the box centres ``cx``, ``cy``, all
(n, 4) and left to right. Output pixel ``j`` lies at position ``j``, so the canvas runs from 0
to ``IMAGE_WIDTH - 1`` across. ``core.synth.composer.Composer`` places the digits.

- ``synth_layout``: ours, the assignment's look (sizes 0.6-1.4, uneven gaps, touching neighbours).
- ``grid_layout``: an independent one for evaluation, so that a figure does not hold only for
  our own layout: one digit per quarter of the width, jittered, sizes 0.75-1.25.
- ``touch_layout``: neighbours touching and overlapping, for training and as a third evaluation
  layout: the weakness the default model was fine-tuned against.
- ``wide_layout``: training augmentation, wider than both (sizes, heights, gaps, overlaps), so
  that images laid out by another tool are no surprise to a model.
"""

from __future__ import annotations

import math

import torch

from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, NUM_DIGITS

# Grid: its own rules, chosen before any model was scored on it. 8 px of jitter across lets two
# wide neighbours touch (cells are 42 px, a 1.25x digit's ink up to ~25 px); 7 px up or down
# moves a digit a sixth of the canvas height.
GRID_SCALE, GRID_JITTER_X, GRID_JITTER_Y = (0.75, 1.25), 8.0, 7.0
# Wide: sizes 0.5x-1.9x of 28 px (a digit's ink 10-38 px tall: another tool may fill the height;
# smaller, and a thickened stroke closes the loops), each digit up to 1.4x off its image's size;
# gaps from an overlap of a quarter of the narrower ink (more, and a person could not read the
# pair either) to 36 px (four small digits spread over the width); heights anywhere on the
# canvas, from all four on one line to each on its own.
WIDE_SCALE, WIDE_SPREAD, WIDE_OVERLAP, WIDE_GAP = (0.5, 1.9), math.log(1.4), 0.25, 36.0
INK_MARGIN = 1.0  # px of black kept around all ink: bilinear sampling and a 3x3 blur stay on the canvas


def uniform(g: torch.Generator, *shape: int, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """Uniform draws on the generator's device (the same arithmetic the composer has always used)."""
    return torch.rand(*shape, generator=g, device=g.device) * (hi - lo) + lo


def synth_layout(n: int, g: torch.Generator):
    """Our layout: sizes 0.6-1.4, uneven gaps, some neighbours touching or overlapping.

    The draws and their order are those of ``digitsum synth`` since its first images: keep them.
    """
    scale = uniform(g, n, NUM_DIGITS, lo=0.6, hi=1.4)  # digit box = 28 * scale px
    box = 28.0 * scale
    # Uneven gaps: share the free width at random, then pull neighbours together so
    # that some touch or overlap (an MNIST box has ~4 px of empty margin per side).
    free = (IMAGE_WIDTH - box.sum(1, keepdim=True)).clamp(min=0)  # (n, 1)
    shares = -torch.log(uniform(g, n, NUM_DIGITS + 1, lo=1e-6))  # Dirichlet(1) weights
    gaps = free * shares / shares.sum(1, keepdim=True)  # (n, 5): left margin, 3 gaps, right
    squeeze = uniform(g, n, NUM_DIGITS - 1, lo=0, hi=10) * scale[:, 1:]
    inner = gaps[:, 1:NUM_DIGITS] - squeeze
    left = gaps[:, :1] + squeeze.sum(1, keepdim=True) * uniform(g, n, 1)
    starts = left + torch.cat([torch.zeros_like(left), (box[:, :-1] + inner).cumsum(1)], 1)
    cx = starts + box / 2
    margin = 4.0 * scale  # the box's empty border may leave the canvas, the ink not
    lo_y, hi_y = box / 2 - margin, IMAGE_HEIGHT - box / 2 + margin
    cy = lo_y + (hi_y - lo_y).clamp(min=0) * uniform(g, n, NUM_DIGITS)
    return box, cx, cy


def ink_extents(src: torch.Tensor, lin: torch.Tensor) -> torch.Tensor:
    """How far each digit's ink reaches from its box centre once mapped by ``lin``.

    Parameters
    ----------
    src : Tensor, float (m, 1, 28, 28), zero where there is no ink
    lin : Tensor, float (m, 2, 2), digit axes -> output axes (both in units of half the box)

    Returns
    -------
    Tensor, float (m, 4): left, right, top, bottom, in units of half the box (multiply by
    ``box / 2`` for pixels); the corners of the ink's bounding box, mapped, so a little generous.
    """
    size = src.shape[-1]
    ink = src[:, 0] > 0  # (m, 28, 28)
    idx = torch.arange(size, device=src.device)

    def span(mask):  # (m, 28) -> first and one-past-last inked index; a blank digit gets the centre
        any_ink = mask.any(1)
        first = torch.where(mask, idx, size).amin(1)
        end = torch.where(mask, idx + 1, 0).amax(1)
        return torch.where(any_ink, first, size // 2).float(), torch.where(any_ink, end, size // 2).float()

    c0, c1 = span(ink.any(1))
    r0, r1 = span(ink.any(2))
    # bilinear sampling lets a pixel reach half a pixel past its own cell: pixel k spans k-0.5..k+1.5
    x0, x1, y0, y1 = ((2 * v + d) / size - 1 for v, d in ((c0, -1), (c1, 1), (r0, -1), (r1, 1)))
    corners = torch.stack(
        [torch.stack([x0, y0], 1), torch.stack([x1, y0], 1), torch.stack([x0, y1], 1), torch.stack([x1, y1], 1)], 1
    )  # (m, 4, 2)
    mapped = corners @ lin.transpose(1, 2)  # (m, 4, 2)
    return torch.stack(
        [mapped[..., 0].amin(1), mapped[..., 0].amax(1), mapped[..., 1].amin(1), mapped[..., 1].amax(1)], 1
    )


def _keep_inside(centre, lo_ink, hi_ink, size):
    """Clamp centres so that ink from ``centre + lo_ink`` to ``centre + hi_ink`` stays on a ``size`` px axis."""
    return torch.maximum(torch.minimum(centre, size - 1 - INK_MARGIN - hi_ink), INK_MARGIN - lo_ink)


def grid_layout(ink: torch.Tensor, g: torch.Generator):
    """An independent layout: each digit centred in its quarter of the width, plus jitter.

    Parameters
    ----------
    ink : Tensor, float (n, 4, 4), :func:`ink_extents` of each image's digits
    g : torch.Generator
    """
    n = ink.shape[0]
    scale = uniform(g, n, NUM_DIGITS, lo=GRID_SCALE[0], hi=GRID_SCALE[1])
    box = 28.0 * scale  # (n, 4)
    cell = IMAGE_WIDTH / NUM_DIGITS
    centres = cell * (torch.arange(NUM_DIGITS, device=g.device) + 0.5) - 0.5  # (4,) pixel positions
    cx = centres + uniform(g, n, NUM_DIGITS, lo=-GRID_JITTER_X, hi=GRID_JITTER_X)
    cy = (IMAGE_HEIGHT - 1) / 2 + uniform(g, n, NUM_DIGITS, lo=-GRID_JITTER_Y, hi=GRID_JITTER_Y)
    px = ink * (box / 2).unsqueeze(-1)  # (n, 4, 4) ink reach in pixels
    return (
        box,
        _keep_inside(cx, px[..., 0], px[..., 1], IMAGE_WIDTH),
        _keep_inside(cy, px[..., 2], px[..., 3], IMAGE_HEIGHT),
    )


def wide_layout(ink: torch.Tensor, g: torch.Generator):
    """Training augmentation: wider sizes, heights, gaps and overlaps than ours, all ink on the canvas.

    Sizes are drawn first, then cut where a digit would be taller than the canvas; the row of
    inks and gaps is shrunk as a whole where it would be wider. Inks are then laid left to
    right, so the labels' order holds, and each digit goes anywhere its height allows.

    Parameters
    ----------
    ink : Tensor, float (n, 4, 4), :func:`ink_extents` of each image's (augmented) digits
    g : torch.Generator
    """
    n = ink.shape[0]
    lo, hi = math.log(WIDE_SCALE[0]), math.log(WIDE_SCALE[1])
    base = uniform(g, n, 1, lo=lo, hi=hi)  # (n, 1) log size of the image's hand
    spread = uniform(g, n, 1, hi=WIDE_SPREAD)  # from four alike to sizes up to 1.4x apart
    scale = torch.exp((base + spread * uniform(g, n, NUM_DIGITS, lo=-1, hi=1)).clamp(lo, hi))  # (n, 4)
    width, height = 14.0 * (ink[..., 1] - ink[..., 0]), 14.0 * (ink[..., 3] - ink[..., 2])  # (n, 4) px at scale 1
    scale = torch.minimum(scale, (IMAGE_HEIGHT - 1 - 2 * INK_MARGIN) / height.clamp(min=1e-3))
    w = width * scale  # (n, 4) ink widths in px
    narrow = torch.minimum(w[:, :-1], w[:, 1:])  # (n, 3)
    widest = uniform(g, n, 1, hi=WIDE_GAP)
    gaps = -WIDE_OVERLAP * narrow + (widest + WIDE_OVERLAP * narrow) * uniform(g, n, NUM_DIGITS - 1)  # (n, 3)
    room = IMAGE_WIDTH - 1 - 2 * INK_MARGIN
    total = w.sum(1, keepdim=True) + gaps.sum(1, keepdim=True)  # (n, 1) > 0: overlaps are under a digit's width
    shrink = (room / total.clamp(min=1e-3)).clamp(max=1.0)  # a row too wide shrinks, digits and gaps alike
    scale, w, gaps, total = scale * shrink, w * shrink, gaps * shrink, total * shrink
    start = INK_MARGIN + (room - total) * uniform(g, n, 1)  # (n, 1) left end of the first ink
    ink_left = start + torch.cat([torch.zeros_like(start), (w[:, :-1] + gaps).cumsum(1)], 1)  # (n, 4)
    box = 28.0 * scale
    px = ink * (box / 2).unsqueeze(-1)  # (n, 4, 4) ink reach in pixels
    cx = ink_left - px[..., 0]
    line = uniform(g, n, 1)
    cy = _heights(px, line, uniform(g, n, 1), g)
    return box, _keep_inside(cx, px[..., 0], px[..., 1], IMAGE_WIDTH), cy


def _heights(px: torch.Tensor, line: torch.Tensor, scatter, g: torch.Generator) -> torch.Tensor:
    """Centre heights (n, 4): a line shared by the image, each digit pulled ``scatter`` of the way to its own place.

    ``px`` is each digit's ink reach in pixels (n, 4, 4); ``line`` (n, 1) and ``scatter`` (a share,
    or (n, 1) shares) are in [0, 1]. Every ink stays on the canvas.
    """
    lo_y, hi_y = INK_MARGIN - px[..., 2], IMAGE_HEIGHT - 1 - INK_MARGIN - px[..., 3]  # (n, 4) range of centres
    place = line + scatter * (uniform(g, *px.shape[:2]) - line)  # (n, 4) in [0, 1]
    return lo_y + (hi_y - lo_y).clamp(min=0) * place


# Touch: neighbours that touch or overlap, the default model's largest single weakness (#22:
# 96.0% of sums against 98.25% with the same digits spaced 1.0-1.3 widths apart). Each digit's
# box starts 0.5-1.0 of the previous box's width after that box starts (a box is the digit's
# 28 px square, scaled; its ink is narrower, so at 1.0 neighbours sit close and at 0.5 they
# overlap, a small digit after a big one by most of its width), sizes 0.7-1.4x, each digit up
# to a quarter of the canvas height off the image's line. Four boxes of at most 1.4 x 28 px span
# at most 157 px: the row always fits the 168 px canvas.
# Used to train (``--touch``) and as the third evaluation layout (``digitsum synth --layout touch``).
TOUCH_SCALE, TOUCH_ADVANCE, TOUCH_SCATTER = (0.7, 1.4), (0.5, 1.0), 0.5


def touch_layout(ink: torch.Tensor, g: torch.Generator):
    """Touching and overlapping neighbours, left to right, all ink on the canvas.

    Parameters
    ----------
    ink : Tensor, float (n, 4, 4), :func:`ink_extents` of each image's digits
    g : torch.Generator
    """
    n = ink.shape[0]
    scale = uniform(g, n, NUM_DIGITS, lo=TOUCH_SCALE[0], hi=TOUCH_SCALE[1])  # (n, 4)
    height = 14.0 * (ink[..., 3] - ink[..., 2])  # (n, 4) ink height in px at scale 1
    scale = torch.minimum(scale, (IMAGE_HEIGHT - 1 - 2 * INK_MARGIN) / height.clamp(min=1e-3))
    box = 28.0 * scale  # (n, 4)
    advance = box[:, :-1] * uniform(g, n, NUM_DIGITS - 1, lo=TOUCH_ADVANCE[0], hi=TOUCH_ADVANCE[1])  # (n, 3)
    offset = torch.cat([torch.zeros_like(box[:, :1]), advance.cumsum(1)], 1)  # (n, 4) box lefts from the first
    total = (offset + box).amax(1, keepdim=True)  # (n, 1) from the first box's left to the last box's right
    cx = (IMAGE_WIDTH - total) * uniform(g, n, 1) + offset + box / 2  # (n, 4)
    px = ink * (box / 2).unsqueeze(-1)  # (n, 4, 4) ink reach in pixels
    cy = _heights(px, uniform(g, n, 1), TOUCH_SCATTER, g)
    return box, _keep_inside(cx, px[..., 0], px[..., 1], IMAGE_WIDTH), cy
