"""core.models.checkpoint: model files round-trip with metadata; anything else is refused in one line.

Foreign files here are real: pickles whose unpickling would create a marker file. The tests
check the refusal *and* that the marker never appears, i.e. nothing was unpickled.
"""

from __future__ import annotations

import ast
import builtins
import json
import pickle
import re
from pathlib import Path

import pytest
import torch
from helpers.clitools import SAMPLES, run_cli, sha256
from helpers.clitools import cli_in_process as cli
from helpers.model_files import rewritten
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from core import __version__
from core.models.checkpoint import (
    FORMAT,
    ModelFileError,
    load_checkpoint,
    load_model,
    read_model_info,
    save_checkpoint,
    save_model,
)
from core.models.networks import build_model

ROOT = Path(__file__).resolve().parents[2]


def refused(path, loader=load_model) -> str:
    """The one-line reason ``loader`` gives for refusing ``path``."""
    with pytest.raises(ModelFileError) as info:
        loader(path)
    reason = str(info.value)
    assert reason and "\n" not in reason, reason
    assert "Traceback" not in reason
    return reason


@pytest.fixture(scope="module")
def baseline_state(baseline_model):
    """The fixture model's tensors and metadata, to tamper with."""
    with safe_open(str(baseline_model), framework="pt") as f:
        meta = f.metadata()
    return load_file(str(baseline_model)), meta


def write_variant(path, tensors, metadata) -> Path:
    save_file(tensors, str(path), metadata=metadata)
    return path


# --- round trip --------------------------------------------------------------------------


def test_round_trip_with_metadata(tmp_path):
    torch.manual_seed(3)
    model = build_model("baseline", "sum")
    extra = {"command": "digitsum train --arch baseline", "data": "synthetic:64#abc", "metrics": {"val_acc": 0.25}}
    path = save_model(tmp_path / "m.safetensors", model, extra)
    loaded, info = load_model(path)
    assert not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert (info.arch, info.head, info.reads_digits, info.name) == ("baseline", "sum", False, "m.safetensors")
    assert info.metric("val_acc") == 0.25 and info.metric("heldout_acc") is None
    meta = info.meta
    assert meta["format"] == FORMAT and meta["version"] == __version__
    assert (meta["input_height"], meta["input_width"], meta["channels"], meta["num_classes"]) == (40, 168, 1, 37)
    assert meta["mean"] == pytest.approx([0.1307]) and meta["std"] == pytest.approx([0.3081])
    assert meta["command"] == extra["command"] and meta["data"] == extra["data"] and meta["created"]
    assert read_model_info(path).meta == meta  # the cheap header read says the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file left
    assert path.stat().st_mode & 0o777 == 0o644


def test_half_precision_file_loads_as_fp32(digits_model):
    with safe_open(str(digits_model), framework="pt") as f:
        assert f.get_slice("head.mlp.1.weight").get_dtype() == "F16"
    model, info = load_model(digits_model)
    assert info.reads_digits
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_default_model_loads(default_model):
    model, info = load_model(None)
    assert info.path == default_model and (info.arch, info.head) == ("resnet50", "digits")
    assert info.metric("val_acc") is not None


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    from core.files import atomic_path

    dest = tmp_path / "model.safetensors"
    dest.write_bytes(b"old")
    with pytest.raises(OSError), atomic_path(dest) as tmp:
        Path(tmp).write_bytes(b"half a fi")
        raise OSError("disk full")
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


# --- foreign pickles ---------------------------------------------------------------------


