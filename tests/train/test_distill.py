"""core.train.distill: ``digitsum train --distill MODEL`` pulls a run towards what that model reads right."""

from __future__ import annotations

import pytest
import torch
from helpers.clitools import RESNET_TINY, events, sha256

from core.models.checkpoint import load_model
from core.train.distill import Teacher
from core.train.script import run_cli as train_cli


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Small batches: one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def teacher_and_batch(digits_model):
    """The shipped model as a teacher, four images, and its own readings of them as labels."""
    model, info = load_model(digits_model)
    teacher = Teacher(model, info, "fp32")
    x = torch.rand(4, 1, 40, 168, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        sum_log_probs, digit_logits = model(x)
    return teacher, x, digit_logits, sum_log_probs.argmax(1), digit_logits.argmax(-1)


def test_a_student_that_reads_as_the_teacher_has_nothing_to_learn(teacher_and_batch):
    teacher, x, digit_logits, sums, digits = teacher_and_batch
    assert teacher.loss(x, digit_logits, sums, digits).item() == pytest.approx(0.0, abs=1e-5)
    other = digit_logits.flip(-1).requires_grad_()  # every digit's distribution reversed
    loss = teacher.loss(x, other, sums, digits)
    assert loss.item() > 0.1
    loss.backward()
    assert other.grad.abs().sum() > 0


def test_rows_the_teacher_reads_wrong_teach_nothing(teacher_and_batch):
    teacher, x, digit_logits, sums, digits = teacher_and_batch
    other = digit_logits.flip(-1).requires_grad_()
    wrong_sums = (sums + 1) % 37
    loss = teacher.loss(x, other, wrong_sums, digits)
    assert loss.item() == 0.0
    loss.backward()
    assert other.grad.abs().sum() == 0  # and the graph stands: backward works on every rank alike
    # one known digit wrong spoils the row; an unknown digit (-1) does not
    wrong_digit, unknown = digits.clone(), digits.clone()
    wrong_digit[1:, 0] = (digits[1:, 0] + 1) % 10  # rows 1-3 wrong, row 0 right
    unknown[1:, 0] = -1  # rows 1-3 with one digit unknown, all four rows right
    only_row0 = teacher.loss(x[:1], other[:1].detach(), sums[:1], digits[:1]).item()
    assert teacher.loss(x, other.detach(), sums, wrong_digit).item() == pytest.approx(only_row0, rel=1e-5)
    all_rows = teacher.loss(x, other.detach(), sums, digits).item()
    assert teacher.loss(x, other.detach(), sums, unknown).item() == pytest.approx(all_rows, rel=1e-5)


@pytest.mark.parametrize(
    "init, digit_split",
    [(True, "writer, from an --init that was not"), (False, "writer, from a --distill model that was not")],
)
def test_distill_trains_and_reads_the_teacher_only(init, digit_split, digits_model, capsys, tmp_path):
    before = sha256(digits_model)
    init_args = ["--init", str(digits_model)] if init else []
    status = train_cli([*RESNET_TINY, *init_args, "--distill", str(digits_model), "--distill-weight", "0.5",
                        "--out", str(tmp_path / "run")])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    evs = events(out)
    assert evs[-1]["event"] == "done" and sha256(digits_model) == before
    _, info = load_model(tmp_path / "run" / "best.safetensors")
    assert "--distill" in info.meta["command"]
    # the shipped model learned from every training writer: as a teacher too, it has seen the
    # validation writers, and the model file says which of the two models had
    named = "--distill digits.safetensors was"
    if init:
        named = "--init digits.safetensors and --distill digits.safetensors were"
    assert f"note: {named} not trained with digits split by writer" in err
    assert err.count("not trained with digits split by writer") == 1  # said once, naming both
    assert info.meta["digit_split"] == digit_split


def test_a_teacher_that_reads_no_digits_is_refused_in_one_line(baseline_model, digits_model, capsys, tmp_path):
    status = train_cli([*RESNET_TINY, "--distill", str(baseline_model), "--out", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert "--distill baseline.safetensors is a baseline/sum model; it must read digits" in err
    status = train_cli([*RESNET_TINY, "--head", "sum", "--distill", str(digits_model), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert status == 1 and "--distill teaches digit distributions; a resnet50/sum model has none" in err
    status = train_cli([*RESNET_TINY, "--distill", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1 and err.startswith("digitsum train: error: --distill: ")
    with pytest.raises(SystemExit):  # a weight of 0 would run the teacher for nothing
        train_cli([*RESNET_TINY, "--distill", str(digits_model), "--distill-weight", "0"])
    assert "--distill-weight: must be a finite number > 0" in capsys.readouterr().err
