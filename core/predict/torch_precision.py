"""Making a trained model fast for torch's prediction: folded batch norms, bf16 weights.

``prepare_for_inference`` folds each batch norm into the convolution before it, goes
channels_last and, for bf16, stores convolution weights in bf16. torch runs the model on
CUDA, and on a CPU only where ONNX Runtime cannot (``core.predict.onnx_model`` runs the model's int8
ONNX file there: ``core.models.onnx_export``).
"""

from __future__ import annotations

import functools
import itertools
import platform

import torch
from torch import nn

from core.cpu import cpu_has_native_bf16
from core.models.resnet import Bottleneck, ResNet50


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True where this CPU multiplies bf16 natively (``core.cpu.cpu_has_native_bf16``) and oneDNN uses it.

    oneDNN also runs bf16 on plain AVX-512 by emulation, which is slower than fp32: only
    native support counts; elsewhere we stay with fp32.
    """
    if platform.machine().lower() not in ("x86_64", "amd64") or not torch.backends.mkldnn.is_available():
        return False
    return cpu_has_native_bf16() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Make ``conv`` compute ``bn(conv(x))`` (eval statistics), in place: no copies of the model."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
    conv.weight.mul_(scale.view(-1, 1, 1, 1).to(conv.weight.dtype))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


def fold_batch_norms(model: nn.Module) -> nn.Module:
    """Fold each eval-mode BatchNorm2d into the Conv2d right before it, in place.

    Only pairs whose order is certain are folded: neighbours in an ``nn.Sequential`` and
    the (convN, bnN) attributes of ResNet-50 and its blocks. Saves one pass over
    every feature map; the result differs from the unfolded model by rounding only. The
    model must not be trained afterwards (the batch norms become identities).
    """

    def foldable(conv, bn):
        return type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d and bn.track_running_stats and bn.affine

    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in itertools.pairwise(names):
                if foldable(module._modules[a], module._modules[b]):
                    _fold(module._modules[a], module._modules[b])
                    module._modules[b] = nn.Identity()
        elif isinstance(module, (ResNet50, Bottleneck)):
            for i in range(1, 4):
                conv, bn = getattr(module, f"conv{i}", None), getattr(module, f"bn{i}", None)
                if foldable(conv, bn):
                    _fold(conv, bn)
                    setattr(module, f"bn{i}", nn.Identity())
    return model


def prepare_for_inference(model: nn.Module, precision: str) -> nn.Module:
    """Fold batch norms, go channels_last and, for bf16, store conv weights in bf16."""
    model = fold_batch_norms(model.eval()).to(memory_format=torch.channels_last)
    if precision == "bf16":
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.to(torch.bfloat16)  # autocast leaves bf16 weights as they are: no cast per batch
    return model
