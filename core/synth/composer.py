"""Compose 40x168 four-digit images from single MNIST digits, on any torch device.

One composer serves `digitsum synth` (CPU, seeded, reproducible), the tests and training,
where it runs on the GPU so data never starves the model. Each digit is placed by an affine
map and sampled with ``grid_sample``; the four are merged with ``max`` so touching strokes
stay bright instead of adding up.

    digitsum synth /tmp/s --count 200 --mnist ../shared/data/mnist-train.npz --seed 0
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core import RESOURCES
from core.errors import DigitsumError
from core.files import require_regular
from core.models.networks import IMAGE_HEIGHT, IMAGE_WIDTH, NUM_DIGITS
from core.spec import LAYOUTS
from core.synth.placement import grid_layout, ink_extents, synth_layout, touch_layout, uniform, wide_layout

BUNDLED_BANK = RESOURCES / "digit-bank.npz"
SPLITS = ("train", "val", "holdout", "all")
# Whole writers are set aside, not single digits: a person writes a digit alike every time, so
# held-out digits by writers seen in training overstate how a stranger's hand is read (by about
# a point of exact sums). 8% of writers each for validation and held-out: ~43 of MNIST's 539
# writers and ~4,800 digits each, enough that one writer's quirks move a figure little, while
# 84% of the writers stay for training. A writer's side depends only on its ID and the seed, so
# every bank (the full file, the bundled bank, a user's subset) splits the same writers alike.
# The seed is the first from 20261201 (tried before any model was scored) whose validation and
# held-out sides each get 8% +- 3 writers and MNIST's share of high-school writers (46%, the
# harder hands) within 3 points: 44 held-out writers (5,016 digits), 42 validation (4,680).
VAL_WRITERS = HOLDOUT_WRITERS = 0.08
SPLIT_SEED = 20261552
# MNIST's test writers (strangers to every training digit) in two halves, core.synth.composer.stranger_half.
# The seed is the first from 20261206 (fixed before any model was scored on either half) whose
# halves each get 74 +- 2 of the 148 public writers and their share of high-school writers within
# 2 points: 72 selection writers (2,547 digits), 76 report writers (2,512 digits).
STRANGER_SPLIT_SEED = 20261213
# Sources without writer IDs (torchvision's folder, IDX files) fall back to digits set aside by
# index (seeded): disjoint digits, but shared writers.
VAL_DIGITS, HOLDOUT_DIGITS, INDEX_SPLIT_SEED = 3000, 3000, 20261126
INDEX_SPLIT_NOTE = (
    "note: {source} has no writer IDs (no 'writer' array, no *-writers.npz beside it): split by digit "
    "index, so validation and held-out digits share writers with training"
)


class BankError(DigitsumError, ValueError):
    """A digit bank that cannot be read."""


@dataclass
class DigitBank:
    """Single digits, uint8 (N, 28, 28) white on black, with labels (N,) and MNIST indices.

    ``writer`` holds each digit's NIST writer ID where the source gives it (else ``None``);
    :meth:`subset` then splits by writer, otherwise by MNIST index. ``stranger`` marks each
    digit by one of MNIST's *test* writers (``None``: none is): they are for held-out figures
    only (``subset("holdout")``) and never train (``core.train.datasets.split_bank``).
    """

    x: np.ndarray
    y: np.ndarray
    index: np.ndarray
    writer: np.ndarray | None = None
    stranger: np.ndarray | None = None

    @property
    def strangers(self) -> bool:
        """Whether any digit is by one of MNIST's test writers."""
        return self.stranger is not None and bool(self.stranger.any())

    @property
    def split_by(self) -> str:
        """``"writer"`` or ``"index"``: how :meth:`subset` keeps splits apart."""
        return "index" if self.writer is None else "writer"

    def take(self, keep: np.ndarray) -> DigitBank:
        """The digits selected by a boolean mask or index array."""
        return DigitBank(
            self.x[keep],
            self.y[keep],
            self.index[keep],
            None if self.writer is None else self.writer[keep],
            None if self.stranger is None else self.stranger[keep],
        )

    def subset(self, split: str) -> DigitBank:
        """The digits of one split ("train", "val", "holdout" or "all"), by writer where known."""
        if split == "all":
            return self
        if split not in SPLITS:
            raise BankError(f"unknown split {split!r}; choose from {SPLITS}")
        if split == "holdout" and self.strangers:
            keep = self.stranger  # MNIST's test writers: strangers to every training digit
        else:
            if self.writer is not None:
                keep = writer_split(self.writer) == split
            else:
                keep = np.isin(self.index, split_indices()[split])
            if self.stranger is not None:
                keep &= ~self.stranger  # a stranger's digit is never on a training writer's side
        if not keep.any():
            raise BankError(f"this digit bank holds no '{split}' digits")
        return self.take(keep)


