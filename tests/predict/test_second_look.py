"""core.predict.second_look: doubtful rows read again from shifted copies (crowded rows from a stretched
one); sure rows untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.inputs.listing import list_inputs
from core.predict.predictor import Predictor
from core.predict.second_look import (
    CROWDED_INK_WIDTH,
    CROWDED_STRETCH_TO,
    SHIFTS,
    ink_spans,
    look_again,
    shifted_copies,
    stretched_copies,
)
from core.spec import CROWDED_LOOK_BELOW, SECOND_LOOK_BELOW
from core.synth.bank import load_bank
from core.synth.composer import compose_numpy


def flatten(batches):
    return [row for rows in batches for row in rows]


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Small batches: one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def composed():
    images, digits = compose_numpy(load_bank().subset("holdout"), 24, seed=11)
    return images, digits


@pytest.fixture(scope="module")
def touching():
    """Touching neighbours: most, not all, of these rows are crowded."""
    images, _ = compose_numpy(load_bank().subset("holdout"), 40, seed=3, layout="touch")
    start, stop = ink_spans(images)
    crowded = stop - start < CROWDED_INK_WIDTH
    assert 0 < crowded.sum() < len(images)
    return images, crowded


def readings_of_copies(predictor, copies, count):
    """The readings of ``count`` images' copies, copy by copy."""
    return [predictor.classify(part) for part in copies.reshape(-1, count, *copies.shape[1:])]


def test_shifted_copies_move_each_pixel_and_fill_black():
    images = torch.zeros((2, 40, 168), dtype=torch.uint8)
    images[0, 20, 80] = 200
    images[1, 0, 0] = 100  # in the corner: shifted out of the picture for some copies
    copies = shifted_copies(images)
    assert copies.shape == (len(SHIFTS) * 2, 40, 168) and copies.dtype == torch.uint8
    for k, (dx, dy) in enumerate(SHIFTS):
        first = copies[2 * k]
        assert first[20 + dy, 80 + dx] == 200 and first.sum() == 200
        corner = copies[2 * k + 1]
        inside = 0 <= dy < 40 and 0 <= dx < 168
        assert corner.sum() == (100 if inside else 0)


def test_ink_spans_find_the_first_and_last_inked_column():
    images = np.zeros((3, 40, 168), np.uint8)
    images[0, 10:30, 40] = images[0, 5, 79] = 255
    images[1, :, 100:] = 200
    images[2, :, 50] = 40  # not above the ink level
    start, stop = ink_spans(images)
    assert start.tolist() == [40, 100, 0] and stop.tolist() == [80, 168, 0]
    assert [a.tolist() for a in ink_spans(torch.from_numpy(images))] == [start.tolist(), stop.tolist()]


def test_stretched_copies_widen_narrow_ink_about_its_centre_and_keep_the_rest():
    images = np.zeros((4, 40, 168), np.uint8)
    images[0, 8:32, 40:80] = 255  # 40 px wide, centred on column 60
    images[1, 8:32, 140:] = 255  # against the right edge: moved inward to stay in the frame
    images[2, 8:32, 20 : 20 + CROWDED_STRETCH_TO] = 255  # wide enough already
    out = stretched_copies(images)  # images[3] is blank
    start, stop = ink_spans(out)
    assert (start[:2].tolist(), stop[:2].tolist()) == ([8, 168 - CROWDED_STRETCH_TO], [8 + CROWDED_STRETCH_TO, 168])
    assert out[0, 8:32, 8 : 8 + CROWDED_STRETCH_TO].min() == 255 and out[0, :8].max() == out[0, 32:].max() == 0
    np.testing.assert_array_equal(out[2:], images[2:])
    assert out.dtype == np.uint8 and out.shape == images.shape


