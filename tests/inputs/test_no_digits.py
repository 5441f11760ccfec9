"""Issue 14, class 4: images with no digits are never read with confidence.

A set of featureless images is built here as real files (PNG, JPEG, 16-bit, transparent,
4000x4000 noise, ``.npy`` rows): blank, uniform, gradients, noise of several kinds, specks,
stripes and near-empty images. The shipped model reads them through the real command line;
no row may come out with a confident sum (>= 0.9, ``core.spec.SECOND_LOOK_BELOW``: so sure that
not even the second look reads it again; the window's doubtful threshold is higher still).
Ordinary digit images must pass the check untouched.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers.clitools import ROOT, read_csv_bytes, run_cli
from PIL import Image, ImageFilter

from core.inputs.images import to_model_input
from core.inputs.no_digits import no_digits_reason
from core.spec import SECOND_LOOK_BELOW

SAMPLES = ROOT / "resources" / "samples"
CONFIDENT = SECOND_LOOK_BELOW  # a row at least this sure is taken as read
H, W = 40, 168


def featureless_images(rng) -> dict[str, np.ndarray]:
    """Images (any size, uint8 unless said) with no digits in them, by name."""
    images = {f"uniform{v}.png": np.full((H, W), v, np.uint8) for v in (0, 1, 64, 128, 200, 254, 255)}
    images["hgrad.png"] = np.tile(np.linspace(0, 255, W), (H, 1)).astype(np.uint8)
    images["vgrad.png"] = np.tile(np.linspace(0, 255, H)[:, None], (1, W)).astype(np.uint8)
    images["radial.png"] = (
        255 * np.exp(-(((np.arange(W)[None] - 84) / 40) ** 2 + ((np.arange(H)[:, None] - 20) / 15) ** 2))
    ).astype(np.uint8)
    for i in range(2):
        images[f"noise_uniform{i}.png"] = rng.integers(0, 256, (H, W), dtype=np.uint8)
        images[f"noise_gauss128_{i}.png"] = np.clip(rng.normal(128, 40, (H, W)), 0, 255).astype(np.uint8)
        images[f"noise_gauss30_{i}.png"] = np.clip(rng.normal(30, 30, (H, W)), 0, 255).astype(np.uint8)
        images[f"noise_binary{i}.png"] = (rng.random((H, W)) < 0.5).astype(np.uint8) * 255
        images[f"noise_80x336_{i}.png"] = rng.integers(0, 256, (80, 336), dtype=np.uint8)
        images[f"noise_10x42_{i}.png"] = rng.integers(0, 256, (10, 42), dtype=np.uint8)
        images[f"grey_noise{i}.png"] = np.clip(128 + rng.normal(0, 3, (H, W)), 0, 255).astype(np.uint8)
        images[f"faint{i}.png"] = rng.integers(0, 12, (H, W), dtype=np.uint8)
        small = (rng.random((5, 21)) * 255).astype(np.uint8)
        images[f"blobs{i}.png"] = np.asarray(Image.fromarray(small).resize((W, H), Image.Resampling.BICUBIC))
        for share in (0.01, 0.05, 0.2, 0.35):
            images[f"salt{share}_{i}.png"] = (rng.random((H, W)) < share).astype(np.uint8) * 255
    images["noise_4000x4000.png"] = rng.integers(0, 256, (4000, 4000), dtype=np.uint8)
    blank = np.zeros((H, W), np.uint8)
    near_empty = {
        "dot": (slice(20, 21), slice(80, 81)),
        "blob": (slice(18, 23), slice(60, 65)),
        "vline": (slice(10, 30), slice(84, 86)),
        "hline": (slice(20, 22), slice(30, 130)),
        "rect": (slice(15, 25), slice(70, 100)),
        "corner": (slice(0, 3), slice(0, 3)),
        "half": (slice(None), slice(0, 84)),
        "stripes_h": (slice(None, None, 4), slice(None)),
        "stripes_v": (slice(None), slice(None, None, 4)),
    }
    for name, where in near_empty.items():
        img = blank.copy()
        img[where] = 255
        images[f"{name}.png"] = img
    frame = blank.copy()
    frame[:2], frame[-2:], frame[:, :2], frame[:, -2:] = 255, 255, 255, 255
    images["frame.png"] = frame
    specks = blank.copy()
    specks[[5, 30, 12, 35], [10, 50, 100, 150]] = 255
    images["specks.png"] = specks
    dust = rng.integers(0, 6, (H, W)).astype(np.uint8)
    dust[10, 20], dust[30, 140] = 200, 180
    images["dust.png"] = dust
    images["checker.png"] = ((np.indices((H, W)).sum(0) // 4) % 2 * 255).astype(np.uint8)
    return images


def write_featureless_folder(folder) -> list[str]:
    """The set above as files, plus a JPEG, a 16-bit PNG, a transparent PNG and an .npy of such rows."""
    rng = np.random.default_rng(14)
    folder.mkdir()
    names = []
    for name, img in featureless_images(rng).items():
        Image.fromarray(img).save(folder / name, compress_level=1)
        names.append(name)
    Image.fromarray(rng.integers(0, 256, (H, W), dtype=np.uint8)).save(folder / "noise.jpg", quality=75)
    Image.fromarray(np.full((H, W), 30000, np.uint16)).save(folder / "uniform16.png")
    Image.new("RGBA", (W, H), (255, 0, 0, 0)).save(folder / "transparent.png")
    names += ["noise.jpg", "uniform16.png", "transparent.png"]
    rows = np.stack([np.zeros((H, W)), np.full((H, W), 0.5), rng.random((H, W)), np.full((H, W), 1.0)])
    np.save(folder.parent / "blank.npy", rows.astype(np.float32))  # a 0..1 float array, like many users' exports
    return names


@pytest.mark.hardening("issue 14, class 4")
def test_class4_no_featureless_image_gets_a_confident_sum_and_digit_images_all_pass(tmp_path, default_model):
    folder = tmp_path / "featureless"
    names = write_featureless_folder(folder)
    proc = run_cli(
        "predict",
        folder,
        tmp_path / "blank.npy",
        SAMPLES,
        "--model",
        default_model,
        "--device",
        "cpu",
        "--output",
        tmp_path / "out.csv",
        "-q",
    )
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv_bytes((tmp_path / "out.csv").read_bytes())
    featureless = [r for r in rows if not r["file"].startswith("synth_")]
    assert len(featureless) == len(names) + 4
    confident = [r for r in featureless if r["confidence"] and float(r["confidence"]) >= CONFIDENT]
    refused = [r for r in featureless if r["error"].startswith("no digits found")]
    doubtful = [r for r in featureless if r["confidence"] and float(r["confidence"]) < CONFIDENT]
    print(
        f"\n{len(featureless)} featureless images: {len(confident)} confident, {len(refused)} 'no digits found', "
        f"{len(doubtful)} doubtful: {[(r['file'], r['confidence']) for r in doubtful]}"
    )
    assert confident == [], confident
    assert len(refused) + len(doubtful) == len(featureless)
    # the model was sure of these before the check (0.98-1.00): now they never reach it
    for name in (
        "uniform128.png",
        "vgrad.png",
        "noise_4000x4000.png",
        "stripes_h.png",
        "stripes_v.png",
        "noise_binary0.png",
        "grey_noise0.png",
        "blank.npy:1",
    ):
        row = next(r for r in featureless if r["file"].endswith(name))
        assert row["error"].startswith("no digits found (") and row["predicted_sum"] == "", row
    samples = [r for r in rows if r["file"].startswith("synth_")]
    assert len(samples) == 24 and all(r["error"] == "" and r["predicted_sum"].isdigit() for r in samples)
    summary = proc.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"{len(rows)} inputs: {len(rows) - len(refused)} predicted, {len(refused)} unreadable")


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf))


@pytest.fixture(scope="module")
def composed():
    from core.synth.bank import load_bank
    from core.synth.composer import compose_numpy

    bank = load_bank().subset("holdout")
    return np.concatenate([compose_numpy(bank, 600, seed=41)[0], compose_numpy(bank, 200, seed=42, layout="grid")[0]])


@pytest.mark.hardening("issue 14, class 4")
def test_class4_digit_images_in_every_usual_condition_pass_the_check(composed):
    """No false alarm: composed images as they are, as JPEGs on paper, blurred, dim, on grey, small, noisy."""
    rng = np.random.default_rng(3)
    variants = {
        "as composed": list(composed),
        "JPEG q50": [to_model_input(_jpeg(x, 50)) for x in composed[:100]],
        "dark on paper, JPEG q30": [to_model_input(_jpeg(255 - x, 30)) for x in composed[100:200]],
        "blurred": [np.asarray(Image.fromarray(x).filter(ImageFilter.GaussianBlur(2))) for x in composed[200:300]],
        "a third of the contrast": [(x * 0.3).astype(np.uint8) for x in composed[300:400]],
        "grey background": [np.clip(x * 0.6 + 60, 0, 255).astype(np.uint8) for x in composed[400:500]],
        "half size": [
            to_model_input(np.asarray(Image.fromarray(x).resize((84, 20), Image.Resampling.BILINEAR)))
            for x in composed[500:600]
        ],
        "noise sigma 25": [
            to_model_input(np.clip(x + rng.normal(0, 25, x.shape), 0, 255).astype(np.uint8)) for x in composed[600:700]
        ],
    }
    for what, images in variants.items():
        flagged = [no_digits_reason(x) for x in images if no_digits_reason(x)]
        assert flagged == [], (what, flagged[:3])
