"""core.synth.composer: composition (seeded, labelled, in the assignment's format), augmentation and layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers.clitools import ROOT
from PIL import Image, ImageFilter

from core.labels.labels_csv import read_labels_csv
from core.synth import composer
from core.synth.bank import DigitBank, load_bank
from core.synth.composer import Composer, compose_numpy
from core.synth.folder import write_synthetic_folder
from core.synth.placement import TOUCH_ADVANCE, ink_extents, touch_layout, wide_layout


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
    for img, dig in zip(images, digits, strict=True):
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


def test_stronger_training_blur_is_pils_gaussian_blur_of_radius_1(bank):
    """Half the blurred training images are blurred as users' scans are, and as the robustness check blurs."""
    images, _ = compose_numpy(bank, 8, seed=1)
    batch = torch.from_numpy(images).float()[:, None]
    strong = composer.gaussian_taps(composer.BLUR_SIGMA, composer.BLUR_RADIUS, "cpu")
    ours = composer._separable_blur(batch, strong)[:, 0]
    pil = np.stack([np.asarray(Image.fromarray(x).filter(ImageFilter.GaussianBlur(1))) for x in images]).astype(float)
    inside = (slice(None), slice(3, -3), slice(3, -3))  # PIL repeats the edge pixels where we pad with black
    # to 3 grey levels of 255: PIL approximates the Gaussian by box blurs
    assert np.abs(ours.numpy() - pil)[inside].max() <= 3
    light = composer._separable_blur(batch, torch.tensor([1.0, 2.0, 1.0]) / 4)[:, 0]
    assert np.abs(light.numpy() - pil)[inside].max() > 20  # the light blur alone is not this one


# --- augmentation for new writers, and the independent grid layout --------------------------

# compose_numpy(hash_bank(), 520, seed=7) as the composer made it before elastic distortion, the
# wide, grid and touch layouts came in (git show f302cbd:core/synth.py): each image's total ink and
# its digits. 520 images are two batches of compose_numpy: one extra random draw in the plain path
# moves the second batch's digits and ink completely. The ink is compared to 0.1%, not byte for
# byte: grid_sample rounds differently from one CPU's vector instructions to another's (an
# avx512 Xeon and an EPYC differ by a level here and there). Held-out figures depend on these images.
PLAIN_REFERENCE = ROOT / "tests" / "data" / "plain-composition.npz"


def hash_bank() -> DigitBank:
    """Fifty seeded noise 'digits' in MNIST's 20x20 middle: a bank no other change can alter."""
    rng = np.random.default_rng(0)
    x = np.zeros((50, 28, 28), np.uint8)
    x[:, 4:24, 4:24] = rng.integers(0, 256, (50, 20, 20), dtype=np.uint8)
    return DigitBank(x, np.arange(50) % 10, np.arange(50))


def squares_bank() -> DigitBank:
    """Blank 0s and solid 5s (a 16 px square in the 28 px box): ink shows where the 5s went."""
    x = np.zeros((20, 28, 28), np.uint8)
    x[10:, 6:22, 6:22] = 255
    return DigitBank(x, np.array([0] * 10 + [5] * 10), np.arange(20))


def test_plain_composition_is_the_same_as_before():
    images, digits = compose_numpy(hash_bank(), 520, seed=7)
    with np.load(PLAIN_REFERENCE) as before:
        np.testing.assert_array_equal(digits, before["digits"])
        np.testing.assert_allclose(images.reshape(520, -1).sum(1), before["ink"], rtol=1e-3)
    same, _ = Composer(hash_bank(), "cpu", augment=0.0).compose(512, torch.Generator().manual_seed(7))
    np.testing.assert_array_equal((same[:, 0] * 255).round().to(torch.uint8).numpy(), images[:512])


def test_elastic_distortion_bends_digits_without_destroying_them(bank):
    composer = Composer(bank, "cpu", augment=True)
    src = torch.from_numpy(bank.x[:64]).float().unsqueeze(1) / 255  # (64, 1, 28, 28)
    bent = composer._elastic(src, torch.Generator().manual_seed(0))
    assert bent.shape == src.shape
    change = (bent - src).abs().mean(dim=(1, 2, 3)) / src.mean(dim=(1, 2, 3))  # (64,) relative to the ink
    assert (change > 0.15).all()  # every digit moved (alpha 8 moves some by less)

    def corr(a, b):  # (64,) correlation of each digit with its distorted self
        return np.array(
            [np.corrcoef(x.flatten(), y.flatten())[0, 1] for x, y in zip(a.numpy(), b.numpy(), strict=True)]
        )

    assert np.median(corr(src, bent)) < 0.85  # strokes left their places...
    # ...but at the scale of a stroke's width the shape holds: not mush (alpha 80 or sigma 2 fail here)
    near = corr(F.avg_pool2d(src, 5, 1, 2), F.avg_pool2d(bent, 5, 1, 2))
    assert near.min() > 0.5 and np.median(near) > 0.8
    ratio = bent.sum(dim=(1, 2, 3)) / src.sum(dim=(1, 2, 3))
    assert ((ratio > 0.6) & (ratio < 1.5)).all()  # strokes stretched or squeezed, not erased or smeared
    again = composer._elastic(src, torch.Generator().manual_seed(0))
    assert torch.equal(bent, again)


