"""core.predict.predictor: the Predictor on real (tiny, untrained) models and real files."""

from __future__ import annotations

import functools
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from core.devices import DeviceError
from core.inputs.listing import InputItem, list_inputs, load_item
from core.models.checkpoint import ModelFileError
from core.predict.pipeline import BatchQueue, SlotDecoder
from core.predict.predictor import Predictor


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models and batches: one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def baseline_predictor(baseline_model):
    # fp32 where the CPU would pick bf16: the comparisons below are about batching, not precision
    return Predictor(baseline_model, device="cpu", batch_size=16, workers=2, precision="fp32")


def flatten(batches):
    return [row for rows in batches for row in rows]


def test_rows_in_input_order_with_probabilities(baseline_predictor, synth_folder):
    items = list_inputs([synth_folder])
    batches = list(baseline_predictor.predict(items))
    rows = flatten(batches)
    assert [len(b) for b in batches] == [16, 16, 8]
    assert [r.file for r in rows] == [i.name for i in items] == [f"synth_{i:05d}.png" for i in range(40)]
    for row in rows:
        assert row.ok and row.error == "" and row.digits == "" and row.digit_confidence == ()
        assert 0 <= row.predicted_sum <= 36 and 0 < row.confidence <= 1
        assert row.top3[0] == (row.predicted_sum, pytest.approx(row.confidence))
        probs = [p for _, p in row.top3]
        assert probs == sorted(probs, reverse=True) and len({s for s, _ in row.top3}) == 3
    assert baseline_predictor.device_name == "CPU" and baseline_predictor.model_info.arch == "baseline"


def test_batch_size_and_workers_do_not_change_results(baseline_model, baseline_predictor, synth_folder):
    items = list_inputs([synth_folder])
    a = flatten(baseline_predictor.predict(items))
    b = flatten(Predictor(baseline_model, device="cpu", batch_size=7, workers=1, precision="fp32").predict(items))
    assert [(r.file, r.predicted_sum) for r in a] == [(r.file, r.predicted_sum) for r in b]
    np.testing.assert_allclose([r.confidence for r in a], [r.confidence for r in b], rtol=1e-5)


def test_classify_probabilities_sum_to_one(baseline_predictor):
    images = np.zeros((3, 40, 168), np.uint8)
    images[1, 10:30, 20:30] = 255
    probs, digit_probs = baseline_predictor.classify(images)
    assert probs.shape == (3, 37) and digit_probs is None
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


def test_digits_model_reads_four_digits(digits_model, synth_folder):
    predictor = Predictor(digits_model, device="cpu", batch_size=4)
    rows = flatten(predictor.predict(list_inputs([synth_folder])[:5]))
    assert len(rows) == 5
    for row in rows:
        assert len(row.digits) == 4 and row.digits.isdigit()
        assert len(row.digit_confidence) == 4 and all(0 < p <= 1 for p in row.digit_confidence)
        assert 0 <= row.predicted_sum <= 36


def test_bad_files_become_error_rows(baseline_predictor, synth_folder, tmp_path):
    good = sorted(synth_folder.glob("*.png"))[:3]
    for i, src in enumerate(good):
        shutil.copy(src, tmp_path / f"img{i}.png")
    (tmp_path / "img1b.png").write_bytes(b"")  # sorts between img1 and img2
    (tmp_path / "img0b.png").write_text("hello, not a png")
    rows = flatten(baseline_predictor.predict(list_inputs([tmp_path])))
    assert [r.file for r in rows] == ["img0.png", "img0b.png", "img1.png", "img1b.png", "img2.png"]
    assert [r.ok for r in rows] == [True, False, True, False, True]
    for r in rows:
        if not r.ok:
            assert r.error and "\n" not in r.error and r.predicted_sum is None and r.confidence is None


