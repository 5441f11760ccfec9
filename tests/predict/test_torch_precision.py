"""core.predict.torch_precision: folded batch norms and bf16 weights, against the plain fp32 model."""

import copy

import pytest
import torch

from core.models.networks import build_model
from core.predict import torch_precision


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
        folded = torch_precision.fold_batch_norms(copy.deepcopy(model))
        got = folded(x)[0]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_bf16_preparation_stores_conv_weights_in_bf16():
    model = torch_precision.prepare_for_inference(build_model("resnet50", "digits").eval(), "bf16")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.weight.dtype == torch.bfloat16 for m in convs)
