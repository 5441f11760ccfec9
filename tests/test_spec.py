"""core.spec is the one list of models: what builds, trains and shows in Retrain agrees with it."""

from __future__ import annotations

import dataclasses

import pytest

from core import spec
from core.models.networks import ModelBuildError, build_model
from core.train.args import get_args_parser
from core.train.run_setup import resolve_recipe


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
    parser = get_args_parser()
    arch = next(a for a in parser._actions if a.dest == "arch")
    assert tuple(arch.choices) == spec.ARCHS and arch.default == spec.ARCHS[0]
    for (arch, head), model in spec.MODELS.items():  # each trains with its own recipe unless a flag says otherwise
        args = resolve_recipe(parser.parse_args(["--arch", arch, "--head", head]))
        run_settings = {f.name for f in dataclasses.fields(spec.Recipe)} - {"fine_tune_lr"}  # (not a run's setting)
        assert {name: getattr(args, name) for name in run_settings} == {
            name: getattr(model.recipe, name) for name in run_settings
        }
        assert resolve_recipe(parser.parse_args(["--arch", arch, "--head", head, "--lr", "0.25"])).lr == 0.25
        # from a model that works (--init): the fine-tuning recipe, as the Retrain dialog's (a given flag still wins)
        tuned = resolve_recipe(parser.parse_args(["--arch", arch, "--head", head, "--init", "m.safetensors"]))
        assert (tuned.lr, tuned.epochs) == (
            model.recipe.fine_tune_lr or model.recipe.lr / 10,
            min(3, model.recipe.epochs),
        )
        assert tuned.batch_size == model.recipe.batch_size
        given = ["--arch", arch, "--head", head, "--init", "m.safetensors", "--lr", "0.25", "--epochs", "9"]
        chosen = resolve_recipe(parser.parse_args(given))
        assert (chosen.lr, chosen.epochs) == (0.25, 9)
    assert resolve_recipe(parser.parse_args(["--arch", "baseline"])).head == "sum"  # its first head


def test_a_new_models_recipe_shows_in_the_help(monkeypatch):
    recipe = spec.Recipe(lr=0.125, batch_size=48, epochs=7, weight_decay=0.0, optimizer="adam", schedule="constant")
    entry = spec.ModelSpec(
        arch="tiny", head="sum", summary="", cpu_seconds_per_image=0.001, builder="tiny_net:build", recipe=recipe
    )
    monkeypatch.setitem(spec.MODELS, ("tiny", "sum"), entry)
    helps = {action.dest: action.help for action in get_args_parser()._actions}
    assert "0.125 for tiny/sum" in helps["lr"]
    assert "7 for tiny/sum" in helps["epochs"] and "48 for tiny/sum" in helps["batch_size"]
    assert "0 for resnet50/sum and baseline/sum and tiny/sum" in helps["weight_decay"]


def test_a_recipe_names_a_known_optimizer_and_schedule():
    with pytest.raises(ValueError, match="optimizer"):
        spec.Recipe(lr=1e-3, batch_size=8, epochs=1, weight_decay=0.0, optimizer="sgd", schedule="constant")
    fine = spec.MODELS["resnet50", "digits"].recipe.for_fine_tuning()
    assert (fine.lr, fine.epochs, fine.batch_size) == (5e-5, 3, 128)  # its own fine-tunes' rate
    assert spec.MODELS["baseline", "sum"].recipe.for_fine_tuning().lr == pytest.approx(1e-4)  # a tenth


def test_the_default_head_comes_first():
    assert spec.heads_of("resnet50") == ("digits", "sum") and spec.heads_of("baseline") == ("sum",)
    assert spec.heads_of("unknown") == ()
    assert spec.MAX_SUM == 36 and spec.NUM_SUMS == 37


def test_a_new_architecture_is_one_entry_and_its_module(tmp_path, monkeypatch):
    # What adding a network takes (docs/ARCHITECTURE.md): its module, holding the builder,
    # and one ModelSpec naming it. Built, saved and loaded back with no other change.
    import torch

    from core.models.checkpoint import load_model, save_model

    (tmp_path / "tiny_net.py").write_text(
        "from torch import nn\n"
        "from core.models.networks import DigitSumNet, Normalize, MNIST_MEAN, MNIST_STD\n"
        "def build(pretrained):\n"
        "    body = nn.Sequential(nn.Conv2d(1, 4, 3, stride=4), nn.ReLU(), nn.Flatten())\n"
        "    head = nn.Linear(4 * 10 * 42, 37)\n"
        "    return DigitSumNet('tiny', 'sum', body, head, Normalize(MNIST_MEAN, MNIST_STD, 1))\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    recipe = spec.Recipe(lr=1e-3, batch_size=8, epochs=1, weight_decay=0.0, optimizer="adam", schedule="constant")
    entry = spec.ModelSpec(
        arch="tiny",
        head="sum",
        summary="a test's network",
        cpu_seconds_per_image=0.001,
        builder="tiny_net:build",
        recipe=recipe,
    )
    monkeypatch.setitem(spec.MODELS, ("tiny", "sum"), entry)
    model = build_model("tiny", "sum")
    sum_log_probs, digit_logits = model(torch.rand(2, 1, 40, 168))
    assert sum_log_probs.shape == (2, 37) and digit_logits is None
    save_model(tmp_path / "tiny.safetensors", model, {})
    loaded, info = load_model(tmp_path / "tiny.safetensors", "cpu")
    assert (info.arch, info.head) == ("tiny", "sum")
    torch.testing.assert_close(loaded(torch.ones(1, 1, 40, 168))[0], model.eval()(torch.ones(1, 1, 40, 168))[0])
    with pytest.raises(ModelBuildError, match="only the 'sum' head"):
        build_model("tiny", "digits")
    # an entry naming a builder that is not there, or one that builds another model: one line each
    absent = dataclasses.replace(entry, builder="tiny_net:absent")
    monkeypatch.setitem(spec.MODELS, ("tiny", "sum"), absent)
    with pytest.raises(ModelBuildError, match="cannot find its builder tiny_net:absent"):
        build_model("tiny", "sum")
    monkeypatch.setitem(spec.MODELS, ("baseline", "sum"), entry)
    with pytest.raises(ModelBuildError, match="built tiny/sum, not baseline/sum"):
        build_model("baseline", "sum")
