"""core.models.networks: the three networks, the exact sum distribution, the report's layers, file size."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from core.models.networks import (
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    NUM_SUMS,
    ModelBuildError,
    build_model,
    log_sum_distribution,
    model_config,
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models and batches: one torch thread (see conftest)."""


_MODELS: dict = {}


def model_for(arch: str, head: str):
    """Each network built once per test module (building ResNet-50 takes seconds on a small CPU)."""
    if (arch, head) not in _MODELS:
        torch.manual_seed(0)
        _MODELS[arch, head] = build_model(arch, head).eval()
    return _MODELS[arch, head]


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(0)
    return torch.rand(2, 1, IMAGE_HEIGHT, IMAGE_WIDTH)


@pytest.mark.parametrize(
    "arch, head, reads_digits",
    [("baseline", "sum", False), ("resnet50", "sum", False), ("resnet50", "digits", True)],
)
def test_output_shapes_and_log_probabilities(images, arch, head, reads_digits):
    model = model_for(arch, head)
    with torch.inference_mode():
        sum_log_probs, digit_logits = model(images)
    assert sum_log_probs.shape == (2, NUM_SUMS) and sum_log_probs.dtype == torch.float32
    torch.testing.assert_close(sum_log_probs.exp().sum(1), torch.ones(2))
    if reads_digits:
        assert digit_logits.shape == (2, 4, 10)
        # the sum distribution is the one the digit logits imply
        torch.testing.assert_close(sum_log_probs, log_sum_distribution(digit_logits.log_softmax(-1)))
    else:
        assert digit_logits is None
    config = model_config(model)
    assert (config["arch"], config["head"], config["num_classes"]) == (arch, head, NUM_SUMS)
    assert (config["input_height"], config["input_width"]) == (40, 168)
    assert config["channels"] == (1 if arch == "baseline" else 3)


def test_channels_last_batch_of_one_and_train_mode():
    model = build_model("baseline", "sum").to(memory_format=torch.channels_last).train()
    x = torch.rand(1, 1, IMAGE_HEIGHT, IMAGE_WIDTH).contiguous(memory_format=torch.channels_last)
    sum_log_probs, _ = model(x)
    sum_log_probs.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("arch, head", [("baseline", "digits"), ("vgg16", "sum"), ("resnet50", "boxes")])
def test_unknown_combinations_are_refused(arch, head):
    with pytest.raises(ModelBuildError) as info:
        build_model(arch, head)
    assert "\n" not in str(info.value)


def test_baseline_has_no_pretrained_weights():
    with pytest.raises(ModelBuildError, match="pretrained"):
        build_model("baseline", "sum", pretrained=True)


