"""What a fine-tune keeps of the model it starts from.

``--freeze-bn`` keeps every batch-norm layer's statistics; ``--frozen-stages N`` keeps the stem and the
first N of ResNet-50's four stages whole, weights and statistics:

    freeze_stages(model, args.frozen_stages)   # once, before the optimizer and DDP see the model
    set_training_mode(model, args)             # at the start of every epoch, instead of model.train()
"""

from __future__ import annotations

import torch

from core.errors import TrainingError
from core.models.resnet import LAYERS

STEM_MODULES = 4  # ResNet-50's conv1, bn1, relu, maxpool, before layer1


def resnet_stages(model: torch.nn.Module) -> list[torch.nn.Module]:
    """ResNet-50's stem and its four stages, in order, of a ``resnet50`` model of either head.

    Raises
    ------
    core.errors.TrainingError
        ``model`` is not a ResNet-50 (the baseline CNN has no stages).
    """
    if model.arch != "resnet50":
        raise TrainingError("--frozen-stages is for the resnet50 models; the baseline CNN has no stages")
    # the digits head reads the trunk's feature map (backbone: the trunk less avgpool and fc); the sum head
    # is the whole trunk, fc and all
    trunk = model.backbone if model.head_kind == "digits" else model.head
    children = list(trunk.children())
    return [torch.nn.Sequential(*children[:STEM_MODULES]), *children[STEM_MODULES : STEM_MODULES + len(LAYERS)]]


def frozen_modules(model: torch.nn.Module, stages: int) -> list[torch.nn.Module]:
    """The modules ``--frozen-stages stages`` keeps: none for 0, else the stem and the first ``stages``."""
    return resnet_stages(model)[: stages + 1] if stages else []


def freeze_stages(model: torch.nn.Module, stages: int) -> None:
    """``--frozen-stages``: the stem's and the first ``stages`` stages' weights stop learning.

    The features they compute stay those of the model the run starts from, and what later stages
    learned to read from them stays meaningful; a step also skips their backward pass (1.45x the
    images per second with two stages frozen, on a 2-core CPU in fp32).
    """
    for module in frozen_modules(model, stages):
        module.requires_grad_(False)


def set_training_mode(model: torch.nn.Module, args) -> None:
    """``model.train()``, but the batch-norm layers that keep their statistics normalise with them, in eval mode:
    all of them with ``--freeze-bn``, those of the frozen stages with ``--frozen-stages``.

    A fine-tune's small batches of a new mixture of layouts would otherwise pull the running statistics
    towards that mixture, and the images the model already read well are then normalised otherwise.
    """
    model.train()
    keep = [model] if args.freeze_bn else frozen_modules(model, args.frozen_stages)
    for part in keep:
        for module in part.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