def _writer_places(writer: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct writer's place in [0, 1) by a seeded hash of its ID, and the map back to the digits."""
    ids, inverse = np.unique(np.asarray(writer, dtype=np.int64), return_inverse=True)
    place = (
        np.array(
            [
                int.from_bytes(hashlib.blake2b(f"{seed}:{w}".encode(), digest_size=8).digest(), "big")
                for w in ids.tolist()
            ],
            dtype=np.float64,
        )
        / 2.0**64
    )
    return place, inverse.reshape(-1)


def writer_split(writer: np.ndarray) -> np.ndarray:
    """The split of each digit ("train", "val" or "holdout") from its writer ID alone.

    A seeded hash of the ID places each writer: the first ``HOLDOUT_WRITERS`` of the unit
    interval held out, the next ``VAL_WRITERS`` for validation, the rest for training. No
    writer can be on two sides, and the answer does not depend on which digits a bank holds.
    """
    place, inverse = _writer_places(writer, SPLIT_SEED)
    side = np.where(place < HOLDOUT_WRITERS, "holdout", np.where(place < HOLDOUT_WRITERS + VAL_WRITERS, "val", "train"))
    return side[inverse]


def stranger_half(writer: np.ndarray) -> np.ndarray:
    """The half of each MNIST *test* digit ("select" or "report") from its writer ID alone.

    MNIST's test writers never wrote a training digit: they are the strangers every held-out
    figure is measured on. The *select* half chooses epochs, models, calibration and thresholds;
    the *report* half gives the figures the card, README and app show, so that no reported
    figure comes from writers that chose what it reports on. A seeded hash places each writer,
    as :func:`writer_split` does.
    """
    place, inverse = _writer_places(writer, STRANGER_SPLIT_SEED)
    return np.where(place < 0.5, "select", "report")[inverse]


def split_indices(n: int = 60000) -> dict[str, np.ndarray]:
    """Fixed split of MNIST training indices 0..n-1 into train / val / holdout (no writer IDs)."""
    order = np.random.default_rng(INDEX_SPLIT_SEED).permutation(n)
    hold, val = order[:HOLDOUT_DIGITS], order[HOLDOUT_DIGITS : HOLDOUT_DIGITS + VAL_DIGITS]
    return {"holdout": np.sort(hold), "val": np.sort(val), "train": np.sort(order[HOLDOUT_DIGITS + VAL_DIGITS :])}


def _read_idx(path: Path) -> np.ndarray:
    require_regular(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise BankError(f"{path.name}: not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for sub in ("", "raw", "MNIST/raw"):
        for name in (stem, stem + ".gz"):
            if (folder / sub / name).is_file():
                return folder / sub / name
    return None


def writers_beside(path: Path) -> Path:
    """Where the writer IDs of an ``.npz`` bank may lie: ``NAME-writers.npz`` beside it."""
    return path.with_name(path.stem + "-writers.npz")


def _read_writers(path: Path, count: int) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        writer = z["writer"]
    if writer.shape != (count,) or writer.dtype.kind not in "iu":
        raise BankError(
            f"{path.name}: expected {count} integer writer IDs, one per digit, got {writer.shape} {writer.dtype}"
        )
    return writer


def load_bank(path: str | Path | None = None) -> DigitBank:
    """Load single digits from a ``.npz`` (``x``, ``y``), torchvision's MNIST folder, or IDX files.

    Parameters
    ----------
    path : str or Path, optional
        ``.npz`` file; a folder holding ``train-images-idx3-ubyte`` (torchvision's ``MNIST``
        root, its ``raw`` folder, or any folder with the IDX files); or the images IDX file
        itself. ``None`` loads the small bank bundled in ``resources/``. Writer IDs come from
        a ``writer`` array in the ``.npz`` or, failing that, from ``NAME-writers.npz`` beside
        it (aligned row by row); other sources have none, and their splits go by index.

    Raises
    ------
    BankError
        Unreadable, malformed, empty, or labels that are not whole numbers 0..9 (one line
        naming the source).
    """
    path = Path(path) if path is not None else BUNDLED_BANK
    writer, stranger = None, None
    try:
        require_regular(path)  # a named pipe would wait forever
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                x, y = z["x"], z["y"]
                index = z["index"] if "index" in z.files else np.arange(len(y))
                writer = z["writer"] if "writer" in z.files else None
                # one flag for the bank or one per digit: by MNIST's test writers
                stranger = np.broadcast_to(z["stranger"], y.shape).astype(bool) if "stranger" in z.files else None
            if writer is None and writers_beside(path).is_file():
                writer = _read_writers(writers_beside(path), len(y))
        else:
            images = path if path.is_file() else _find_idx(path, "train-images-idx3-ubyte")
            if images is None:
                raise BankError(f"{path}: no .npz and no MNIST IDX files found")
            labels = images.parent / images.name.replace("images-idx3", "labels-idx1")
            x, y = _read_idx(images), _read_idx(labels)
            index = np.arange(len(y))
    except (OSError, KeyError, ValueError, struct.error) as exc:
        if isinstance(exc, BankError):
            raise
        raise BankError(f"{path}: cannot read digits ({exc})") from None
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y) or x.dtype != np.uint8:
        raise BankError(f"{path}: expected uint8 digits of shape (N, 28, 28) and N labels")
    if writer is not None and (writer.shape != y.shape or writer.dtype.kind not in "iu"):
        raise BankError(f"{path}: expected one integer writer ID per digit")
    # a bank that can compose nothing true: a label of 12 would surface as an index error deep
    # inside a loss, 0.5 would be truncated to 0 by the cast below
    if len(y) == 0:
        raise BankError(f"{path}: the digit bank holds no digits")
    if y.dtype.kind not in "iu":
        raise BankError(f"{path}: digit labels must be whole numbers 0..9, got dtype {y.dtype}")
    bad = (y < 0) | (y > 9)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise BankError(
            f"{path}: digit labels must be 0..9, got {int(y[first])} at index {first} "
            f"({int(bad.sum())} of {len(y)} outside)"
        )
    return DigitBank(
        np.ascontiguousarray(x),
        y.astype(np.int64),
        index.astype(np.int64),
        None if writer is None else writer.astype(np.int64),
        None if stranger is None else np.ascontiguousarray(stranger),
    )


# Elastic distortion, in the 28 px digit's own pixels (it is scaled with the digit): Simard et al.'s
# MNIST values, sigma 4 and alpha 34. The field then moves a pixel ~1.4 px on average and rarely
# more than 4 px: strokes bend and wobble the way another hand's do, while the digit stays the
# digit (sigma 2 or alpha 60 turn strokes into ripples or melt loops shut).
ELASTIC_ALPHA, ELASTIC_SIGMA = 34.0, 4.0
ELASTIC_RADIUS = 12  # 3 sigma: the Gaussian's taps beyond it weigh < 1%
# Share of augmented images also laid out by `wide_layout`; the other half keep ours, so that
# training still sees our layout (the held-out figure's) as often as a wider one.
WIDE_LAYOUT_SHARE = 0.5


def gaussian_matrix(size: int, sigma: float, radius: int, device) -> torch.Tensor:
    """(size, size) matrix ``K`` with ``K @ v`` = ``v`` blurred by a normalised Gaussian, zero beyond the edges.

    Row ``i`` holds the taps centred on ``i`` (``|i - j| <= radius``), so ``K @ X @ K.T`` is the
    separable blur of ``X`` with zero padding, exactly what ``conv2d`` with ``padding=radius`` computes.
    """
    taps = torch.arange(-radius, radius + 1, device=device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()  # (2r+1,)
    offset = torch.arange(size, device=device).view(1, -1) - torch.arange(size, device=device).view(-1, 1)  # j - i
    return torch.where(offset.abs() <= radius, kernel[(offset + radius).clamp(0, 2 * radius)], 0.0)


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
        return torch.round(images.clamp(0, 1) * 255) / 255, digits

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
        blur_kernel = torch.tensor([1.0, 2.0, 1.0], device=self.device)
        blur_kernel = (blur_kernel[:, None] * blur_kernel[None, :] / 16).view(1, 1, 3, 3)
        blurred = F.conv2d(img, blur_kernel, padding=1)
        img = torch.where(self._rand(g, n, 1, 1, 1) < 0.3, blurred, img)
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


SYNTH_PNG_BYTES = 1400  # one composed PNG and its labels.csv row, at most about this (they are 0.9-1.3 KB)


def synth_names(count: int) -> Callable[[str], bool]:
    """Whether ``write_synthetic_folder`` of ``count`` images writes a file of this name."""
    width = max(5, len(str(count)))
    pattern = re.compile(rf"synth_(\d{{{width}}})\.png")

    def writes(name: str) -> bool:
        match = pattern.fullmatch(name)
        return name == "labels.csv" or (match is not None and int(match[1]) < count)

    return writes


def write_synthetic_folder(
    out_dir: str | Path, count: int, bank: DigitBank, seed: int = 0, progress=None, layout: str = "synth"
) -> Path:
    """Write ``count`` composed PNGs and ``labels.csv`` (``filename,sum,digits``) to ``out_dir``.

    The images are written as they are composed (``compose_chunks``): memory stays bounded.
    See :func:`compose_chunks` for ``layout``.
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
    write_labels_csv(out / "labels.csv", labels)
    return out