def test_pretrained_offline_is_one_line(tmp_path, monkeypatch):
    """No cached ImageNet weights and no network: a one-line ModelBuildError, not a stack trace."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # the discard port: the download fails at once
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(ModelBuildError) as info:
        build_model("resnet50", "digits", pretrained=True)
    assert "\n" not in str(info.value) and "ImageNet" in str(info.value)


# --- the exact sum distribution -------------------------------------------------------


def brute_force_sum_distribution(digit_probs: np.ndarray) -> np.ndarray:
    """P(sum = s) by enumerating all 10^K digit combinations (K = digit_probs.shape[1])."""
    batch, k, _ = digit_probs.shape
    out = np.zeros((batch, 9 * k + 1))
    for b in range(batch):
        for combo in itertools.product(range(10), repeat=k):
            out[b, sum(combo)] += np.prod([digit_probs[b, i, d] for i, d in enumerate(combo)])
    return out


def test_log_sum_distribution_equals_enumeration_of_all_10000_combinations():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 4, 10, generator=g, dtype=torch.float64) * 3
    log_probs = logits.log_softmax(-1)
    expected = brute_force_sum_distribution(log_probs.exp().numpy())
    got = log_sum_distribution(log_probs)
    assert got.shape == (3, 37)
    np.testing.assert_allclose(got.exp().numpy(), expected, rtol=1e-10, atol=1e-15)
    # in float32 too (what the model uses), on probabilities as small as they come out
    got32 = log_sum_distribution(log_probs.float())
    np.testing.assert_allclose(got32.exp().numpy(), expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_log_sum_distribution_other_digit_counts(k):
    log_probs = torch.randn(2, k, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(k)).log_softmax(-1)
    got = log_sum_distribution(log_probs).exp().numpy()
    np.testing.assert_allclose(got, brute_force_sum_distribution(log_probs.exp().numpy()), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("magnitude", [1e2, 1e4, 1e6])
def test_log_sum_distribution_is_finite_for_extreme_logits(magnitude):
    """Almost-certain digits: the impossible sums stay finite (no log(0)), gradients too."""
    digits = torch.tensor([[9, 0, 4, 7], [0, 0, 0, 0], [9, 9, 9, 9]])
    logits = torch.full((3, 4, 10), -magnitude)
    logits.scatter_(2, digits.unsqueeze(-1), magnitude)  # +magnitude on the true digit, -magnitude elsewhere
    logits.requires_grad_(True)
    out = log_sum_distribution(logits.log_softmax(-1))
    assert torch.isfinite(out).all()
    assert out.argmax(1).tolist() == digits.sum(1).tolist()
    torch.testing.assert_close(out.logsumexp(1), torch.zeros(3), atol=1e-5, rtol=0)
    nll = -out[torch.arange(3), digits.sum(1)].sum() - out[:, 1].sum()  # a likely and an impossible sum
    nll.backward()
    assert torch.isfinite(logits.grad).all()


def test_digits_model_is_finite_for_extreme_inputs():
    """Saturated images (all white, all black) through the digits head: no NaN anywhere."""
    model = model_for("resnet50", "digits")
    x = torch.stack([torch.ones(1, 40, 168), torch.zeros(1, 40, 168)])
    with torch.inference_mode():
        sum_log_probs, digit_logits = model(x * 1e3)
    assert torch.isfinite(sum_log_probs).all() and torch.isfinite(digit_logits).all()


# --- the report's models, layer by layer ------------------------------------------------


def describe(module: nn.Module) -> list[str]:
    """A flat list of leaf layers with the settings the report names."""
    out = []
    for layer in module.modules():
        if list(layer.children()):
            continue
        if isinstance(layer, nn.Conv2d):
            out.append(f"Conv2d({layer.in_channels},{layer.out_channels},k={layer.kernel_size},p={layer.padding})")
        elif isinstance(layer, nn.MaxPool2d):
            out.append(f"MaxPool2d({layer.kernel_size})")
        elif isinstance(layer, nn.Linear):
            out.append(f"Linear({layer.in_features},{layer.out_features})")
        elif isinstance(layer, nn.Dropout):
            out.append(f"Dropout({layer.p})")
        else:
            out.append(type(layer).__name__)
    return out


def test_baseline_is_the_reports_cnn_exactly():
    model = build_model("baseline", "sum")
    assert describe(model.backbone) + describe(model.head) == [
        "Conv2d(1,32,k=(3, 3),p=(1, 1))", "ReLU", "MaxPool2d(2)",
        "Conv2d(32,64,k=(3, 3),p=(1, 1))", "ReLU", "MaxPool2d(2)",
        "Conv2d(64,128,k=(3, 3),p=(1, 1))", "ReLU", "MaxPool2d(2)",
        "Flatten", "Linear(13440,256)", "ReLU", "Dropout(0.7)", "Linear(256,37)",
    ]  # fmt: skip
    assert model.backbone(torch.zeros(1, 1, 40, 168)).shape == (1, 128, 5, 21)  # 40x168 -> 5x21
    assert model.norm.channels == 1


def test_resnet50_sum_head_is_the_reports_head():
    model = model_for("resnet50", "sum")
    assert describe(model.head.fc) == ["Linear(2048,128)", "ReLU", "Dropout(0.3)", "Linear(128,37)"]
    assert sum(isinstance(m, nn.Conv2d) for m in model.head.modules()) == 53  # ResNet-50's convolutions


def test_digits_head_sees_the_2x6_feature_grid():
    model = model_for("resnet50", "digits")
    with torch.inference_mode():
        assert model.backbone(torch.zeros(1, 3, 40, 168)).shape == (1, 2048, 2, 6)
    assert describe(model.head)[-1] == "Linear(256,40)"  # 4 digits x 10 classes


def test_fp16_model_files_fit_50_mb(digits_model, default_model):
    from core.models.checkpoint import read_model_info

    for path in (digits_model, default_model):
        assert path.stat().st_size <= 50 * 1024 * 1024, path
    info = read_model_info(default_model)
    assert (info.arch, info.head) == ("resnet50", "digits")

    from safetensors import safe_open

    with safe_open(str(default_model), framework="pt") as f:
        dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert "F16" in dtypes and "F32" not in dtypes
