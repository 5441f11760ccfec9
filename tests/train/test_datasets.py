"""Training data: the validation parts a run is scored on."""

import torch

from core.synth.bank import load_bank
from core.synth.composer import Composer, gaussian_blur, quantise_like_png
from core.train.datasets import VAL_STREAM_OFFSET, TrainData, split_bank


def test_the_blurred_validation_part_is_ours_layout_blurred_by_the_robustness_checks_blur():
    """--val-blurred: a further equal share, composed as the synth part is, then blurred and
    quantised as a blurred PNG would be; without it the parts are as they were."""
    data = TrainData(["synthetic:8"], None, "cpu", seed=0, val_synthetic=40, val_blurred=True)
    plain = TrainData(["synthetic:8"], None, "cpu", seed=0, val_synthetic=20)
    assert data.val_groups == ["synth", "blurred"] and plain.val_groups == ["synth"]
    _, val_bank = split_bank(load_bank())
    g = torch.Generator().manual_seed(0 + VAL_STREAM_OFFSET)  # the validation stream of a run of seed 0
    composer = Composer(val_bank, "cpu", layout="synth")
    synth, then = composer.compose(20, g)[0], composer.compose(20, g)[0]
    blurred = quantise_like_png(gaussian_blur(then))
    groups = data.val.groups
    assert torch.equal(data.val.images[groups == 0], synth) and torch.equal(plain.val.images, synth)
    assert torch.equal(data.val.images[groups == 1], blurred)
    # blurred: edges softer than the same images sharp
    assert blurred.diff(dim=-1).abs().mean() < 0.8 * then.diff(dim=-1).abs().mean()
