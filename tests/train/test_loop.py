"""core.train.loop: ``digitsum train --freeze-bn`` keeps the batch-norm statistics it started from."""

from __future__ import annotations

import pytest
import torch
from helpers.clitools import RESNET_TINY, events
from safetensors.torch import load_file

from core.train.script import run_cli as train_cli

LR = ["--lr", "1e-3"]  # two steps of 8 images: a rate that moves the weights past fp16 rounding


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Small batches: one torch thread (see conftest)."""


def batch_norm_statistics(path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(path)).items() if k.endswith(("running_mean", "running_var"))}


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_bn_trains_the_weights_and_keeps_the_statistics(freeze, digits_model, capsys, tmp_path):
    status = train_cli([*RESNET_TINY, *LR, "--init", str(digits_model), *(["--freeze-bn"] if freeze else []),
                        "--out", str(tmp_path / "run")])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    assert events(out)[-1]["event"] == "done"
    start, tuned = load_file(str(digits_model)), load_file(str(tmp_path / "run" / "best.safetensors"))
    assert not torch.equal(start["backbone.4.0.conv1.weight"], tuned["backbone.4.0.conv1.weight"])  # it trained
    before, after = batch_norm_statistics(digits_model), batch_norm_statistics(tmp_path / "run" / "best.safetensors")
    assert len(before) > 100 and before.keys() == after.keys()
    unchanged = [k for k in before if torch.equal(before[k], after[k])]
    # frozen: every statistic as it was; not frozen: the 16 images moved every one of them
    assert len(unchanged) == (len(before) if freeze else 0)


def test_freeze_bn_needs_statistics_to_keep(capsys, tmp_path):
    status = train_cli([*RESNET_TINY, *LR, "--freeze-bn", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert "--freeze-bn keeps the batch-norm statistics of --init or --pretrained" in err
