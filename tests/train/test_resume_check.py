"""core.train.resume_check: a damaged checkpoint given to ``--resume`` is one line, never a traceback.

Real checkpoints of a real 1-epoch run, damaged entry by entry, and hypothesis fuzzing of their contents.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.clitools import run_cli, sha256
from helpers.model_files import FUZZ, JSON
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models.checkpoint import ModelFileError


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A real 1-epoch baseline run (its checkpoint.pt is what the damaged ones are made from)."""
    from core.train.script import run_cli as train

    out = tmp_path_factory.mktemp("resume") / "run"
    assert (
        train(
            [
                "--data",
                "synthetic:32",
                "--arch",
                "baseline",
                "--head",
                "sum",
                "--epochs",
                "1",
                "--batch-size",
                "16",
                "--val-size",
                "16",
                "--device",
                "cpu",
                "--out",
                str(out),
                "--progress",
                "json",
            ]
        )
        == 0
    )
    return out


def _damaged(checkpoint: dict, path: tuple, value) -> dict:
    """``checkpoint`` with the entry at ``path`` set to ``value`` (``_DELETE``: removed); the
    mappings along the path are copied, the rest shared (the original is left as it was)."""
    out = node = dict(checkpoint)
    for key in path[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()


@pytest.mark.hardening("issue 14, class 6")
def test_class6_resume_of_a_damaged_checkpoint_is_one_line(finished_run, tmp_path, capsys):
    import shutil

    from core.models.checkpoint import load_checkpoint
    from core.train.script import run_cli as train

    good = load_checkpoint(finished_run / "checkpoint.pt")
    cases = {
        "a list": ([1, 2], "not a training checkpoint (a list, not a mapping)"),
        "no optimizer": (_damaged(good, ("optimizer",), _DELETE), "not a training checkpoint (no optimizer)"),
        "args a list": (_damaged(good, ("args",), []), "args: expected a mapping, got a list"),
        "lr -1": (_damaged(good, ("args", "lr"), -1.0), "args.lr: must be a finite number > 0, got '-1.0'"),
        "arch vgg": (_damaged(good, ("args", "arch"), "vgg"), "args.arch: not a value of --arch: 'vgg'"),
        "data synthetic:-5": (_damaged(good, ("args", "data"), ["synthetic:-5"]), "args.data: synthetic:N needs N"),
        "epoch text": (_damaged(good, ("epoch",), "1"), "epoch: expected a whole number >= 0, got 1"),
        "wrong shape": (
            _damaged(good, ("model", "head.4.weight"), torch.zeros(3, 3)),
            "model: head.4.weight is (3, 3) torch.float32, expected (37, 256) torch.float32",
        ),
        "a weight as int": (
            _damaged(good, ("model", "head.4.bias"), torch.zeros(37, dtype=torch.int32)),
            "model: head.4.bias is (37,) torch.int32",
        ),
        "NaN weight": (
            _damaged(good, ("model", "head.4.bias"), torch.full((37,), float("nan"))),
            "model: head.4.bias holds NaN or infinite values",
        ),
        "moment of the wrong shape": (
            _damaged(good, ("optimizer", "state", 0, "exp_avg"), torch.zeros(2)),
            "optimizer: exp_avg of parameter 0 does not fit its shape",
        ),
        "one parameter group": (
            _damaged(good, ("optimizer", "param_groups"), good["optimizer"]["param_groups"][:1]),
            "optimizer: not the state of core.train.script's optimizer",
        ),
        "scheduler text": (_damaged(good, ("scheduler", "last_epoch"), "x"), "scheduler: not the state of"),
        "rng cut": (_damaged(good, ("rng", "torch"), good["rng"]["torch"][:10]), "rng: the saved random states cannot"),
        "rng numpy text": (_damaged(good, ("rng", "numpy"), "[1, 2"), "rng: the saved random states cannot"),
    }
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for what, (content, reason) in cases.items():
        torch.save(content, run / "checkpoint.pt")
        before = sha256(run / "checkpoint.pt")
        status = train(["--resume", str(run), "--epochs", "2", "--progress", "json"])
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert status == 1 and len(lines) == 1, (what, err)
        assert lines[0].startswith(f"digitsum train: error: --resume {run}: checkpoint.pt: "), (what, lines[0])
        assert reason in lines[0], (what, lines[0])
        assert sha256(run / "checkpoint.pt") == before
    # an empty file and a cut one, as a real process: str(EOFError()) is empty, and that was an IndexError
    for what, data in {"empty": b"", "cut": (finished_run / "checkpoint.pt").read_bytes()[:3000]}.items():
        (run / "checkpoint.pt").write_bytes(data)
        proc = run_cli("train", "--resume", run, "--epochs", "2")
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in proc.stderr, (what, proc.stderr)
        assert lines[0].startswith("digitsum train: error: checkpoint.pt: not a usable training checkpoint ("), lines[0]


TENSOR = st.builds(
    lambda shape, dtype: torch.zeros(shape, dtype=dtype),
    st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([torch.float32, torch.int64, torch.bool]),
)


@pytest.fixture(scope="module")
def good_checkpoint(finished_run) -> dict:
    from core.models.checkpoint import load_checkpoint

    return load_checkpoint(finished_run / "checkpoint.pt")


@pytest.mark.hardening("issue 14, class 6")
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_class6_fuzzed_checkpoint_contents_give_only_one_line_errors(tmp_path, good_checkpoint, data):
    """A real run's checkpoint with any one entry (at any depth) replaced, deleted or added, or a random value."""
    from core.models.checkpoint import load_checkpoint
    from core.train.resume_check import check_checkpoint
    from core.train.script import get_args_parser

    good = good_checkpoint
    value = st.one_of(JSON, TENSOR, st.lists(TENSOR, max_size=2))
    if data.draw(st.booleans()):
        path, node = [], good
        while isinstance(node, dict) and node and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(sorted(node, key=str)))
            path.append(key)
            node = node[key]
        content = (
            _damaged(good, tuple(path), data.draw(st.one_of(value, st.just(_DELETE)))) if path else data.draw(value)
        )
    else:
        content = data.draw(value)
    torch.save(content, tmp_path / "checkpoint.pt")
    try:
        check_checkpoint(
            load_checkpoint(tmp_path / "checkpoint.pt"),
            get_args_parser(),
            ("resume", "progress", "device", "threads", "precision", "compile"),
        )
    except ModelFileError as exc:
        assert "\n" not in str(exc) and str(exc), repr(exc)
