"""ResNet-50 (v1.5), laid out exactly as torchvision's ``resnet50`` so the weights are interchangeable.

Why our own: importing torchvision costs ~1.3 s of CPU on every start (its ``ops`` import
``torch._dynamo``), a quarter of ``digitsum predict`` on 1,000 files on a laptop-class CPU.
Prediction never needs anything else from torchvision; training imports it only for the
ImageNet weights (``--pretrained``). Module names, parameter order, forward pass and
initialisation (including the order of random draws) match torchvision 0.29, so a state dict
moves between the two and a seed gives the same fresh weights: ``tests/models/test_resnet.py``
checks both against torchvision itself.
"""

from __future__ import annotations

import torch
from torch import nn

LAYERS = (3, 4, 6, 3)  # bottleneck blocks per stage
EXPANSION = 4  # a bottleneck's output channels over its width


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride: v1.5), 1x1 expand, plus the shortcut; then ReLU."""

    def __init__(self, inplanes: int, width: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * EXPANSION, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * EXPANSION)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class ResNet50(nn.Module):
    """The ImageNet ResNet-50: stem, four stages, global average pool, ``fc``.

    Children in torchvision's order (conv1, bn1, relu, maxpool, layer1-4, avgpool, fc):
    ``list(model.children())[:-2]`` is the convolutional trunk.
    """

    def __init__(self, num_classes: int = 1000, zero_init_residual: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = 64
        for i, (width, blocks) in enumerate(zip((64, 128, 256, 512), LAYERS, strict=True)):
            stride = 1 if i == 0 else 2
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, width * EXPANSION, 1, stride=stride, bias=False),
                nn.BatchNorm2d(width * EXPANSION),
            )  # every first block changes the channel count, so it always has a projection
            stage = [Bottleneck(inplanes, width, stride, downsample)]
            inplanes = width * EXPANSION
            stage += [Bottleneck(inplanes, width) for _ in range(1, blocks)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * EXPANSION, num_classes)

        if self.fc.weight.is_meta:
            return  # shapes only, values to come from a file; and normal_ on meta would import torch._dynamo
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:  # each block starts as the identity: steadier from scratch
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
