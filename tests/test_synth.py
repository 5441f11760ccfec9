"""core.synth: composition (seeded, labelled, in the assignment's format), digit banks, splits."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from core.data import read_labels_csv
from core.synth import (
    BUNDLED_BANK,
    BankError,
    Composer,
    DigitBank,
    compose_numpy,
    load_bank,
    split_indices,
    write_synthetic_folder,
)


@pytest.fixture(scope="module")
def bank() -> DigitBank:
    return load_bank()


# --- composition -------------------------------------------------------------------------


def test_compose_is_reproducible_by_seed(bank):
    a_img, a_dig = compose_numpy(bank, 20, seed=5)
    b_img, b_dig = compose_numpy(bank, 20, seed=5)
    c_img, c_dig = compose_numpy(bank, 20, seed=6)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_dig, b_dig)
    assert not np.array_equal(a_img, c_img) and not np.array_equal(a_dig, c_dig)


def test_composed_images_are_uint8_40x168_white_on_black(bank):
    images, digits = compose_numpy(bank, 64, seed=0)
    assert images.shape == (64, 40, 168) and images.dtype == np.uint8
    assert digits.shape == (64, 4) and digits.dtype == np.int64
    assert digits.min() >= 0 and digits.max() <= 9
    for img in images:
        assert np.median(img) == 0  # black background
        assert img.max() >= 200  # white strokes
        assert (img > 127).mean() < 0.35  # ink is the minority
    assert len({tuple(d) for d in digits}) > 50  # digits vary


def test_zero_count_gives_empty_arrays(bank):
    images, digits = compose_numpy(bank, 0)
    assert images.shape == (0, 40, 168) and digits.shape == (0, 4)


def test_digits_are_returned_left_to_right():
    """A bank of blank 0s and solid 5s: the ink lies where the returned digits say 5."""
    x = np.zeros((20, 28, 28), np.uint8)
    x[10:, 6:22, 6:22] = 255  # the 5s: a solid square in the middle of the 28x28 box
    y = np.array([0] * 10 + [5] * 10)
    synthetic = DigitBank(x, y, np.arange(20))
    images, digits = compose_numpy(synthetic, 300, seed=1)
    assert set(np.unique(digits)) == {0, 5}
    centres = {k: [] for k in range(4)}
    for img, dig in zip(images, digits):
        fives = np.flatnonzero(dig == 5)
        if len(fives) == 0:
            assert img.max() == 0  # four blank digits: a black image
            continue
        assert img.max() > 200
        if len(fives) == 1:
            cols = img.sum(0).astype(float)
            centres[int(fives[0])].append((cols * np.arange(168)).sum() / cols.sum())
    means = [np.mean(centres[k]) for k in range(4)]
    assert all(len(centres[k]) > 5 for k in range(4))
    assert means == sorted(means) and means[0] < 50 and means[3] > 118, means


def test_augmented_composer_stays_in_range(bank):
    composer = Composer(bank, "cpu", augment=True)
    images, digits = composer.compose(32, torch.Generator().manual_seed(0))
    assert images.shape == (32, 1, 40, 168) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    torch.testing.assert_close(images * 255, (images * 255).round())  # quantised like a PNG
    assert digits.shape == (32, 4)
    again, _ = Composer(bank, "cpu", augment=True).compose(32, torch.Generator().manual_seed(0))
    assert torch.equal(images, again)


def test_synthetic_folder_matches_its_labels(tmp_path, bank):
    out = write_synthetic_folder(tmp_path / "s", 12, bank, seed=4)
    images, digits = compose_numpy(bank, 12, seed=4)
    text = (out / "labels.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "filename,sum,digits"
    labels = read_labels_csv(out / "labels.csv")
    assert list(labels) == [f"synth_{i:05d}.png" for i in range(12)]
    for i, (name, (total, dig)) in enumerate(labels.items()):
        assert dig == "".join(map(str, digits[i])) and total == int(digits[i].sum())
        with Image.open(out / name) as im:
            assert (im.mode, im.size) == ("L", (168, 40))
            np.testing.assert_array_equal(np.asarray(im), images[i])


# --- digit banks -----------------------------------------------------------------------


def small_mnist(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def write_idx(path, array: np.ndarray, compress=False) -> None:
    """An IDX file as MNIST ships them: 0x0000, type 0x08 (ubyte), ndim, big-endian sizes, data."""
    data = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)


def assert_bank(bank, x, y):
    np.testing.assert_array_equal(bank.x, x)
    np.testing.assert_array_equal(bank.y, y)
    assert bank.y.dtype == np.int64 and bank.x.dtype == np.uint8


def test_bundled_bank():
    bank = load_bank()
    assert BUNDLED_BANK.is_file()
    assert bank.x.shape[1:] == (28, 28) and len(bank.x) == len(bank.y) == len(bank.index)
    assert set(np.unique(bank.y)) == set(range(10))
    assert np.bincount(bank.y).min() >= 100  # a few hundred digits per class


def test_npz_bank_with_and_without_index(tmp_path):
    x, y = small_mnist()
    np.savez_compressed(tmp_path / "plain.npz", x=x, y=y)
    bank = load_bank(tmp_path / "plain.npz")
    assert_bank(bank, x, y)
    np.testing.assert_array_equal(bank.index, np.arange(30))
    np.savez(tmp_path / "indexed.npz", x=x, y=y, index=np.arange(100, 130))
    np.testing.assert_array_equal(load_bank(str(tmp_path / "indexed.npz")).index, np.arange(100, 130))


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files(tmp_path, compress):
    x, y = small_mnist(seed=1)
    ext = ".gz" if compress else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", x, compress)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", y, compress)
    assert_bank(load_bank(tmp_path), x, y)  # the folder
    assert_bank(load_bank(tmp_path / f"train-images-idx3-ubyte{ext}"), x, y)  # the images file itself


def test_torchvision_mnist_folder(tmp_path):
    """torchvision.datasets.MNIST(root) keeps root/MNIST/raw/*-ubyte (and .gz)."""
    x, y = small_mnist(seed=2)
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", x)
    write_idx(raw / "train-labels-idx1-ubyte", y)
    write_idx(raw / "train-images-idx3-ubyte.gz", x, compress=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", y, compress=True)
    for folder in (tmp_path, tmp_path / "MNIST", raw):
        assert_bank(load_bank(folder), x, y)


def test_bad_banks_are_refused_with_a_reason(tmp_path):
    x, y = small_mnist()
    cases = {}
    cases["missing"] = tmp_path / "nothing.npz"
    np.savez(tmp_path / "nokeys.npz", a=x)
    cases["no x,y"] = tmp_path / "nokeys.npz"
    np.savez(tmp_path / "shape.npz", x=x[:, :20], y=y)
    cases["wrong shape"] = tmp_path / "shape.npz"
    np.savez(tmp_path / "float.npz", x=x.astype(np.float32), y=y)
    cases["float pixels"] = tmp_path / "float.npz"
    np.savez(tmp_path / "count.npz", x=x, y=y[:-1])
    cases["label count"] = tmp_path / "count.npz"
    (tmp_path / "empty").mkdir()
    cases["empty folder"] = tmp_path / "empty"
    idx = tmp_path / "bad-idx"
    write_idx(idx / "train-images-idx3-ubyte", x)  # no labels file beside it
    cases["labels missing"] = idx
    (tmp_path / "text" / "train-images-idx3-ubyte").parent.mkdir()
    (tmp_path / "text" / "train-images-idx3-ubyte").write_text("not an idx file at all")
    write_idx(tmp_path / "text" / "train-labels-idx1-ubyte", y)
    cases["not idx"] = tmp_path / "text"
    for what, path in cases.items():
        with pytest.raises(BankError) as info:
            load_bank(path)
        assert "\n" not in str(info.value), what


# --- splits ----------------------------------------------------------------------------


def test_split_indices_are_disjoint_and_cover_mnist():
    splits = split_indices()
    sets = {k: set(v.tolist()) for k, v in splits.items()}
    assert not sets["train"] & sets["val"] and not sets["train"] & sets["holdout"] and not sets["val"] & sets["holdout"]
    assert sets["train"] | sets["val"] | sets["holdout"] == set(range(60000))
    assert len(sets["val"]) == len(sets["holdout"]) == 3000
    assert all((np.diff(v) > 0).all() for v in splits.values())  # sorted, no repeats
    np.testing.assert_array_equal(split_indices()["val"], splits["val"])  # fixed, not random per call


def test_augment_share_leaves_the_rest_plain(bank):
    """`--augment 0.5`: about half the images are altered; the others look like `digitsum synth`'s."""

    def altered_share(augment):
        images, _ = Composer(bank, "cpu", augment=augment).compose(1000, torch.Generator().manual_seed(3))
        # a plain composition is mostly exact black (four digits cover < 26% of the canvas);
        # noise, a background level or blur leave far fewer exactly black pixels
        black = (images == 0).float().mean(dim=(1, 2, 3))
        return (black < 0.6).float().mean().item()

    none, half, full = altered_share(0.0), altered_share(0.5), altered_share(1.0)
    assert none == 0.0
    assert 0.3 * full < half < 0.7 * full
    with pytest.raises(ValueError, match="share between 0 and 1"):
        Composer(bank, "cpu", augment=1.5)