class Marker:
    """Unpickling this creates (opens for writing) the file at ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, "w")


def pickles(folder: Path, marker: Path) -> dict[str, Path]:
    """Malicious files in the forms people actually have: torch.save, raw pickle, renamed."""
    payload = {"state_dict": {"w": Marker(marker)}}
    files = {}
    files["zip.pt"] = folder / "model.pt"
    torch.save(payload, files["zip.pt"])  # the zip format of torch.save
    files["legacy.pth"] = folder / "model.pth"
    torch.save(payload, files["legacy.pth"], _use_new_zipfile_serialization=False)
    files["raw.ckpt"] = folder / "model.ckpt"
    files["raw.ckpt"].write_bytes(pickle.dumps(payload, protocol=4))
    for proto in (0, 2, 5):
        files[f"p{proto}.safetensors"] = folder / f"renamed{proto}.safetensors"
        files[f"p{proto}.safetensors"].write_bytes(pickle.dumps(payload, protocol=proto))
    files["zip.safetensors"] = folder / "renamed-zip.safetensors"
    files["zip.safetensors"].write_bytes(files["zip.pt"].read_bytes())
    return files


def test_pickles_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "MARKER"
    files = pickles(tmp_path, marker)
    assert not marker.exists()
    pickle.loads(files["raw.ckpt"].read_bytes())  # the payload is live: unpickling does create it
    assert marker.exists()
    marker.unlink()
    for kind, path in files.items():
        reason = refused(path)
        assert path.name in reason, (kind, reason)
        reason = refused(path, read_model_info)
        assert not marker.exists(), kind


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_load_checkpoint_refuses_pickled_code(tmp_path):
    marker = tmp_path / "MARKER"
    for kind, path in pickles(tmp_path, marker).items():
        if kind.endswith(".safetensors") and kind != "zip.safetensors":
            continue  # raw pickles renamed: covered by the weights_only zip/legacy cases below
        refused(path, load_checkpoint)
        assert not marker.exists(), kind


def test_checkpoint_round_trip_is_plain_data(tmp_path):
    state = {
        "model": {"w": torch.arange(6.0).view(2, 3)},
        "epoch": 3,
        "best": {"val_acc": 0.5},
        "args": {"lr": 1e-3, "data": ["synthetic:64"], "init": None},
        "rng": {"torch": torch.get_rng_state()},
    }
    save_checkpoint(tmp_path / "checkpoint.pt", state)
    back = load_checkpoint(tmp_path / "checkpoint.pt")
    assert torch.equal(back["model"]["w"], state["model"]["w"])
    assert back["epoch"] == 3 and back["args"] == state["args"] and back["best"] == state["best"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    refused(tmp_path / "missing.pt", load_checkpoint)


def is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def test_every_torch_load_in_the_project_uses_weights_only():
    """A source scan: each ``torch.load(`` call in core/, digitsum_gui/, benchmarks/ passes weights_only=True."""
    calls = 0
    for folder in ("core", "digitsum_gui", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(path))
            found = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
                    base = node.func.value
                    if isinstance(base, ast.Name) and base.id == "torch":
                        found.append(node)
                        kw = {k.arg: k.value for k in node.keywords}
                        assert "weights_only" in kw and is_true(kw["weights_only"]), f"{path.name}:{node.lineno}"
                if isinstance(node, ast.ImportFrom) and node.module == "torch":
                    assert "load" not in {a.name for a in node.names}, f"{path.name}: from torch import load"
            # and by text, which also catches calls the tree walk would miss (aliases, getattr tricks)
            for match in re.finditer(r"torch\.load\(", source):
                depth, end = 1, match.end()
                while depth and end < len(source):
                    depth += {"(": 1, ")": -1}.get(source[end], 0)
                    end += 1
                assert "weights_only=True" in source[match.start() : end], f"{path.name}: {source[match.start() : end]}"
            assert "pickle.load" not in source, path.name
            calls += len(found)
    assert calls >= 1  # load_checkpoint itself


# --- models that are not ours ------------------------------------------------------------


def test_nan_and_inf_weights_are_refused(tmp_path, baseline_state):
    tensors, meta = baseline_state
    for bad in (float("nan"), float("inf")):
        t = dict(tensors)
        w = t["head.4.weight"].clone()
        w[3, 7] = bad
        t["head.4.weight"] = w
        reason = refused(write_variant(tmp_path / "bad.safetensors", t, meta))
        assert "head.4.weight" in reason and "NaN or infinite" in reason


def test_wrong_shapes_are_refused(tmp_path, baseline_state):
    tensors, meta = baseline_state
    t = dict(tensors, **{"head.4.weight": torch.zeros(10, 256), "head.4.bias": torch.zeros(10)})
    reason = refused(write_variant(tmp_path / "shape.safetensors", t, meta))
    assert re.search(r"head\.4\.(weight|bias) has shape \((10, 256|10,)\), expected \((37, 256|37,)\)", reason), reason


def test_missing_and_unexpected_keys_are_refused(tmp_path, baseline_state):
    tensors, meta = baseline_state
    t = {k: v for k, v in tensors.items() if k != "backbone.0.weight"}
    assert "missing backbone.0.weight" in refused(write_variant(tmp_path / "missing.safetensors", t, meta))
    t = dict(tensors, extra=torch.zeros(1))
    assert "unexpected extra" in refused(write_variant(tmp_path / "extra.safetensors", t, meta))


def test_truncated_files_are_refused(tmp_path, baseline_model):
    data = baseline_model.read_bytes()
    for size in (0, 5, 8, 100, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{size}.safetensors"
        path.write_bytes(data[:size])
        refused(path)


def test_metadata_of_another_model_is_refused(tmp_path, baseline_state):
    tensors, meta = baseline_state
    info = json.loads(meta["digitsum"])
    variants = {
        "resnet50 digits": {**info, "arch": "resnet50", "head": "digits"},  # right format, wrong weights
        "unknown arch": {**info, "arch": "vit"},
        "other size": {**info, "input_height": 28, "input_width": 28},
        "other classes": {**info, "num_classes": 10},
    }
    reasons = {}
    for what, m in variants.items():
        path = write_variant(tmp_path / "other.safetensors", tensors, {"digitsum": json.dumps(m)})
        reasons[what] = refused(path)
    assert "do not match a resnet50/digits model" in reasons["resnet50 digits"]
    assert "unknown model vit/sum" in reasons["unknown arch"]
    for what, m in {
        "no metadata": None,
        "not json": {"digitsum": "{arch:"},
        "json list": {"digitsum": "[1, 2]"},
        "someone else's": {"format": "pt"},
    }.items():
        path = write_variant(tmp_path / "meta.safetensors", tensors, m)
        assert refused(path), what


def test_a_missing_file_is_refused(tmp_path):
    assert "no such model file" in refused(tmp_path / "nope.safetensors")


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.mark.hardening("issue 14, class 5")
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
