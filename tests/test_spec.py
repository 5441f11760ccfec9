"""core.spec is the one list of models: what builds, trains and shows in Retrain agrees with it."""

from __future__ import annotations

import pytest

from core import spec
from core.model import ModelBuildError, build_model
from core.train import RECIPES, get_args_parser


def test_every_registered_model_builds_and_nothing_else_does():
    for arch in spec.ARCHS:
        for head in spec.HEADS:
            if (arch, head) in spec.MODELS:
                model = build_model(arch, head)
                assert (model.arch, model.head_kind) == (arch, head)
            else:
                with pytest.raises(ModelBuildError):
                    build_model(arch, head)


def test_training_knows_exactly_the_registered_models():
    assert RECIPES == {key: m.recipe for key, m in spec.MODELS.items()}
    arch = next(a for a in get_args_parser()._actions if a.dest == "arch")
    assert tuple(arch.choices) == spec.ARCHS and arch.default == spec.ARCHS[0]


def test_the_default_head_comes_first():
    assert spec.heads_of("resnet50") == ("digits", "sum") and spec.heads_of("baseline") == ("sum",)
    assert spec.heads_of("unknown") == ()
    assert spec.MAX_SUM == 36 and spec.NUM_SUMS == 37
