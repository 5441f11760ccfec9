"""A model's ONNX file as a file: its name beside the model, its place in the cache, the model
file it was made from (SHA-256), and the format and input name every such file has.

``core.models.onnx_export`` writes these files and ``core.predict.onnx_model`` reads them; both
take the contract from here. Torch-free and onnxruntime-free.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from core.errors import DigitsumError

FORMAT = "digitsum-onnx/1"
INPUT = "images"  # uint8 (n, 40, 168)


class OnnxExportError(DigitsumError, RuntimeError):
    """The ONNX file could not be made; ``str()`` is a one-line reason."""


def file_sha256(path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def onnx_path(model_path, int8: bool = True) -> Path:
    """``model.safetensors`` -> ``model.int8.onnx`` (``model.onnx`` for fp32)."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + (".int8.onnx" if int8 else ".onnx"))


def cache_path(sha256: str) -> Path:
    """Where the ONNX file of a model whose folder is not writable is kept (XDG cache, LOCALAPPDATA)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "digitsum" / "onnx" / f"{sha256}.int8.onnx"


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, identity: tuple) -> str:
    return file_sha256(path)


def model_sha256(model_path) -> str:
    """The SHA-256 of a model file, remembered while the process runs for the same file unchanged.

    "Unchanged": the same device, inode, size and change time (ctime moves with every write,
    ``cp -p`` and ``touch -d`` included, which mtime does not).
    """
    path = os.path.abspath(model_path)
    st = os.stat(path)
    return _sha256_of(path, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