def test_doubtful_rows_become_the_mean_of_the_copies(digits_model, composed):
    """Below a threshold above 1 every row is doubtful: each becomes the mean of five readings."""
    predictor = Predictor(digits_model, device="cpu", precision="fp32", second_look_below=0.0)
    images = composed[0][:6]
    start, stop = ink_spans(images)
    assert (stop - start >= CROWDED_INK_WIDTH).all()  # the synth layout: none crowded
    once = predictor.classify(images)  # second look off
    probs, digit_probs = look_again(predictor.classify, torch.from_numpy(images), *once, below=1.01)
    views = [once] + readings_of_copies(predictor, shifted_copies(images), len(images))
    np.testing.assert_allclose(probs, np.mean([v[0] for v in views], 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(digit_probs, np.mean([v[1] for v in views], 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert not np.allclose(probs, once[0])  # the copies were read differently
    predictor.second_look_below = 1.01
    np.testing.assert_allclose(predictor.classify(images)[0], probs, rtol=1e-4, atol=1e-6)


def test_crowded_rows_are_read_again_stretched(digits_model, touching):
    """A crowded row is read from its stretched copy alone; the other doubtful rows become the
    mean of five readings, itself and its shifted copies."""
    predictor = Predictor(digits_model, device="cpu", precision="fp32", second_look_below=0.0)
    images, crowded = touching
    once = predictor.classify(images)
    probs, digit_probs = look_again(predictor.classify, torch.from_numpy(images), *once, below=1.01)
    stretched = predictor.classify(stretched_copies(images))
    five = [once] + readings_of_copies(predictor, shifted_copies(images), len(images))
    for k in (0, 1):  # sums, then digits
        crowded_rows = crowded.reshape(-1, *[1] * (once[k].ndim - 1))
        expected = np.where(crowded_rows, stretched[k], np.mean([v[k] for v in five], 0))
        np.testing.assert_allclose((probs, digit_probs)[k], expected, rtol=1e-4, atol=1e-6)


def test_crowded_rows_are_read_again_below_a_higher_threshold(default_model, touching):
    predictor = Predictor(default_model, device="cpu", precision="fp32", second_look_below=0.0)
    images, crowded = touching
    probs, digit_probs = predictor.classify(images)
    conf = probs.max(1)
    below = 0.5
    assert (crowded & (conf >= below) & (conf < CROWDED_LOOK_BELOW)).any()  # rows only the crowded rule reads again
    calls = []

    def counting(x):
        calls.append(len(x))
        return predictor.classify(x)

    new_probs, _ = look_again(counting, images, probs, digit_probs, below=below)
    stretched = crowded & (conf < CROWDED_LOOK_BELOW)
    shifted = ~crowded & (conf < below)
    assert calls == [len(SHIFTS) * shifted.sum()] * bool(shifted.any()) + [stretched.sum()]
    read_again = stretched | shifted
    np.testing.assert_array_equal(new_probs[~read_again], probs[~read_again])
    assert not np.isclose(new_probs[read_again], probs[read_again]).all(1).any()


def test_sure_rows_are_left_exactly_as_read(default_model, composed):
    predictor = Predictor(default_model, device="cpu", precision="fp32", second_look_below=0.0)
    images = composed[0]
    probs, digit_probs = predictor.classify(images)
    conf = probs.max(1)
    below = float(np.median(conf))  # half the rows count as doubtful
    calls = []

    def counting(x):
        calls.append(len(x))
        return predictor.classify(x.numpy())

    new_probs, new_digits = look_again(counting, torch.from_numpy(images), probs, digit_probs, below=below)
    sure = conf >= below
    assert calls == [len(SHIFTS) * int((~sure).sum())]  # only the doubtful rows were read again, in one pass
    np.testing.assert_array_equal(new_probs[sure], probs[sure])
    np.testing.assert_array_equal(new_digits[sure], digit_probs[sure])
    assert look_again(counting, torch.from_numpy(images), probs, digit_probs, below=0.0)[0] is probs  # off
    assert len(calls) == 1


def test_models_that_read_no_digits_are_not_read_again(baseline_model, composed):
    predictor = Predictor(baseline_model, device="cpu", precision="fp32", second_look_below=1.01)
    probs, digit_probs = predictor.classify(composed[0][:4])
    assert digit_probs is None
    off = Predictor(baseline_model, device="cpu", precision="fp32", second_look_below=0.0).classify(composed[0][:4])
    np.testing.assert_allclose(probs, off[0], rtol=1e-5)


def test_predict_reads_doubtful_rows_again_and_cli_can_turn_it_off(default_model, digits_model, synth_folder, capsys):
    from core.cli.main import main

    items = list_inputs([synth_folder])[:8]
    on, off = (
        flatten(
            Predictor(default_model, device="cpu", precision="fp32", batch_size=4, second_look_below=below).predict(
                items
            )
        )
        for below in (1.01, 0.0)
    )
    assert [r.file for r in on] == [r.file for r in off]
    assert any(abs(a.confidence - b.confidence) > 1e-4 for a, b in zip(on, off, strict=True))
    out = synth_folder.parent / "look.csv"
    for flag, said in (([], True), (["--no-second-look"], False)):
        assert main(["predict", str(synth_folder), "--model", str(digits_model), "--output", str(out), *flag]) == 0
        err = capsys.readouterr().err
        assert (f"second look below {SECOND_LOOK_BELOW:g}" in err) == said
    assert f"{SECOND_LOOK_BELOW:g}" in " ".join(main_help("predict").split())


def main_help(command: str) -> str:
    from core.cli.main import build_parser

    return build_parser()._subparsers._group_actions[0].choices[command].format_help()
