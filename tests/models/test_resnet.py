"""core.models.resnet is torchvision's ResNet-50: same names, same fresh weights per seed, same outputs.

And the point of having it: predicting never imports torchvision.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from helpers.clitools import python_json

from core.models.resnet import ResNet50


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Two ResNet-50s on small inputs: one torch thread (see conftest)."""


@pytest.mark.parametrize("zero_init_residual", [True, False])
def test_a_seed_gives_torchvisions_fresh_weights(zero_init_residual):
    torch.manual_seed(7)
    ours = ResNet50(zero_init_residual=zero_init_residual).state_dict()
    torch.manual_seed(7)
    theirs = torchvision.models.resnet50(zero_init_residual=zero_init_residual).state_dict()
    assert list(ours) == list(theirs)  # names and order: state dicts move both ways
    for name, tensor in theirs.items():
        assert ours[name].shape == tensor.shape, name
        assert torch.equal(ours[name], tensor), name


@pytest.mark.parametrize("train", [False, True])
def test_same_weights_give_torchvisions_outputs(train):
    theirs = torchvision.models.resnet50()
    with torch.no_grad():  # batch norm statistics away from 0/1 so that every layer counts
        for m in theirs.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    ours = ResNet50()
    ours.load_state_dict(theirs.state_dict())
    ours.train(train), theirs.train(train)
    x = torch.randn(3, 3, 40, 168, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, want = ours(x), theirs(x)
    assert got.shape == (3, 1000)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    if train:  # training mode also moves the running statistics alike
        torch.testing.assert_close(ours.layer4[2].bn3.running_mean, theirs.layer4[2].bn3.running_mean, rtol=0, atol=0)


def test_predicting_does_not_import_torchvision(tmp_path):
    """`digitsum predict` with the default model leaves torchvision and torch._dynamo unloaded (1.3 s of start-up)."""
    from core.synth.bank import load_bank
    from core.synth.folder import write_synthetic_folder

    folder = write_synthetic_folder(tmp_path / "in", 6, load_bank(), seed=5)
    code = (
        "import json, sys\n"
        "from core.cli.main import main\n"
        f"rc = main(['predict', {str(folder)!r}, '--output', {str(tmp_path / 'out.csv')!r}])\n"
        "print(json.dumps([rc, sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'\n"
        "                                or m.startswith('torch._dynamo'))]))\n"
    )
    rc, loaded = python_json(code)
    assert rc == 0 and loaded == []
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 1 + 6
