"""Training and validation data from ``--data`` specs, kept on the training device.

A spec is a folder with ``labels.csv``, an assignment ``.npy`` file (its ``lab*.npy`` twin
found by name), or ``synthetic:N``: N images composed afresh every epoch from the MNIST
training digits, on the device itself so a GPU never waits for a DataLoader.

Validation is fixed by seed: real data is split by file; synthetic validation images are
composed from the digits of writers set aside (``core.synth.splits.writer_split``; by MNIST index
where the source has no writer IDs) or from another bank (``--val-digits``), so no hand
appears in both training and validation images; MNIST's test writers train in neither.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from core.errors import DigitsumError
from core.limits import require_memory
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, LAYOUTS
from core.synth.bank import BankError, DigitBank, load_bank
from core.synth.composer import Composer, gaussian_blur, quantise_like_png
from core.synth.splits import INDEX_SPLIT_NOTE, split_indices, writer_split

# the composed validation images' random stream: the run's seed plus this, apart from training's
VAL_STREAM_OFFSET = 7919
VAL_FRACTION = 0.1  # share of the labelled images kept for validation (digitsum train --val-fraction)
MIN_REAL_FOR_VAL = 10  # below this many labelled images none is kept: a split of 9 would validate on 1


def real_val_count(n: int, val_fraction: float = VAL_FRACTION) -> int:
    """How many of ``n`` labelled images a run keeps for validation (the Retrain form counts them too)."""
    return int(round(n * val_fraction)) if n >= MIN_REAL_FOR_VAL else 0


class DataSpecError(DigitsumError, ValueError):
    """A ``--data`` spec that cannot be used; ``str()`` is a one-line reason."""


@dataclass
class Batch:
    images: torch.Tensor  # (B, 1, 40, 168) float in [0, 1]
    sums: torch.Tensor  # (B,) int64
    digits: torch.Tensor  # (B, 4) int64, -1 where unknown
    groups: torch.Tensor | None = None  # (B,) int64, validation's: which of TrainData.val_groups each image is


class TrainData:
    """All training data of one run, sharded for this rank.

    Parameters
    ----------
    specs : list of str
    mnist : str or None
        Digit source for ``synthetic:N`` (None: the small bank bundled in resources/).
    device : torch.device
    seed : int
    val_fraction : float
        Share of real labelled files held out for validation.
    val_synthetic : int
        Number of composed validation images when synthetic data is used.
    rank, world : int
        This process and the number of processes (torchrun); each rank sees its own shard.
    augment : float
        Share of composed training images that get augmentation (``core.synth.composer.Composer``).
    touch : float
        Share of composed training images laid out with touching neighbours (``core.synth.composer.Composer``).
    val_digits : str, optional
        A digit bank (e.g. the selection half of MNIST's test writers) to compose the validation
        images from, all of its digits, a third in each layout (``core.spec.LAYOUTS``); the
        training bank then trains with all of its writers.
    val_blurred : bool
        Also validate on blurred images: a further equal share of the composed validation images,
        ours layout, blurred as ``core.synth.composer.gaussian_blur`` blurs (the part "blurred").
    """

    def __init__(
        self,
        specs,
        mnist,
        device,
        seed=0,
        val_fraction=VAL_FRACTION,
        val_synthetic=2000,
        rank=0,
        world=1,
        augment=1.0,
        touch=0.0,
        val_digits=None,
        val_blurred=False,
    ):
        self.device, self.seed, self.rank, self.world = torch.device(device), seed, rank, world
        self.composer = None
        self.notes: list[str] = []  # one-line remarks for the user (e.g. a split by index)
        self.digit_split: str | None = None  # how composed digits were split: "writer", "index" or None (none)
        self.synthetic_per_epoch, real, fingerprint = _read_specs(specs)
        val_parts = []  # (name, Batch): "labelled", or the layout of composed images
        self.real_train = None
        if real:
            self.real_train, real_val, digest = self._split_real(real, val_fraction)
            fingerprint.append(digest)
            if real_val is not None:
                val_parts.append(("labelled", real_val))
        if self.synthetic_per_epoch:
            train_bank, val_bank, val_layouts = self._synthetic_banks(mnist, val_digits, fingerprint)
            self.composer = Composer(train_bank, self.device, augment=augment, touch=touch)
            val_parts += self._composed_validation(val_bank, val_layouts, val_synthetic, val_blurred)
        self.val = _concat([part for _, part in val_parts]) if val_parts else None
        self.val_groups = [name for name, _ in val_parts]
        self.fingerprint = "; ".join(fingerprint)

    def _split_real(self, real, val_fraction: float) -> tuple[Batch, Batch | None, str]:
        """The labelled sets as training and validation batches on the device (seeded, by file), and their digest."""
        images = np.concatenate([r.images for r in real])
        sums = np.concatenate([r.sums for r in real]).astype(np.int64)
        digits = np.concatenate([r.digits for r in real]).astype(np.int64)
        digest = hashlib.sha256(images.tobytes() + sums.tobytes()).hexdigest()[:16]
        order = np.random.default_rng(self.seed).permutation(len(sums))
        n_val = real_val_count(len(sums), val_fraction)
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        train = self._to_device(images[train_idx], sums[train_idx], digits[train_idx])
        val = self._to_device(images[val_idx], sums[val_idx], digits[val_idx]) if n_val else None
        return train, val, digest

    def _synthetic_banks(self, mnist, val_digits, fingerprint: list[str]) -> tuple[DigitBank, DigitBank, tuple]:
        """The training and validation digit banks, and the layouts validation is composed in.

        Adds both banks to ``fingerprint``, sets :attr:`digit_split` and notes a split by index.
        A bank that cannot serve is one ``DataSpecError`` line.
        """
        try:
            bank = load_bank(mnist)
            source = mnist or "bundled bank"
            fingerprint.append(f"synthetic:{self.synthetic_per_epoch} from {source}#{bank_digest(bank)}")
            if val_digits:
                train_bank, val_bank = without_strangers(bank), load_bank(val_digits)
                self.digit_split = "writer"  # (a bank of other writers: checked just below)
                fingerprint.append(f"validation from {val_digits}#{bank_digest(val_bank)}")
                _refuse_shared_writers(val_digits, bank, train_bank, val_bank)
                return train_bank, val_bank, LAYOUTS
            train_bank, val_bank = split_bank(bank)
            self.digit_split = bank.split_by
            if bank.split_by == "index":
                self.notes.append(INDEX_SPLIT_NOTE.format(source=source))
            return train_bank, val_bank, ("synth",)
        except BankError as exc:
            raise DataSpecError(f"synthetic data: {exc}") from None

    def _composed_validation(
        self, val_bank: DigitBank, val_layouts, val_synthetic: int, blurred: bool = False
    ) -> list[tuple[str, Batch]]:
        """``val_synthetic`` images composed once from ``val_bank``, an equal share in each layout
        and, if ``blurred``, in ours layout blurred (named by layout, or "blurred")."""
        # the validation images are composed at once, as float32 on the device
        require_memory("--val-size", val_synthetic, 4 * IMAGE_HEIGHT * IMAGE_WIDTH)
        g = torch.Generator(self.device).manual_seed(self.seed + VAL_STREAM_OFFSET)
        names = (*val_layouts, "blurred") if blurred else tuple(val_layouts)
        parts = []
        for i, name in enumerate(names):
            count = val_synthetic // len(names) + (i < val_synthetic % len(names))
            if not count:  # (--val-size 2 across three layouts)
                continue
            layout = "synth" if name == "blurred" else name
            images, digits = Composer(val_bank, self.device, layout=layout).compose(count, g)
            if name == "blurred":  # quantised again, as a blurred PNG would be
                images = quantise_like_png(gaussian_blur(images))
            parts.append((name, Batch(images, digits.sum(1), digits)))
        return parts

    def _to_device(self, images, sums, digits) -> Batch:
        x = torch.from_numpy(images).to(self.device).unsqueeze(1)  # uint8 (N, 1, 40, 168): 4x less memory
        return Batch(x, torch.from_numpy(sums).to(self.device), torch.from_numpy(digits).to(self.device))

    @property
    def train_size(self) -> int:
        """Training images per epoch, all ranks together."""
        return (len(self.real_train.sums) if self.real_train is not None else 0) + self.synthetic_per_epoch

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches per epoch and rank, exactly as many as :meth:`epoch` yields (at least 1 for the schedule)."""
        return max(1, -(-self.rank_share()[1] // batch_size))

    def rank_share(self) -> tuple[int, int]:
        """This rank's labelled images per epoch, and all its images per epoch (the same on every rank)."""
        real = len(self.real_train.sums) // self.world if self.real_train is not None else 0
        return real, real + self.synthetic_per_epoch // self.world

    def epoch(self, epoch: int, batch_size: int):
        """Yield this rank's batches for ``epoch``: labelled and composed images mixed within each batch.

        Each batch holds the two kinds in the epoch's proportions (to within one image), so no
        step learns from one kind alone: a run on a folder of corrections and composed images
        would otherwise take steps of corrections alone, whose loss is far lower, and its
        gradients and the loss curve would swing between the two. Every rank yields the same
        number of batches (DDP needs that); the order depends only on (seed, epoch, rank), so a
        resumed run sees exactly the data it would have.
        """
        g_dev = torch.Generator(self.device).manual_seed(self.seed * 1_000_003 + epoch * 101 + self.rank)
        real, total = self.rank_share()
        if real:
            perm = torch.randperm(len(self.real_train.sums), generator=torch.Generator().manual_seed(self.seed + epoch))
            mine = perm[self.rank :: self.world][:real].to(self.device)
        for start in range(0, total, batch_size):
            end = min(total, start + batch_size)
            # the labelled images among slots [start, end) of the epoch, spread evenly over it
            first, last = start * real // total, end * real // total
            composed = (end - start) - (last - first)
            parts = []
            if last > first:
                r, idx = self.real_train, mine[first:last]
                parts.append(Batch(r.images[idx], r.sums[idx], r.digits[idx]))  # uint8: _concat makes it float
            if composed:
                images, digits = self.composer.compose(composed, g_dev)
                parts.append(Batch(images, digits.sum(1), digits))
            yield _concat(parts, groups=False)

    def val_batches(self, batch_size: int):
        """This rank's share of the fixed validation set."""
        if self.val is None:
            return
        n = len(self.val.sums)
        for start in range(self.rank * batch_size, n, batch_size * self.world):
            sl = slice(start, min(n, start + batch_size))
            images = self.val.images[sl]
            images = images.float() / 255.0 if images.dtype == torch.uint8 else images
            yield Batch(images, self.val.sums[sl], self.val.digits[sl], self.val.groups[sl])


def _read_specs(specs) -> tuple[int, list, list[str]]:
    """Read ``--data`` specs: composed images per epoch, the labelled sets, and their fingerprint entries.

    Raises
    ------
    DataSpecError
        No spec, a ``synthetic:N`` whose N is no integer, or a labelled set that cannot be read.
    """
    synthetic_per_epoch, real, fingerprint = 0, [], []
    for spec in specs:
        if spec.startswith("synthetic:"):
            synthetic_per_epoch += _synthetic_count(spec)
        else:
            real.append(_read_labelled(spec))
            fingerprint.append(f"{spec}#{len(real[-1].sums)}")
    if not specs:
        raise DataSpecError("no training data: give --data FOLDER, --data FILE.npy or --data synthetic:N")
    return synthetic_per_epoch, real, fingerprint


def _synthetic_count(spec: str) -> int:
    """N of ``synthetic:N``."""
    try:
        return int(spec.split(":", 1)[1])
    except ValueError:
        raise DataSpecError(f"{spec}: expected synthetic:N with N an integer") from None


def _read_labelled(spec: str):
    """The labelled images of a folder or ``.npy`` spec (``core.labels.labelled_set.load_labelled``)."""
    from core.errors import InputError
    from core.labels.labelled_set import load_labelled

    try:
        return load_labelled(spec)
    except InputError as exc:  # (one line that names the spec)
        raise DataSpecError(str(exc)) from None


def _refuse_shared_writers(val_digits: str, bank: DigitBank, train_bank: DigitBank, val_bank: DigitBank) -> None:
    """``--val-digits`` must be by other writers than the training digits, and both banks must say whose."""
    if bank.writer is None or val_bank.writer is None:
        raise BankError("--val-digits needs writer IDs in both banks, to check that no writer is in both")
    if np.isin(val_bank.writer, train_bank.writer).any():
        raise BankError(f"{val_digits} shares writers with the training digits: choose digits by others")


def split_bank(bank: DigitBank, val_share: float = 0.2, seed: int = 0) -> tuple[DigitBank, DigitBank]:
    """Training and validation digits: by writer where the bank knows its writers, else by index.

    Digits by MNIST's test writers (``stranger``) are left out first: they are for held-out
    figures only, and no model trains on them. Of the rest, the validation side of
    :func:`core.synth.splits.writer_split` (by index without writer IDs) validates and every other
    writer trains (the training writers' old held-out share too: held-out figures now come
    from the strangers). A smaller bank without that side is split by a seeded share of its
    writers (or digits), so no writer (or digit) is in both training and validation images.
    """
    bank = without_strangers(bank)
    if bank.writer is not None:
        in_val = writer_split(bank.writer) == "val"
    else:
        in_val = np.isin(bank.index, split_indices()["val"])
    if in_val.any() and not in_val.all():
        return bank.take(~in_val), bank.take(in_val)
    if len(bank.y) < 10:
        raise BankError(f"only {len(bank.y)} digits: too few to split into training and validation")
    units = bank.writer if bank.writer is not None else np.arange(len(bank.y))  # who may not be on two sides
    ids = np.unique(units)
    if len(ids) < 2:
        raise BankError("all digits are by one writer: too few writers to split into training and validation")
    order = np.random.default_rng(seed).permutation(len(ids))
    val_ids = ids[order[: max(1, int(len(ids) * val_share))]]
    in_val = np.isin(units, val_ids)
    return bank.take(~in_val), bank.take(in_val)


def bank_digest(bank: DigitBank) -> str:
    """A short digest of a bank's digits and labels, for a run's data fingerprint."""
    return hashlib.sha256(bank.x.tobytes() + bank.y.tobytes()).hexdigest()[:16]


def without_strangers(bank: DigitBank) -> DigitBank:
    """The bank without its digits by MNIST's test writers: those never train."""
    if not bank.strangers:
        return bank
    if bank.stranger.all():
        raise BankError(
            "this digit bank holds only digits by MNIST's test writers, kept for held-out figures: "
            "training composes from MNIST's training digits (--mnist mnist-train.npz)"
        )
    return bank.take(~bank.stranger)


def _concat(parts, groups: bool = True) -> Batch:
    """The parts as one float batch; with ``groups`` (validation's) each image's ``groups`` is the index of its part."""
    as_float = [p.images.float() / 255.0 if p.images.dtype == torch.uint8 else p.images for p in parts]
    return Batch(
        torch.cat(as_float),
        torch.cat([p.sums for p in parts]),
        torch.cat([p.digits for p in parts]),
        torch.cat([torch.full_like(p.sums, i) for i, p in enumerate(parts)]) if groups else None,
    )