def random_inks(bank, n: int) -> torch.Tensor:
    """(n, 4, 4) ink extents of four seeded random digits per image, as the layouts take them."""
    pick = torch.randint(0, len(bank.y), (4 * n,), generator=torch.Generator().manual_seed(0))
    src = torch.from_numpy(bank.x)[pick].float().unsqueeze(1) / 255  # (4n, 1, 28, 28)
    return ink_extents(src, torch.eye(2).expand(4 * n, 2, 2)).view(n, 4, 4)


def test_wide_layout_reaches_beyond_ours_and_keeps_ink_on_canvas(bank):
    ink = random_inks(bank, 2000)
    box, cx, cy = wide_layout(ink, torch.Generator().manual_seed(0))
    scale = box / 28
    assert scale.min() < 0.6 and scale.max() > 1.6  # past ours (0.6-1.4) on both sides
    px = ink * (box / 2).unsqueeze(-1)  # (n, 4, 4)
    left, right, top, bottom = cx + px[..., 0], cx + px[..., 1], cy + px[..., 2], cy + px[..., 3]
    assert left.min() >= 0.99 and right.max() <= 168 - 1 - 0.99
    assert top.min() >= 0.99 and bottom.max() <= 40 - 1 - 0.99
    assert (torch.diff(left, dim=1) > 0).all() and (torch.diff(cx, dim=1) > 0).all()  # left to right
    gaps = left[:, 1:] - right[:, :-1]
    assert (gaps < -2).any() and (gaps > 30).any()  # overlaps and wide gaps both occur
    assert (top.amin(1) < 3).any() and (bottom.amax(1) > 36).any()


def test_augmented_images_keep_ink_on_canvas_and_digits_in_order(bank, monkeypatch):
    """Wide layouts only, no photometric noise: the canvas border stays black, the 5s stay in order."""
    monkeypatch.setattr(composer, "WIDE_LAYOUT_SHARE", 1.0)
    monkeypatch.setattr(Composer, "_photometric", lambda self, img, g: img)
    images, _ = Composer(bank, "cpu", augment=True).compose(256, torch.Generator().manual_seed(1))
    plain, _ = Composer(bank, "cpu", augment=False).compose(256, torch.Generator().manual_seed(1))
    assert not torch.equal(images, plain)
    img = images[:, 0]  # (256, 40, 168)
    assert img[:, [0, -1], :].max() == 0 and img[:, :, [0, -1]].max() == 0
    rows = (img > 0.5).any(2).float()  # (256, 40): rows with ink
    span = 40 - rows.argmax(1) - rows.flip(1).argmax(1)  # (256,) ink height of each image
    assert span.max() >= 34 and span.min() <= 12  # bigger and smaller than ours allows

    dim = squares_bank()
    dim.x[:10] = dim.x[10:] // 4  # the 0s a dim square, so they take room in the row as the 5s do
    images, digits = Composer(dim, "cpu", augment=True).compose(400, torch.Generator().manual_seed(2))
    centres = {k: [] for k in range(4)}
    for im, dig in zip(images[:, 0].numpy(), digits.numpy(), strict=True):
        fives = np.flatnonzero(dig == 5)
        assert (im.max() > 0.5) == (len(fives) > 0)
        if len(fives) == 1:
            cols = (im > 0.5).sum(0)
            centres[int(fives[0])].append((cols * np.arange(168)).sum() / cols.sum())
    means = [np.mean(centres[k]) for k in range(4)]
    assert all(len(centres[k]) > 5 for k in range(4)) and means == sorted(means), means


def test_grid_layout_is_seeded_and_independent_of_ours(bank):
    a_img, a_dig = compose_numpy(bank, 16, seed=3, layout="grid")
    b_img, b_dig = compose_numpy(bank, 16, seed=3, layout="grid")
    c_img, _ = compose_numpy(bank, 16, seed=4, layout="grid")
    ours, our_dig = compose_numpy(bank, 16, seed=3)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_dig, b_dig)
    assert not np.array_equal(a_img, c_img)
    np.testing.assert_array_equal(a_dig, our_dig)  # the same digits are drawn first...
    assert not np.array_equal(a_img, ours)  # ...and laid out otherwise
    assert a_img.shape == (16, 40, 168) and a_img.dtype == np.uint8
    assert a_img[:, [0, -1], :].max() == 0 and a_img[:, :, [0, -1]].max() == 0  # ink on the canvas
    with pytest.raises(ValueError, match="unknown layout"):
        Composer(bank, "cpu", layout="diagonal")


