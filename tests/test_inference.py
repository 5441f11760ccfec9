"""core.inference: folded batch norms, bf16 weights and int8, against the plain fp32 model."""

import copy
import json

import numpy as np
import pytest
import torch

from core import inference
from core.checkpoint import load_model
from core.data import list_inputs
from core.model import build_model
from core.predict import Predictor


def _random_bn_stats(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.mark.parametrize("arch,head", [("resnet50", "digits"), ("resnet50", "sum"), ("baseline", "sum")])
def test_folding_batch_norms_keeps_the_outputs(arch, head):
    torch.manual_seed(0)
    model = _random_bn_stats(build_model(arch, head))
    x = torch.rand(3, 1, 40, 168)
    with torch.no_grad():
        expected = model(x)[0]
        folded = inference.fold_batch_norms(copy.deepcopy(model))
        got = folded(x)[0]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_bf16_preparation_stores_conv_weights_in_bf16():
    model = inference.prepare_for_inference(build_model("resnet50", "digits").eval(), "bf16")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.weight.dtype == torch.bfloat16 for m in convs)


@pytest.mark.skipif(not inference.int8_supported(), reason="int8 needs an x86-64 CPU with AVX2")
def test_int8_ranges_round_trip_and_predictions_follow_fp32(digits_model, synth_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    auto = Predictor(digits_model, device="cpu")
    assert auto.precision != "int8"  # no ranges measured yet: auto does not calibrate by itself

    model, _ = load_model(digits_model)
    ranges = inference.calibrate(model, count=16)
    assert ranges and all(len(v) == 2 and v[0] > 0 for v in ranges.values())
    dest = inference.write_ranges(digits_model, ranges)
    assert dest.parent == tmp_path / "cache" / "digitsum" / "int8"
    assert json.loads(dest.read_text())["model_sha256"] == inference.file_sha256(digits_model)
    assert inference.read_ranges(digits_model) == ranges

    int8 = Predictor(digits_model, device="cpu", batch_size=8)
    assert int8.precision == "int8" and int8.precision_note == ""
    fp32 = Predictor(digits_model, device="cpu", batch_size=8, precision="fp32")
    items = list_inputs([synth_folder])[:16]
    a = [r for rows in int8.predict(items) for r in rows]
    b = [r for rows in fp32.predict(items) for r in rows]
    assert [r.file for r in a] == [r.file for r in b] and all(r.ok and len(r.digits) == 4 for r in a)
    # an untrained model's outputs are nearly flat, so compare distributions, not argmaxes
    pa = np.array([[p for _, p in r.top3] for r in a])
    pb = np.array([[p for _, p in r.top3] for r in b])
    assert np.abs(pa - pb).max() < 0.05


def test_int8_refuses_other_models_and_stale_ranges(baseline_model, digits_model, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model, _ = load_model(baseline_model)
    with pytest.raises(inference.QuantizeError):
        inference.quantize(model, {})
    digits, _ = load_model(digits_model)
    with pytest.raises(inference.QuantizeError):
        inference.quantize(digits, {"input": [0.1, 0]})  # ranges made for another model
    sidecar = tmp_path / "m.int8.json"
    sidecar.write_text(json.dumps({"format": inference.FORMAT, "model_sha256": "0" * 64, "observers": {}}))
    assert inference.read_ranges(tmp_path / "m.safetensors", sha256="1" * 64) is None
