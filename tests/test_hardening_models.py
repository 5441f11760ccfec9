"""Issue 14, classes 5 and 6: a non-finite output is an error, and every malformed model or
checkpoint file gives one line, never a traceback.

Real model files (a seeded baseline CNN, a ResNet-50 digits model) edited as a hostile or
damaged file would be, real ``digitsum`` processes, and hypothesis fuzzing of safetensors
headers, metadata and checkpoint contents.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.clitools import ROOT, read_csv_bytes, run_cli, sha256
from helpers.clitools import cli_in_process as cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from core.inputs.images import read_image
from core.models.checkpoint import ModelFileError, load_model
from core.predict.nonfinite import NON_FINITE_OUTPUT
from core.predict.predictor import Predictor

SAMPLES = ROOT / "resources" / "samples"


def rewritten(source: Path, dest: Path, change) -> Path:
    """``source`` with its tensors passed through ``change(dict)``, metadata kept: a file as a tool would write it."""
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(source))
    change(tensors)
    save_file(tensors, str(dest), metadata=meta)
    return dest


# ================================================================ class 5: non-finite outputs


class NanOnOneBatch(Predictor):
    """A real Predictor whose model gives NaN for the batch holding ``poison`` (as an overflow would)."""

    poison: np.ndarray | None = None

    def classify(self, images):
        probs, digit_probs = super().classify(images)
        if any(np.array_equal(image, self.poison) for image in images):
            probs = np.full_like(probs, np.nan)
        return probs, digit_probs


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_class5_nan_outputs_are_error_rows_and_the_exit_status_says_so(
    command, synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    poisoned = type("NanPredictor", (NanOnOneBatch,), {"poison": read_image(synth_folder / "synth_00009.png")})
    monkeypatch.setattr("core.predict.predictor.Predictor", poisoned)
    out = tmp_path / "p.csv"
    run = ["--model", baseline_model, "--batch-size", "8", "--device", "cpu", "-q"]
    if command == "predict":
        status, stdout, stderr = cli(capsys, "predict", synth_folder, *run, "--output", out)
    else:
        status, stdout, stderr = cli(capsys, "evaluate", synth_folder, "--labels", synth_folder / "labels.csv", *run)
    lines = stderr.strip().splitlines()
    assert status == 1 and "Traceback" not in stderr
    assert lines[-1] == (
        "digitsum " + command + ": error: the model gave NaN or infinite outputs for 8 of 40 inputs "
        "(error rows in the CSV); is the model file damaged?"
    )
    if command == "predict":
        assert lines[-2].startswith("40 inputs: 32 predicted, 0 unreadable, 8 without a number (NaN model output)")
        _, rows = read_csv_bytes(out.read_bytes())
        bad = [r for r in rows if r["error"]]
        assert [r["file"] for r in bad] == [f"synth_{i:05d}.png" for i in range(8, 16)]
        assert all(r["error"] == NON_FINITE_OUTPUT and r["predicted_sum"] == r["confidence"] == "" for r in bad)
        assert ",nan," not in out.read_text(encoding="utf-8-sig").lower()  # no NaN in a number column


def test_class5_weights_that_make_the_network_non_finite_are_refused_at_load(
    tmp_path, baseline_model, digits_model, capsys
):
    def negative_variance(t):
        t["backbone.1.running_var"] = -t["backbone.1.running_var"]

    def overflowing(t):  # finite weights whose products overflow float32
        t["head.4.weight"] = torch.full_like(t["head.4.weight"], 3e38)

    cases = {
        "negative variance": (
            rewritten(digits_model, tmp_path / "negvar.safetensors", negative_variance),
            "backbone.1.running_var holds negative batch-norm variances: the network would give NaN",
        ),
        "overflow": (
            rewritten(baseline_model, tmp_path / "overflow.safetensors", overflowing),
            "the network gives NaN or infinite outputs with these weights",
        ),
    }
    for what, (path, reason) in cases.items():
        with pytest.raises(ModelFileError, match=reason):
            load_model(path)
        status, out, err = cli(capsys, "predict", SAMPLES, "--model", path, "--output", tmp_path / "o.csv")
        assert status == 1 and err.strip() == f"digitsum predict: error: {path.name}: {reason}", (what, err)
        assert not (tmp_path / "o.csv").exists()
    # a real process, and --init (only read, never written)
    path = cases["overflow"][0]
    before = sha256(path)
    proc = run_cli(
        "train",
        "--data",
        "synthetic:16",
        "--arch",
        "baseline",
        "--init",
        path,
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        tmp_path / "run",
    )
    assert (
        proc.returncode == 1
        and proc.stderr.strip()
        == f"digitsum train: error: {path.name}: the network gives NaN or infinite outputs with these weights"
    )
    assert sha256(path) == before and not (tmp_path / "run" / "best.safetensors").exists()


# ================================================================ class 6: malformed model and checkpoint files


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


def test_class6_a_damaged_onnx_file_is_never_used_and_is_made_again(baseline_model, tmp_path):
    from core.inputs.listing import list_inputs
    from core.predict.onnx_model import OnnxModel, file_sha256, onnx_path
    from core.predict.predictor import Predictor

    model = tmp_path / "m.safetensors"
    model.write_bytes(baseline_model.read_bytes())
    beside = onnx_path(model)
    damaged = {
        "empty": b"",
        "text": b"not an onnx file",
        "a model file": baseline_model.read_bytes(),
        "truncated": None,  # the first half of a good one
    }
    for what, data in damaged.items():
        if data is None:
            data = beside.read_bytes()[: beside.stat().st_size // 2]
        beside.write_bytes(data)
        if what == "truncated":  # once as a user meets it, in a process of its own
            proc = run_cli("predict", SAMPLES, "--model", model, "--device", "cpu", "-q")
            assert proc.returncode == 0, (what, proc.stderr)
            _, rows = read_csv_bytes(proc.stdout.encode("utf-8"))
            assert len(rows) == 24 and all(r["predicted_sum"].isdigit() for r in rows), what
        else:  # the same code path in this process: a child's torch import costs ~5 s a case
            predictor = Predictor(model, device="cpu")
            assert predictor.precision == "int8", what
            rows = [row for batch in predictor.predict(list_inputs([SAMPLES])) for row in batch]
            assert len(rows) == 24 and all(r.ok for r in rows), what
        assert OnnxModel(beside, threads=1).meta["model_sha256"] == file_sha256(model), what


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


# ---------------------------------------------------------------- fuzzing: only typed one-line errors come out


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
DTYPES = ["F32", "F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "X", 7]
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _header(entries: dict, metadata) -> bytes:
    header = dict(entries)
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw


def _only_one_line_model_errors(path: Path) -> None:
    from core.models.checkpoint import read_model_info

    for loader in (read_model_info, load_model):
        try:
            info = loader(path)
        except ModelFileError as exc:
            assert "\n" not in str(exc) and str(exc), repr(exc)
            continue
        if loader is read_model_info:  # what its readers do with it must not fail either
            info.metric("val_acc"), info.reads_digits, info.name, json.dumps(info.meta, default=str)


@FUZZ
@given(
    tensors=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.fixed_dictionaries(
            {
                "dtype": st.sampled_from(DTYPES),
                "shape": st.lists(st.integers(-2, 2**40), max_size=4),
                "data_offsets": st.lists(st.integers(-1, 2**40), min_size=0, max_size=3),
            }
        ),
        max_size=3,
    ),
    metadata=st.none() | st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=3) | JSON,
    body=st.binary(max_size=64),
)
def test_class6_fuzzed_safetensors_headers_give_only_one_line_errors(tmp_path, tensors, metadata, body):
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(_header(tensors, metadata) + body)
    _only_one_line_model_errors(path)


@pytest.fixture(scope="module")
def baseline_tensors(baseline_model) -> dict:
    from safetensors import safe_open

    with safe_open(str(baseline_model), framework="pt") as f:
        meta = json.loads(f.metadata()["digitsum"])
    return {"tensors": load_file(str(baseline_model)), "meta": meta}


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


TENSOR = st.builds(
    lambda shape, dtype: torch.zeros(shape, dtype=dtype),
    st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([torch.float32, torch.int64, torch.bool]),
)


@pytest.fixture(scope="module")
def good_checkpoint(finished_run) -> dict:
    from core.models.checkpoint import load_checkpoint

    return load_checkpoint(finished_run / "checkpoint.pt")


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