def test_grid_digits_sit_left_to_right_in_their_cells_and_labels_sum_them(tmp_path):
    """A 5 (a solid square, at most 1.25 x 16 px, jittered 8 px) never leaves its quarter of the width."""
    out = write_synthetic_folder(tmp_path / "g", 60, squares_bank(), seed=5, layout="grid")
    images, digits = compose_numpy(squares_bank(), 60, seed=5, layout="grid")
    labels = read_labels_csv(out / "labels.csv")
    assert len(labels) == 60 and {int(s) for s, _ in labels.values()} >= {0, 5, 10, 15}
    for i, (name, (total, dig)) in enumerate(labels.items()):
        assert total == int(digits[i].sum()) and dig == "".join(map(str, digits[i]))
        with Image.open(out / name) as im:
            np.testing.assert_array_equal(np.asarray(im), images[i])
        for cell in range(4):
            ink = images[i][:, 42 * cell : 42 * (cell + 1)].max()
            assert (ink > 200) if digits[i][cell] == 5 else (ink == 0), (i, cell)


def test_synth_command_writes_grid_layout(tmp_path):
    from core.cli.main import build_parser, main

    assert build_parser().parse_args(["synth", "x", "--count", "1"]).layout == "synth"
    assert main(["synth", str(tmp_path / "grid"), "--count", "5", "--layout", "grid"]) == 0
    assert main(["synth", str(tmp_path / "ours"), "--count", "5"]) == 0
    pngs = sorted(p.name for p in (tmp_path / "grid").glob("*.png"))
    assert len(pngs) == 5 and (tmp_path / "grid" / "labels.csv").is_file()
    labels = read_labels_csv(tmp_path / "grid" / "labels.csv")
    assert sorted(labels) == pngs
    assert labels == read_labels_csv(tmp_path / "ours" / "labels.csv")  # same seed, same digits
    differ = [
        not np.array_equal(np.asarray(Image.open(tmp_path / "grid" / p)), np.asarray(Image.open(tmp_path / "ours" / p)))
        for p in pngs
    ]
    assert all(differ)


def test_touch_layout_sets_neighbours_touching_and_keeps_ink_on_canvas(bank):
    ink = random_inks(bank, 2000)
    box, cx, cy = touch_layout(ink, torch.Generator().manual_seed(0))
    advance = torch.diff(cx - box / 2, dim=1) / box[:, :-1]  # (n, 3) box lefts apart, in the left box's widths
    unclamped = advance[(cx - box / 2)[:, 0] > 2]  # a row pushed in at the edge moves, so judge the others
    assert unclamped.min() >= TOUCH_ADVANCE[0] - 0.05 and unclamped.max() <= TOUCH_ADVANCE[1] + 0.05
    px = ink * (box / 2).unsqueeze(-1)  # (n, 4, 4)
    left, right, top, bottom = cx + px[..., 0], cx + px[..., 1], cy + px[..., 2], cy + px[..., 3]
    assert left.min() >= 0.99 and right.max() <= 168 - 1 - 0.99
    assert top.min() >= 0.99 and bottom.max() <= 40 - 1 - 0.99
    assert (torch.diff(cx, dim=1) > 0).all()  # left to right
    gaps = left[:, 1:] - right[:, :-1]
    assert (gaps < 0).float().mean() > 0.15 and gaps.median() < 6  # overlaps are common, most ink nearly touches
    assert gaps.max() < 30  # never the wide layout's far-apart digits


def test_touch_share_lays_out_that_share_of_training_images(bank):
    """``--touch``: a share of the composed images laid out by touch_layout, the rest as before."""
    g = torch.Generator().manual_seed(4)
    plain, plain_digits = Composer(bank, "cpu", augment=0.4).compose(64, g)
    touched, touched_digits = Composer(bank, "cpu", augment=0.4, touch=0.5).compose(64, g.manual_seed(4))
    assert torch.equal(plain_digits, touched_digits)  # the same digits, drawn first
    moved = (plain != touched).flatten(1).any(1).float().mean()
    assert 0.3 < moved < 0.9
    with pytest.raises(ValueError, match="share between 0 and 1"):
        Composer(bank, "cpu", touch=2.0)


def test_synth_command_writes_the_touch_layout(tmp_path):
    from core.cli.main import main

    assert main(["synth", str(tmp_path / "t"), "--count", "5", "--layout", "touch"]) == 0
    assert len(read_labels_csv(tmp_path / "t" / "labels.csv")) == 5


def test_composing_in_chunks_gives_the_same_images_with_bounded_memory(bank):
    """``synth`` writes as it composes: chunks of at most 512, the very images ``compose_numpy`` gives."""
    from core.synth.composer import compose_chunks

    chunks = list(compose_chunks(bank, 1100, seed=4))
    assert [len(images) for images, _ in chunks] == [512, 512, 76]
    images, digits = compose_numpy(bank, 1100, seed=4)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), images)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), digits)
