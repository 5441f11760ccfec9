"""core.models.metadata (and the tensor dtypes ``load_model`` accepts): hostile metadata is one line.

Real model files edited as a hostile or damaged file would be, and hypothesis fuzzing of the
digitsum metadata over the real baseline weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers.clitools import SAMPLES
from helpers.clitools import cli_in_process as cli
from helpers.model_files import FUZZ, JSON, rewritten
from helpers.model_files import only_one_line_model_errors as _only_one_line_model_errors
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from core.models.checkpoint import ModelFileError, load_model


def one_line_refusal(capsys, path, tmp_path) -> str:
    """``load_model`` and ``read_model_info`` refuse ``path`` with one line; so does ``predict`` (exit 1)."""
    from core.models.checkpoint import read_model_info

    for loader in (read_model_info, load_model):
        try:
            loader(path)
        except ModelFileError as exc:
            assert "\n" not in str(exc) and path.name in str(exc), str(exc)
        else:
            if loader is load_model:
                raise AssertionError(f"{path.name} was loaded")
    status, out, err = cli(capsys, "predict", SAMPLES, "--model", path, "--output", tmp_path / "o.csv")
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("digitsum predict: error: "), err
    assert not (tmp_path / "o.csv").exists()
    return lines[0]


def with_metadata(source: Path, dest: Path, change) -> Path:
    """``source`` with its digitsum metadata replaced by ``change(metadata dict)`` (a str: the raw text)."""
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as f:
        meta = json.loads(f.metadata()["digitsum"])
    raw = change(meta)
    text = raw if isinstance(raw, str) else json.dumps(raw)
    save_file(load_file(str(source)), str(dest), metadata={"digitsum": text})
    return dest


@pytest.mark.hardening("issue 14, class 6")
def test_class6_hostile_metadata_and_tensor_dtypes_are_one_line(tmp_path, baseline_model, digits_model, capsys):
    deep = "[" * 100_000 + "]" * 100_000
    metadata = {
        "100,000 deep": (lambda m: deep, "unreadable digitsum metadata (not JSON)"),
        "40 deep": (lambda m: {**m, "extra": json.loads("[" * 40 + "]" * 40)}, "nested more than 32 deep"),
        "a list": (lambda m: [m], "unreadable digitsum metadata (a list, not a mapping)"),
        "metrics a string": (lambda m: {**m, "metrics": "great"}, "metadata field metrics must be a mapping"),
        "val_acc a string": (lambda m: {**m, "metrics": {"val_acc": "high"}}, "metrics.val_acc must be a finite"),
        "val_acc NaN": (lambda m: {**m, "metrics": {"val_acc": float("nan")}}, "metrics.val_acc must be a finite"),
        "arch a list": (lambda m: {**m, "arch": ["baseline"]}, "unknown model: metadata field arch is ['baseline']"),
        "arch 1 MB": (lambda m: {**m, "arch": "x" * 1_000_000}, "unknown model xxxxxxxx"),
        "created a mapping": (lambda m: {**m, "created": {"a": 1}}, "metadata field created must be text"),
        "epochs_trained text": (lambda m: {**m, "epochs_trained": "5"}, "epochs_trained must be a whole number"),
    }
    for what, (change, reason) in metadata.items():
        line = one_line_refusal(capsys, with_metadata(baseline_model, tmp_path / "meta.safetensors", change), tmp_path)
        assert reason in line and len(line) < 300, (what, line[:300])

    dtypes = {"int32": torch.int32, "bool": torch.bool, "float8": torch.float8_e4m3fn, "uint8": torch.uint8}
    for what, dtype in dtypes.items():

        def cast(t, dtype=dtype):
            t["head.4.weight"] = t["head.4.weight"].to(dtype)

        line = one_line_refusal(capsys, rewritten(baseline_model, tmp_path / f"{what}.safetensors", cast), tmp_path)
        assert f"head.4.weight is stored as {str(dtype).removeprefix('torch.')}, not as float16 or " in line, line

    def counter_as_float(t):  # the ResNet's batch counters are integers; a float there is refused too
        t["backbone.1.num_batches_tracked"] = t["backbone.1.num_batches_tracked"].float()

    line = one_line_refusal(
        capsys, rewritten(digits_model, tmp_path / "counter.safetensors", counter_as_float), tmp_path
    )
    assert "backbone.1.num_batches_tracked is stored as float32, not as int64" in line, line


@pytest.fixture(scope="module")
def baseline_tensors(baseline_model) -> dict:
    from safetensors import safe_open

    with safe_open(str(baseline_model), framework="pt") as f:
        meta = json.loads(f.metadata()["digitsum"])
    return {"tensors": load_file(str(baseline_model)), "meta": meta}


@pytest.mark.hardening("issue 14, class 6")
@FUZZ
@given(data=st.data())
def test_class6_fuzzed_digitsum_metadata_gives_only_one_line_errors(tmp_path, baseline_tensors, data):
    """Real weights, metadata of any JSON structure and depth: the fields the readers use replaced at random."""
    meta = dict(baseline_tensors["meta"])
    choice = data.draw(st.sampled_from(["replace field", "replace metrics entry", "whole value", "text"]))
    if choice == "replace field":
        meta[data.draw(st.sampled_from([*meta, "metrics", "extra"]))] = data.draw(JSON)
    elif choice == "replace metrics entry":
        meta["metrics"] = {
            **(meta.get("metrics") or {}),
            data.draw(st.sampled_from(["val_acc", "epoch", "x"])): data.draw(JSON),
        }
    raw = (
        json.dumps(data.draw(JSON))
        if choice == "whole value"
        else data.draw(st.text(max_size=50))
        if choice == "text"
        else json.dumps(meta)
    )
    path = tmp_path / "fuzz.safetensors"
    save_file(baseline_tensors["tensors"], str(path), metadata={"digitsum": raw})
    _only_one_line_model_errors(path)
