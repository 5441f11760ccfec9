"""core.models.info: model files refused from their first bytes or their header, in one line.

Pickles that would create a marker file, safetensors headers written to hurt the parser, and
hypothesis fuzzing of the header: only ``ModelFileError`` comes out, and nothing is unpickled.
"""

from __future__ import annotations

import json

import pytest
from helpers.clitools import SAMPLES, one_line
from helpers.clitools import cli_in_process as cli
from helpers.hostile import marker_pickles
from helpers.model_files import FUZZ, JSON
from helpers.model_files import only_one_line_model_errors as _only_one_line_model_errors
from hypothesis import given
from hypothesis import strategies as st

from core.models.checkpoint import ModelFileError, load_model, read_model_info


@pytest.mark.hardening("issue 6, case 6")
def test_case06_pickles_given_to_model_are_refused_and_never_run(tmp_path, synth_folder, capsys):
    marker = tmp_path / "MARKER"
    for suffix, path in marker_pickles(tmp_path / "models", marker).items():
        out = tmp_path / f"out{suffix}.csv"
        line = one_line(*cli(capsys, "predict", synth_folder, "--model", path, "--output", out), "predict")
        assert path.name in line and "never unpickles" in line, line
        assert not marker.exists(), suffix
        assert not out.exists()


@pytest.mark.hardening("issue 6, case 7")
def test_case07_hostile_safetensors_headers_are_refused_in_one_line(tmp_path, baseline_model, capsys):
    """NaN weights, wrong shapes, missing keys, truncation and foreign metadata are
    tests/models/test_checkpoint.py's; these are headers written to hurt the parser."""
    import struct

    body = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    cases = {
        "length 2^63": struct.pack("<Q", 2**63 - 1) + body,
        "length past the end": struct.pack("<Q", len(body) + 1000) + body,
        "not json": struct.pack("<Q", 6) + b'{"w": ',
        "offsets past the end": struct.pack("<Q", len(body)) + body + b"\0" * 4,
        "huge shape": struct.pack("<Q", 80)
        + json.dumps({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}).encode().ljust(80)
        + b"\0" * 16,
        "metadata not strings": _with_header({"__metadata__": {"digitsum": {"arch": "baseline"}}}),
    }
    for what, data in cases.items():
        path = tmp_path / "hostile.safetensors"
        path.write_bytes(data)
        for loader in (load_model, read_model_info):
            with pytest.raises(ModelFileError) as info:
                loader(path)
            assert "\n" not in str(info.value) and "hostile.safetensors" in str(info.value), (what, str(info.value))
    line = one_line(*cli(capsys, "predict", SAMPLES, "--model", path), "predict")
    assert "hostile.safetensors" in line


def _with_header(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw


DTYPES = ["F32", "F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "X", 7]


def _header(entries: dict, metadata) -> bytes:
    header = dict(entries)
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw


@pytest.mark.hardening("issue 14, class 6")
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
