"""core.models.onnx_export and `digitsum export-onnx`: ONNX files made from model files, int8 following fp32."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch
from helpers.clitools import run_cli

from core.models import onnx_file
from core.models.checkpoint import load_model
from core.models.onnx_export import export_onnx
from core.predict import onnx_model
from core.predict.predictor import Predictor
from core.synth.bank import load_bank
from core.synth.composer import compose_numpy

pytest.importorskip("onnx", reason="making ONNX files needs the onnx extra")


def _torch_probs(model_path, images: np.ndarray) -> np.ndarray:
    """Sum probabilities of the plain fp32 model, as torch computes them."""
    model, _ = load_model(model_path)
    x = torch.from_numpy(images).unsqueeze(1).float() / 255  # (n, 1, 40, 168)
    with torch.inference_mode():
        return torch.cat([model(x[i : i + 64])[0] for i in range(0, len(x), 64)]).exp().numpy()


def test_int8_reads_held_out_images_as_fp32_does(default_model, tmp_path):
    """The default model exported afresh: sums agree on at least 99.8% of rows and accuracy is
    within 0.1 point (1,000 images by the report half's writers, strangers to training; the
    second look off on both sides)."""
    model = tmp_path / default_model.name
    shutil.copyfile(default_model, model)
    export_onnx(model)
    images, digits = compose_numpy(load_bank().subset("holdout"), 1000, seed=11)
    truth = digits.sum(1)
    int8 = Predictor(model, device="cpu", second_look_below=0)
    assert int8.precision == "int8" and int8.precision_note == ""
    int8_sums = int8.classify(images)[0].argmax(1)
    fp32_sums = _torch_probs(model, images).argmax(1)
    assert (int8_sums != fp32_sums).sum() <= 2  # of 1,000
    assert abs((int8_sums == truth).sum() - (fp32_sums == truth).sum()) <= 1


def test_export_onnx_writes_int8_and_fp32_files_that_carry_the_card(baseline_model, tmp_path):
    model = tmp_path / baseline_model.name
    model.write_bytes(baseline_model.read_bytes())
    images, _ = compose_numpy(load_bank().subset("train"), 32, seed=2)
    expected = _torch_probs(model, images)
    for flags, name, tolerance in (([], "baseline.int8.onnx", 0.05), (["--fp32"], "baseline.onnx", 1e-4)):
        proc = run_cli("export-onnx", model, *flags)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(f"wrote {tmp_path / name} (")
        session = onnx_model.OnnxModel(tmp_path / name, threads=1)
        assert session.meta["model_sha256"] == onnx_file.file_sha256(model)
        assert json.loads(session.meta["digitsum"])["metrics"] == {"val_acc": 0.05}
        probs, digit_probs = session(images)
        assert digit_probs is None and probs.shape == (32, 37)
        assert np.abs(probs - expected).max() < tolerance, name
    refused = run_cli("export-onnx", model, "--output", model)
    assert refused.returncode == 1 and refused.stderr.strip().endswith("is the model itself")


def test_a_new_model_gets_its_onnx_file_on_first_use_on_a_cpu(baseline_model, tmp_path):
    """Made by a child process (core.models.onnx_build), whose note and path come back whole
    whatever the model is called."""
    model = tmp_path / "mödel – ü.safetensors"
    model.write_bytes(baseline_model.read_bytes())
    told = []
    first = Predictor(model, device="cpu", announce=told.append)
    assert first.precision == "int8" and (tmp_path / "mödel – ü.int8.onnx").is_file()
    assert told == ["making mödel – ü.int8.onnx, the model's int8 ONNX file (once, ~30 s)"]
    again = Predictor(model, device="cpu", announce=told.append)
    assert again.precision == "int8" and len(told) == 1  # made once


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into a 0555 folder")
def test_a_model_in_a_folder_it_cannot_write_gets_its_onnx_file_in_the_cache(baseline_model, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "m.safetensors").write_bytes(baseline_model.read_bytes())
    os.chmod(shared, 0o555)
    try:
        cached = Predictor(shared / "m.safetensors", device="cpu")
        sha256 = onnx_file.file_sha256(shared / "m.safetensors")
        assert cached.precision == "int8" and onnx_file.cache_path(sha256).is_file()
        assert not (shared / "m.int8.onnx").exists()
    finally:
        os.chmod(shared, 0o755)


def test_training_with_onnx_leaves_the_cpu_file_beside_the_model(tmp_path):
    proc = run_cli(
        "train", "--arch", "baseline", "--data", "synthetic:32", "--epochs", "1", "--val-size", "16",
        "--device", "cpu", "--onnx", "--progress", "json", "--out", tmp_path / "run",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout.strip().splitlines()[-1])
    assert done["event"] == "done" and done["onnx"] == str(tmp_path / "run" / "best.int8.onnx")
    model = onnx_model.OnnxModel(done["onnx"], threads=1)
    assert model.meta["model_sha256"] == onnx_file.file_sha256(tmp_path / "run" / "best.safetensors")


def test_the_grey_stem_reads_as_the_three_channel_model_does():
    """The exported graph folds the first convolution over three equal channels into one over
    the grey image: the same probabilities (padding included), and no fold where the channels'
    statistics differ (ImageNet's)."""
    from core.models.networks import Normalize, _resnet50_normalize, resnet50_digits
    from core.models.onnx_export import _Readings

    torch.manual_seed(0)
    model = resnet50_digits(pretrained=False).eval()
    readings = _Readings(model).eval()
    assert readings.stem is not None and readings.stem.in_channels == 1
    images = torch.randint(0, 256, (3, 40, 168), dtype=torch.uint8)
    images[:, :, :4] = 255  # ink at the border, where the padding meets it
    with torch.inference_mode():
        log_sums, digit_logits = model(images.unsqueeze(1).float() / 255)
        folded = readings(images)
    torch.testing.assert_close(folded, digit_logits.softmax(-1), atol=1e-5, rtol=1e-4)
    imagenet = _resnet50_normalize(pretrained=True)
    assert isinstance(imagenet, Normalize)
    model.norm = imagenet
    assert _Readings(model).stem is None
