"""core.predict.second_look: doubtful rows read again from shifted copies; sure rows untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.inputs.listing import list_inputs
from core.predict.predictor import Predictor
from core.predict.second_look import SECOND_LOOK_BELOW, SHIFTS, look_again, shifted_copies
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


def test_doubtful_rows_become_the_mean_of_the_copies(digits_model, composed):
    """An untrained model is unsure of every row: each becomes the mean of five readings."""
    predictor = Predictor(digits_model, device="cpu", precision="fp32", second_look_below=0.0)
    images = composed[0][:6]
    once = predictor.classify(images)  # second look off
    probs, digit_probs = look_again(predictor.classify, torch.from_numpy(images), *once, below=1.01)
    views = [once] + [
        predictor.classify(shifted_copies(torch.from_numpy(images))[k * 6 : (k + 1) * 6].numpy())
        for k in range(len(SHIFTS))
    ]
    np.testing.assert_allclose(probs, np.mean([v[0] for v in views], 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(digit_probs, np.mean([v[1] for v in views], 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert not np.allclose(probs, once[0])  # the copies were read differently
    predictor.second_look_below = 1.01
    np.testing.assert_allclose(predictor.classify(images)[0], probs, rtol=1e-4, atol=1e-6)


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
