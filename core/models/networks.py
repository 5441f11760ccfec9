"""The three networks digitsum ships, built from plain names.

- ``baseline`` + ``sum``: the report's small CNN, 37-way softmax over sums.
- ``resnet50`` + ``sum``: ResNet-50 (torchvision's, see ``core/models/resnet.py``) with the report's 128-d head.
- ``resnet50`` + ``digits``: ResNet-50 reading the four digits (4 x 10 logits); the sum
  distribution is the exact convolution of the four digit distributions.

Every model takes float images in [0, 1] shaped (B, 1, 40, 168) and returns
``(sum_log_probs, digit_logits)``: (B, 37) log-probabilities of the sum and (B, 4, 10)
digit logits, or ``None`` for models that do not read digits. Normalisation lives inside
the model (a buffer), so callers only ever scale uint8 pixels to [0, 1]. Which
architecture has which heads is ``core.spec.MODELS``; the image size and class count are
``core.spec``'s too (torch-free, so modules that only need the facts do not import torch).
"""

from __future__ import annotations

import importlib

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import DigitsumError
from core.models.resnet import ResNet50
from core.spec import ARCHS, HEADS, IMAGE_HEIGHT, IMAGE_WIDTH, MODELS, NUM_DIGITS, NUM_SUMS, heads_of

# MNIST statistics for models trained from scratch; ImageNet's grey mean for pretrained ones
# is applied per channel after the grey image is repeated to three channels.
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ModelBuildError(DigitsumError, ValueError):
    """An architecture/head combination or initialisation that cannot be built."""


def log_sum_distribution(digit_log_probs: torch.Tensor) -> torch.Tensor:
    """Exact log-distribution of the sum of independent digits.

    Parameters
    ----------
    digit_log_probs : Tensor, shape (B, K, 10)
        Log-probabilities of each of the K digits.

    Returns
    -------
    Tensor, shape (B, 9 * K + 1)
        ``log P(sum = s)``, computed by K - 1 convolutions in log space (logsumexp), so
        sums that are almost impossible stay finite instead of underflowing to log(0).
    """
    acc = digit_log_probs[:, 0]  # (B, 10)
    for k in range(1, digit_log_probs.shape[1]):
        nxt = digit_log_probs[:, k]  # (B, 10)
        width = acc.shape[1] + 9
        # pairs[b, i, j] = acc[b, i] + nxt[b, j], placed at column i + j of a (B, len, width) grid
        pairs = acc.new_full((acc.shape[0], acc.shape[1], width), float("-inf"))
        for i in range(acc.shape[1]):
            pairs[:, i, i : i + 10] = acc[:, i : i + 1] + nxt
        acc = torch.logsumexp(pairs, dim=1)  # (B, width)
    return acc


