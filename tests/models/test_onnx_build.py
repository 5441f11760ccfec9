"""core.models.onnx_build: a model's int8 ONNX file made in a child process, which a cancel kills."""

from __future__ import annotations

import threading

import pytest

from core.models.onnx_build import OnnxBuildCancelled, build_onnx_file
from core.models.onnx_file import OnnxExportError, file_sha256


def test_a_failure_in_the_child_is_its_one_line_reason(tmp_path):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"not a model")
    with pytest.raises(OnnxExportError) as caught:
        build_onnx_file(model, tmp_path / "m.int8.onnx", file_sha256(model))
    why = str(caught.value)
    assert why.startswith("m.safetensors: not a valid safetensors file"), why  # the child's own words
    assert list(tmp_path.iterdir()) == [model]


def test_a_cancel_kills_the_child_and_writes_nothing(tmp_path, baseline_model):
    model = tmp_path / "m.safetensors"
    model.write_bytes(baseline_model.read_bytes())
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()  # the child is still importing torch or exporting then
    with pytest.raises(OnnxBuildCancelled, match="making m.int8.onnx was cancelled"):
        build_onnx_file(
            model, tmp_path / "m.int8.onnx", file_sha256(model), fallback=tmp_path / "cache.onnx", cancel=cancel
        )
    assert list(tmp_path.iterdir()) == [model]