def test_decoding_processes_give_the_threads_rows(baseline_model, baseline_predictor, synth_folder, tmp_path):
    # the GPU host's decoding (forked processes, each holding the run's inputs), here on the CPU
    for i, src in enumerate(sorted(synth_folder.glob("*.png"))[:20]):
        shutil.copy(src, tmp_path / f"img{i:02d}.png")
    (tmp_path / "img05b.png").write_bytes(b"")
    (tmp_path / "img11b.png").write_text("hello, not a png")
    items = list_inputs([tmp_path])
    threads = flatten(baseline_predictor.predict(items))
    # batches of 2: eleven batches go round the ring of decoded-image slots (5 batches) twice
    in_processes = Predictor(baseline_model, device="cpu", batch_size=2, workers=3, precision="fp32", processes=True)
    rows = flatten(in_processes.predict(items))
    assert [(r.file, r.predicted_sum, r.error) for r in rows] == [(r.file, r.predicted_sum, r.error) for r in threads]
    assert [r.file for r in rows if r.error] == ["img05b.png", "img11b.png"]
    np.testing.assert_allclose([r.confidence or 0 for r in rows], [r.confidence or 0 for r in threads], rtol=1e-5)
    # and each image is the one its row names: the model on that image alone
    for item, row in zip(items, rows, strict=True):
        if not row.error:
            probs, _ = baseline_predictor.classify(load_item(item)[None].copy())
            assert row.predicted_sum == int(probs[0].argmax())


def test_the_gpu_loop_gives_the_cpu_loop_rows(baseline_predictor, synth_folder, tmp_path):
    # The CUDA loop (launch batch i+1, then read back batch i) run on the CPU device: the same
    # rows in the same order; a batch with a bad file, an all-bad one and a short last one
    # included, and six batches going round a ring of four (the size predict() gives it).
    for i, src in enumerate(sorted(synth_folder.glob("*.png"))[:17]):
        shutil.copy(src, tmp_path / f"img{i:02d}.png")
    for name in ("img01a.png", "img06a.png", "img06b.png", "img06c.png", "img06d.png"):  # batch 3 of 6: all bad
        (tmp_path / name).write_bytes(b"")
    items = list_inputs([tmp_path])
    # no second look: on the CPU device it would read images back from a ring slot (on CUDA, from the GPU)
    predictor = Predictor(
        baseline_predictor.info.path, device="cpu", batch_size=4, workers=2, precision="fp32", second_look_below=0
    )
    expected = flatten(predictor.predict(items))
    lookahead = 2
    slots = np.empty(((1 + lookahead + 1) * 4, 40, 168), np.uint8)
    with ThreadPoolExecutor(2) as pool:
        queue = BatchQueue(items, 4, slots, functools.partial(pool.submit, SlotDecoder(items, slots)), 2)
        queue.fill(1 + lookahead)
        batches = list(predictor._cuda_batches(queue))
    assert [[r.ok for r in b] for b in batches] == [
        [True, True, False, True],
        [True] * 4,
        [False] * 4,
        [True] * 4,
        [True] * 4,
        [True] * 2,
    ]
    rows = flatten(batches)
    assert [(r.file, r.predicted_sum, r.error) for r in rows] == [(r.file, r.predicted_sum, r.error) for r in expected]
    np.testing.assert_allclose([r.confidence or 0 for r in rows], [r.confidence or 0 for r in expected], rtol=1e-5)


def test_all_bad_batch(baseline_predictor, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    rows = flatten(baseline_predictor.predict([InputItem("a.png", tmp_path / "a.png")]))
    assert len(rows) == 1 and rows[0].error


def test_should_stop_ends_the_stream(baseline_model, synth_folder):
    predictor = Predictor(baseline_model, device="cpu", batch_size=8)
    seen = []
    for rows in predictor.predict(list_inputs([synth_folder]), should_stop=lambda: len(seen) >= 1):
        seen.append(rows)
    assert len(seen) == 1 and len(seen[0]) == 8


def test_unusable_model_or_device(tmp_path):
    with pytest.raises(ModelFileError):
        Predictor(tmp_path / "none.safetensors", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError) as info:
            Predictor(None, device="cuda")
        assert "\n" not in str(info.value)
    with pytest.raises(DeviceError):
        Predictor(None, device="tpu")


def test_a_second_look_larger_than_a_batch_is_read_a_batch_at_a_time(digits_model, synth_folder):
    # shifted copies are four per doubtful row: they go through the model in batch-sized
    # pieces, with the readings of one pass over all of them
    images = np.stack([load_item(item) for item in list_inputs([synth_folder])[:10]])
    small = Predictor(digits_model, device="cpu", batch_size=4, precision="fp32")
    whole = Predictor(digits_model, device="cpu", batch_size=64, precision="fp32")
    (p4, d4), (p64, d64) = small._classify_once(images), whole._classify_once(images)
    assert p4.shape == (10, 37) and d4.shape == (10, 4, 10)
    np.testing.assert_allclose(p4, p64, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(d4, d64, rtol=1e-4, atol=1e-6)