class Normalize(nn.Module):
    """Subtract mean and divide by std per channel, repeating grey to ``channels`` first."""

    def __init__(self, mean, std, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels != x.shape[1]:
            x = x.expand(-1, self.channels, -1, -1)  # (B, C, H, W), no copy
        return (x - self.mean) / self.std


class BaselineCNN(nn.Module):
    """The report's CNN: three 3x3 conv blocks (32, 64, 128), then 256 -> 37."""

    def __init__(self):
        super().__init__()
        layers = []
        for c_in, c_out in ((1, 32), (32, 64), (64, 128)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)  # 40x168 -> 5x21
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 5 * 21, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.7),
            nn.Linear(256, NUM_SUMS),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class DigitsHead(nn.Module):
    """Reads four digits from ResNet's (B, 2048, 2, 6) feature map.

    Global pooling would throw away *where* a digit is; this head keeps the 2 x 6 grid,
    squeezes channels with a 1x1 conv (so the shipped fp16 file stays under 50 MB), and lets
    a small MLP assign features to the four reading positions.
    """

    def __init__(self, in_channels: int = 2048, grid=(2, 6), squeeze: int = 128, hidden: int = 256):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.squeeze = nn.Sequential(
            nn.Conv2d(in_channels, squeeze, 1, bias=False), nn.BatchNorm2d(squeeze), nn.ReLU(inplace=True)
        )
        self.mlp = nn.Sequential(
            nn.Flatten(),
            nn.Linear(squeeze * grid[0] * grid[1], hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Linear(hidden, NUM_DIGITS * 10),
        )

    def forward(self, fmap):
        return self.mlp(self.squeeze(self.pool(fmap))).view(-1, NUM_DIGITS, 10)  # (B, 4, 10)


class DigitSumNet(nn.Module):
    """Normalisation, a backbone and a head, with one output convention for all models."""

    def __init__(self, arch: str, head: str, backbone: nn.Module, head_module: nn.Module, norm: Normalize):
        super().__init__()
        self.arch, self.head_kind = arch, head
        self.norm = norm
        self.backbone = backbone
        self.head = head_module

    def forward(self, x: torch.Tensor):
        feats = self.backbone(self.norm(x))
        if self.head_kind == "digits":
            digit_logits = self.head(feats).float()  # (B, 4, 10); sums in fp32 even under autocast
            return log_sum_distribution(F.log_softmax(digit_logits, dim=-1)), digit_logits
        return F.log_softmax(self.head(feats).float(), dim=-1), None  # (B, 37)


def report_head() -> nn.Module:
    """The report's head on ResNet-50's globally pooled features: 2048 -> 128 -> 37 sums."""
    return nn.Sequential(nn.Linear(2048, 128), nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(128, NUM_SUMS))


def _resnet50_trunk(pretrained: bool) -> nn.Module:
    if not pretrained:
        return ResNet50(zero_init_residual=True)
    import torchvision  # only for its ImageNet weights: its import alone costs ~1.3 s (core/models/resnet.py)

    try:
        state = torchvision.models.ResNet50_Weights.IMAGENET1K_V2.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:  # offline and not cached, or a corrupt download
        raise ModelBuildError(
            f"ImageNet weights for ResNet-50 are not available ({type(exc).__name__}); "
            "train without --pretrained or put them in torch's hub cache"
        ) from None
    trunk = ResNet50()
    trunk.load_state_dict(state)
    return trunk


def build_model(arch: str = "resnet50", head: str = "digits", pretrained: bool = False) -> DigitSumNet:
    """Build a registered network (``core.spec.MODELS``) with fresh (or ImageNet) weights.

    Parameters
    ----------
    arch : str
        ``resnet50`` or ``baseline`` (``core.spec.ARCHS``).
    head : {"digits", "sum"}
        ``baseline`` only has the ``sum`` head (as in the report).
    pretrained : bool
        Start the trunk from ImageNet weights (ResNet-50: torchvision's). Raises
        :class:`ModelBuildError` with a one-line reason when they cannot be had.

    Returns
    -------
    DigitSumNet
    """
    spec = MODELS.get((arch, head))
    if spec is None:
        heads = heads_of(arch)
        if heads:
            raise ModelBuildError(f"the {arch} network has only the {' and '.join(repr(h) for h in heads)} head")
        raise ModelBuildError(f"unknown model {arch}/{head}; choose arch from {ARCHS}, head from {HEADS}")
    module, _, name = spec.builder.partition(":")
    try:
        builder = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:  # a registry entry naming nothing: a mistake of ours
        raise ModelBuildError(f"{arch}/{head}: cannot find its builder {spec.builder} ({exc})") from None
    model = builder(pretrained)
    if (model.arch, model.head_kind) != (arch, head):  # the file would be labelled as another model
        raise ModelBuildError(f"{spec.builder} built {model.arch}/{model.head_kind}, not {arch}/{head}")
    return model


def baseline_sum(pretrained: bool) -> DigitSumNet:
    """The report's small CNN (``baseline``/``sum``)."""
    if pretrained:
        raise ModelBuildError("the baseline CNN has no pretrained weights")
    net = BaselineCNN()
    return DigitSumNet("baseline", "sum", net.features, net.classifier, Normalize(MNIST_MEAN, MNIST_STD, 1))


def resnet50_sum(pretrained: bool) -> DigitSumNet:
    """ResNet-50 with the report's 128-d head on its pooled features (``resnet50``/``sum``)."""
    trunk = _resnet50_trunk(pretrained)
    trunk.fc = report_head()
    return DigitSumNet("resnet50", "sum", nn.Identity(), trunk, _resnet50_normalize(pretrained))


def resnet50_digits(pretrained: bool) -> DigitSumNet:
    """ResNet-50's feature map read by ``DigitsHead`` (``resnet50``/``digits``)."""
    trunk = _resnet50_trunk(pretrained)
    body = nn.Sequential(*(list(trunk.children())[:-2]))  # drop avgpool and fc: (B, 2048, 2, 6)
    return DigitSumNet("resnet50", "digits", body, DigitsHead(), _resnet50_normalize(pretrained))


def _resnet50_normalize(pretrained: bool) -> Normalize:
    mean, std = (IMAGENET_MEAN, IMAGENET_STD) if pretrained else (MNIST_MEAN * 3, MNIST_STD * 3)
    return Normalize(mean, std, 3)


def model_config(model: DigitSumNet) -> dict:
    """The facts needed to rebuild ``model`` (stored in the model file's metadata)."""
    return {
        "arch": model.arch,
        "head": model.head_kind,
        "input_height": IMAGE_HEIGHT,
        "input_width": IMAGE_WIDTH,
        "channels": model.norm.channels,
        "mean": [float(v) for v in model.norm.mean.flatten()],
        "std": [float(v) for v in model.norm.std.flatten()],
        "num_classes": NUM_SUMS,
    }
