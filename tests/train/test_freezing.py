"""core.train.freezing: ``digitsum train --freeze-bn`` and ``--frozen-stages`` keep what the run started from."""

from __future__ import annotations

import pytest
import torch
from helpers.clitools import RESNET_TINY, events
from safetensors.torch import load_file

from core.errors import TrainingError
from core.models.networks import build_model
from core.train.freezing import resnet_stages
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


def test_frozen_stages_keep_the_stem_and_first_stages_whole(digits_model, capsys, tmp_path):
    status = train_cli([*RESNET_TINY, *LR, "--init", str(digits_model), "--frozen-stages", "2",
                        "--out", str(tmp_path / "run")])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    start, tuned = load_file(str(digits_model)), load_file(str(tmp_path / "run" / "best.safetensors"))
    # backbone.0-3: the stem; .4, .5: layer1, layer2 (kept, statistics too); .6, .7: layer3, layer4; then the head
    kept = [k for k in start if k.startswith(("backbone.0.", "backbone.1.", "backbone.4.", "backbone.5."))]
    learned = [k for k in start if k.startswith(("backbone.6.", "backbone.7.", "head.")) and k.endswith("weight")]
    assert len(kept) > 100 and len(learned) > 50
    assert all(torch.equal(start[k], tuned[k]) for k in kept)
    assert not any(torch.equal(start[k], tuned[k]) for k in learned if k.endswith("conv2.weight"))


@pytest.mark.parametrize("flag", [["--freeze-bn"], ["--frozen-stages", "1"]])
def test_keeping_needs_a_model_to_keep(flag, capsys, tmp_path):
    status = train_cli([*RESNET_TINY, *LR, *flag, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert f"{flag[0]} keeps what --init or --pretrained learned; give one of them" in err


def test_stages_of_each_model():
    for head in ("digits", "sum"):
        stem, *stages = resnet_stages(build_model("resnet50", head))
        assert [type(m).__name__ for m in stem] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
        assert [len(s) for s in stages] == [3, 4, 6, 3]  # bottleneck blocks per stage
    with pytest.raises(TrainingError, match="--frozen-stages is for the resnet50 models"):
        resnet_stages(build_model("baseline", "sum"))
