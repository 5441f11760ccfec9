"""Compose 40x168 four-digit images from single MNIST digits, on any torch device.

One composer serves `digitsum synth` (CPU, seeded, reproducible), the tests and training,
where it runs on the GPU so data never starves the model. Each digit is placed by an affine
map and sampled with ``grid_sample``; the four are merged with ``max`` so touching strokes
stay bright instead of adding up. The digits come from a ``core.synth.bank.DigitBank``; a folder
of composed images is ``core.synth.folder.write_synthetic_folder``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, LAYOUTS, NUM_DIGITS
from core.synth.bank import DigitBank
from core.synth.placement import grid_layout, ink_extents, synth_layout, touch_layout, uniform, wide_layout

# Elastic distortion, in the 28 px digit's own pixels (it is scaled with the digit): Simard et al.'s
# MNIST values, sigma 4 and alpha 34. The field then moves a pixel ~1.4 px on average and rarely
# more than 4 px: strokes bend and wobble the way another hand's do, while the digit stays the
# digit (sigma 2 or alpha 60 turn strokes into ripples or melt loops shut).
ELASTIC_ALPHA, ELASTIC_SIGMA = 34.0, 4.0
ELASTIC_RADIUS = 12  # 3 sigma: the Gaussian's taps beyond it weigh < 1%
# The stronger of the two training blurs: a Gaussian of sigma 1 px on the 40x168 image (PIL's
# GaussianBlur(1)), to 3 sigma.
BLUR_SIGMA, BLUR_RADIUS = 1.0, 3
# Share of augmented images also laid out by `wide_layout`; the other half keep ours, so that
# training still sees our layout (the held-out figure's) as often as a wider one.
WIDE_LAYOUT_SHARE = 0.5


def gaussian_taps(sigma: float, radius: int, device) -> torch.Tensor:
    """The (2 * radius + 1,) taps of a normalised Gaussian of standard deviation ``sigma``."""
    taps = torch.arange(-radius, radius + 1, device=device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_matrix(size: int, sigma: float, radius: int, device) -> torch.Tensor:
    """(size, size) matrix ``K`` with ``K @ v`` = ``v`` blurred by a normalised Gaussian, zero beyond the edges.

    Row ``i`` holds the taps centred on ``i`` (``|i - j| <= radius``), so ``K @ X @ K.T`` is the
    separable blur of ``X`` with zero padding, exactly what ``conv2d`` with ``padding=radius`` computes.
    """
    kernel = gaussian_taps(sigma, radius, device)
    offset = torch.arange(size, device=device).view(1, -1) - torch.arange(size, device=device).view(-1, 1)  # j - i
    return torch.where(offset.abs() <= radius, kernel[(offset + radius).clamp(0, 2 * radius)], 0.0)


def gaussian_blur(img: torch.Tensor) -> torch.Tensor:
    """``img`` (n, 1, H, W) blurred as a scan or a phone blurs: the stronger training blur, a
    Gaussian of ``BLUR_SIGMA`` px (PIL's ``GaussianBlur(1)``, what the robustness check applies)."""
    return _separable_blur(img, gaussian_taps(BLUR_SIGMA, BLUR_RADIUS, img.device))


def quantise_like_png(img: torch.Tensor) -> torch.Tensor:
    """``img`` in [0, 1] clamped and rounded to steps of 1/255, as an 8-bit PNG stores it."""
    return torch.round(img.clamp(0, 1) * 255) / 255


def _separable_blur(img: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """``img`` (n, 1, H, W) blurred by the symmetric 1-D kernel ``taps`` along both axes, zero padding."""
    r = taps.numel() // 2
    return F.conv2d(F.conv2d(img, taps.view(1, 1, 1, -1), padding=(0, r)), taps.view(1, 1, -1, 1), padding=(r, 0))


def _where_images(chosen: torch.Tensor, layout: tuple, otherwise: tuple) -> tuple:
    """One layout's (box, cx, cy) for the ``chosen`` images (n, 1), another's for the rest."""
    return tuple(torch.where(chosen, a, b) for a, b in zip(layout, otherwise, strict=True))


class Composer:
    """Batched four-digit composition on one device.

    Parameters
    ----------
    bank : DigitBank
    device : torch.device or str
    augment : float or bool
        Share of images (0..1; True is 1) that get training augmentation on top of the
        assignment's own variation (size 0.6-1.4, height, uneven gaps, touching
        neighbours): rotation, shear, aspect, stroke thickness, elastic distortion, blur,
        noise, contrast and gamma, and for half of them a wider layout
        (``core.synth.placement.wide_layout``). The rest are composed exactly like ``digitsum synth``'s images.
    layout : str
        ``"synth"`` (ours), ``"grid"`` (an independent layout for evaluation) or ``"touch"``
        (touching and overlapping neighbours); see ``core.synth.placement``.
    touch : float
        Share of images (0..1) laid out by ``core.synth.placement.touch_layout`` whatever ``layout``
        says, after augmentation, so the layout measures the ink as it will be drawn.
    """

    def __init__(self, bank: DigitBank, device="cpu", augment: float = 0.0, layout: str = "synth", touch: float = 0.0):
        self.device = torch.device(device)
        self.x = torch.from_numpy(bank.x).to(self.device).unsqueeze(1)  # (N, 1, 28, 28) uint8
        self.y = torch.from_numpy(bank.y).to(self.device)  # (N,)
        self.augment = float(augment)
        if not 0.0 <= self.augment <= 1.0:
            raise ValueError(f"augment must be a share between 0 and 1, not {augment}")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; choose from {LAYOUTS}")
        self.layout = layout
        self.touch = float(touch)
        if not 0.0 <= self.touch <= 1.0:
            raise ValueError(f"touch must be a share between 0 and 1, not {touch}")

    def _rand(self, g, *shape, lo=0.0, hi=1.0):
        return uniform(g, *shape, lo=lo, hi=hi)

    @torch.no_grad()
    def compose(self, n: int, generator: torch.Generator):
        """Compose ``n`` images.

        Returns
        -------
        images : Tensor, float32 (n, 1, 40, 168) in [0, 1], quantised to 1/255 like a PNG
        digits : Tensor, int64 (n, 4), left to right
        """
        g, dev = generator, self.device
        pick = torch.randint(0, len(self.y), (n, NUM_DIGITS), generator=g, device=dev)  # (n, 4)
        digits = self.y[pick]
        src = self.x[pick.flatten()].float() / 255.0  # (4n, 1, 28, 28)
        lin = torch.eye(2, device=dev).expand(n * NUM_DIGITS, 2, 2).clone()  # digit axes -> output axes
        ink = None  # (n, 4, 4) each digit's ink reach as it will be drawn, measured once where a layout needs it
        if self.layout == "grid":
            ink = ink_extents(src, lin).view(n, NUM_DIGITS, 4)
            box, cx, cy = grid_layout(ink, g)
        elif self.layout == "touch":
            ink = ink_extents(src, lin).view(n, NUM_DIGITS, 4)
            box, cx, cy = touch_layout(ink, g)
        else:
            box, cx, cy = synth_layout(n, g)
        chosen = None  # images that get augmentation; None: all of them (or none)
        if self.augment:
            m = n * NUM_DIGITS
            angle = self._rand(g, m, lo=-12, hi=12) * math.pi / 180
            shear = self._rand(g, m, lo=-0.25, hi=0.25)
            aspect = self._rand(g, m, lo=0.85, hi=1.15)
            cos, sin = torch.cos(angle), torch.sin(angle)
            warped = torch.stack([torch.stack([cos * aspect, -sin + shear], 1), torch.stack([sin, cos / aspect], 1)], 1)
            bent = self._elastic(self._thickness(src, g), g)
            wide = self._rand(g, n) < WIDE_LAYOUT_SHARE
            if self.augment < 1.0:  # (drawn only then, so a share of 1 needs no draw for it)
                chosen = self._rand(g, n) < self.augment
                per_digit = chosen.repeat_interleave(NUM_DIGITS).view(-1, 1, 1)
                warped = torch.where(per_digit, warped, lin)
                bent = torch.where(per_digit.unsqueeze(-1), bent, src)
                wide = wide & chosen
            lin, src = warped, bent
            # the wide layout measures the ink as it will be drawn, so the layout keeps it all on the canvas
            ink = ink_extents(src, lin).view(n, NUM_DIGITS, 4)
            wide_box, wide_cx, wide_cy = wide_layout(ink, g)
            box, cx, cy = _where_images(wide.view(-1, 1), (wide_box, wide_cx, wide_cy), (box, cx, cy))
        if self.touch:  # (drawn only then: the images of a run without it stay as they were)
            touching = (self._rand(g, n) < self.touch).view(-1, 1)
            ink = ink if ink is not None else ink_extents(src, lin).view(n, NUM_DIGITS, 4)
            box, cx, cy = _where_images(touching, touch_layout(ink, g), (box, cx, cy))
        images = self._place(src, lin, box, cx, cy)  # (n, 1, 40, 168)
        if self.augment:
            altered = self._photometric(images, g)
            images = altered if chosen is None else torch.where(chosen.view(-1, 1, 1, 1), altered, images)
        return quantise_like_png(images), digits

    def _place(self, src, lin, box, cx, cy):
        """Draw each digit ``src`` (4n, 1, 28, 28), mapped by ``lin``, into its ``box`` at (cx, cy); merge by max."""
        dev, n = self.device, box.shape[0]
        # affine_grid wants output-normalised -> input-normalised coordinates
        a, b, c, d = lin[:, 0, 0], lin[:, 0, 1], lin[:, 1, 0], lin[:, 1, 1]
        inv = torch.stack([torch.stack([d, -b], 1), torch.stack([-c, a], 1)], 1) / (a * d - b * c).view(-1, 1, 1)
        inv = inv / (box.flatten() / 2).view(-1, 1, 1)  # output pixels -> digit's [-1, 1] box
        W, H = IMAGE_WIDTH, IMAGE_HEIGHT
        offset = torch.stack([W / 2 - 0.5 - cx.flatten(), H / 2 - 0.5 - cy.flatten()], 1)  # (4n, 2)
        to_px = torch.tensor([[W / 2, 0.0], [0.0, H / 2]], device=dev)
        theta = torch.cat([inv @ to_px, (inv @ offset.unsqueeze(-1))], 2)  # (4n, 2, 3)
        grid = F.affine_grid(theta, (n * NUM_DIGITS, 1, H, W), align_corners=False)
        placed = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return placed.view(n, NUM_DIGITS, H, W).amax(1, keepdim=True)  # (n, 1, 40, 168)

    def _thickness(self, src, g):
        """Thicker or thinner strokes: grey dilation / erosion of the 28x28 digit."""
        choice = torch.randint(0, 4, (src.shape[0], 1, 1, 1), generator=g, device=self.device)
        dilated = F.max_pool2d(src, 3, 1, 1)
        # a full 3x3 erosion wipes out thin MNIST strokes; half of it thins them
        eroded = 0.5 * (src - F.max_pool2d(-src, 3, 1, 1))
        return torch.where(choice == 1, dilated, torch.where(choice == 2, eroded, src))

    def _elastic(self, src, g):
        """Elastic distortion (Simard et al. 2003): each pixel moved along a smooth random field.

        Another writer bends the same strokes differently; this is what helps most with
        unseen hands on MNIST. Uniform noise per pixel and axis, smoothed by a Gaussian
        (zero padding, as scipy's ``gaussian_filter(mode="constant")`` in the usual recipe),
        scaled by ``ELASTIC_ALPHA``, then one ``grid_sample`` for all digits. The blur is two
        small matrix products, not two convolutions: the same sums, and one-channel 28x28
        convolutions were the largest single cost of composing a training batch on a CPU.
        """
        m, size = src.shape[0], src.shape[-1]
        noise = self._rand(g, 2 * m, 1, size, size, lo=-1, hi=1)  # (2m, 1, 28, 28): x and y of each digit
        smooth = gaussian_matrix(size, ELASTIC_SIGMA, ELASTIC_RADIUS, self.device)  # (28, 28)
        # the separable blur K @ X @ K.T of every map, as two plain products over all rows at once
        rows = (noise.view(-1, size) @ smooth.T).view(2 * m, size, size)  # X @ K.T
        field = (rows.transpose(1, 2).reshape(-1, size) @ smooth.T).view(2 * m, size, size).transpose(1, 2)  # K @ .
        shift = field.reshape(m, 2, size, size).permute(0, 2, 3, 1) * (
            ELASTIC_ALPHA * 2 / size
        )  # (m, 28, 28, 2) normalised
        eye = torch.eye(2, 3, device=self.device).expand(m, 2, 3)
        grid = F.affine_grid(eye, (m, 1, size, size), align_corners=False) + shift  # (m, 28, 28, 2)
        return F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _photometric(self, img, g):
        n = img.shape[0]
        # 30% blurred: half lightly (3x3 binomial, sigma ~0.7), half as a scan or a phone blurs
        # (Gaussian sigma 1, what the robustness check's blur applies), from one draw per image
        # so that the rest of a seeded run's random stream is what it was with one blur
        light = torch.tensor([1.0, 2.0, 1.0], device=self.device) / 4
        blur = self._rand(g, n, 1, 1, 1)
        img = torch.where(blur < 0.15, _separable_blur(img, light), torch.where(blur < 0.3, gaussian_blur(img), img))
        gamma = torch.exp(self._rand(g, n, 1, 1, 1, lo=-0.3, hi=0.3))
        img = img.clamp(min=0).pow(gamma)
        contrast = self._rand(g, n, 1, 1, 1, lo=0.7, hi=1.0)
        floor = self._rand(g, n, 1, 1, 1, lo=0.0, hi=0.15) * (self._rand(g, n, 1, 1, 1) < 0.3)
        img = floor + (1 - floor) * img * contrast
        sigma = self._rand(g, n, 1, 1, 1, lo=0.0, hi=0.12) * (self._rand(g, n, 1, 1, 1) < 0.5)
        noise = torch.randn(img.shape, generator=g, device=self.device)
        return img + sigma * noise


def compose_chunks(bank: DigitBank, count: int, seed: int = 0, layout: str = "synth"):
    """Compose ``count`` images on the CPU, reproducibly, without augmentation, 512 at a time.

    ``layout`` is ``"synth"`` (ours; these exact images for a seed are what the model card's
    held-out figure was measured on) or ``"grid"`` (an independent layout, ``core.synth.placement``).
    Memory stays bounded at any ``count``.

    Yields
    ------
    images : np.ndarray, uint8 (n, 40, 168)
    digits : np.ndarray, int64 (n, 4)
    """
    composer = Composer(bank, "cpu", augment=False, layout=layout)
    g = torch.Generator().manual_seed(seed)
    for start in range(0, count, 512):
        img, dig = composer.compose(min(512, count - start), g)
        yield (img[:, 0] * 255).round().to(torch.uint8).numpy(), dig.numpy()


def compose_numpy(bank: DigitBank, count: int, seed: int = 0, layout: str = "synth"):
    """All of ``compose_chunks`` in two arrays: images uint8 (count, 40, 168), digits int64 (count, 4)."""
    chunks = list(compose_chunks(bank, count, seed, layout))
    if not chunks:
        return np.zeros((0, IMAGE_HEIGHT, IMAGE_WIDTH), np.uint8), np.zeros((0, NUM_DIGITS), np.int64)
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
