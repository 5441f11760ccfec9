"""Model files edited as a hostile or damaged file would be, and hypothesis strategies for them.

Shared by tests/models (the header, the metadata, the weights) and tests/train/test_resume_check.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from core.models.checkpoint import ModelFileError, load_model

# any JSON value, nested a few levels
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def rewritten(source: Path, dest: Path, change) -> Path:
    """``source`` with its tensors passed through ``change(dict)``, metadata kept: a file as a tool would write it."""
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(source))
    change(tensors)
    save_file(tensors, str(dest), metadata=meta)
    return dest


def only_one_line_model_errors(path: Path) -> None:
    """Assert that ``read_model_info`` and ``load_model`` give ``path``'s contents or one line of ``ModelFileError``."""
    from core.models.checkpoint import read_model_info

    for loader in (read_model_info, load_model):
        try:
            info = loader(path)
        except ModelFileError as exc:
            assert "\n" not in str(exc) and str(exc), repr(exc)
            continue
        if loader is read_model_info:  # what its readers do with it must not fail either
            info.metric("val_acc"), info.reads_digits, info.name, json.dumps(info.meta, default=str)
