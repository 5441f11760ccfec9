"""A model file's identity, read without torch: its ``digitsum`` metadata, checked.

Prediction on a CPU (``core.predict.onnx_model``), the window's model list and the model store need
what a model file says about itself, not its weights; ``core.models.checkpoint`` loads the weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DigitsumError, exception_line, one_line, reason
from core.files import require_regular
from core.models.metadata import MetadataError, parse_metadata
from core.models.store import DEFAULT_MODEL
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, MODELS, NUM_SUMS


class ModelFileError(DigitsumError, ValueError):
    """A file that is not a usable digitsum model. ``str()`` is a one-line reason.

    One line whatever went into it: a tensor's name, a file name or a value quoted from a
    hostile file may hold line breaks, and a caller prints ``str()`` as one line of a log.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


@dataclass
class ModelInfo:
    """What a model file says about itself (the ``digitsum`` metadata, parsed)."""

    path: Path
    meta: dict = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return self.meta["arch"]

    @property
    def head(self) -> str:
        return self.meta["head"]

    @property
    def reads_digits(self) -> bool:
        return self.meta["head"] == "digits"

    @property
    def name(self) -> str:
        return self.path.name

    def metric(self, key: str):
        """A figure from the metadata's metrics (e.g. ``val_acc``, ``heldout_acc``), or None."""
        return (self.meta.get("metrics") or {}).get(key)


def model_file(path=None) -> Path:
    """``path``, or the bundled default model for ``None`` (a one-line error where it is missing)."""
    if path is not None:
        return Path(path)
    if not DEFAULT_MODEL.is_file():
        raise ModelFileError(
            f"no default model in {DEFAULT_MODEL.parent}; pass --model FILE, or train one with "
            "'digitsum train --data synthetic:200000 --mnist mnist-train.npz'"
        )
    return DEFAULT_MODEL


def _refuse_foreign(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(9)
    # safetensors first: its header length is 8 little-endian bytes, and one of 640, 896, 1152 or
    # 1408 bytes starts with a pickle's b"\x80\x02".."\x80\x05" (a real model was refused so)
    length = int.from_bytes(head[:8], "little")
    if len(head) == 9 and head[8:9] == b"{" and 0 < length <= path.stat().st_size - 8:
        return
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05") or head[:4] == b"PK\x03\x04":
        raise ModelFileError(
            f"{path.name}: a pickle/PyTorch file, not a safetensors model; digitsum never unpickles model files"
        )


def read_model_info(path) -> ModelInfo:
    """Read only the metadata of a model file (cheap: the header, not the weights)."""
    from safetensors import safe_open

    path = Path(path)
    try:  # a pipe would wait for a writer, /dev/zero read for ever; neither is "no such file"
        require_regular(path)
        if path.is_dir():
            raise IsADirectoryError(21, "a folder, not a model file")
        _refuse_foreign(path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as exc:  # a pipe or device, a folder, a file this user may not read
        raise ModelFileError(f"{path}: {reason(exc)}") from None
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get("digitsum")
    except Exception as exc:  # safetensors raises its own error types for bad headers
        why = exception_line(exc, first_line=True)[:120]
        raise ModelFileError(f"{path.name}: not a valid safetensors file ({why})") from None
    if raw is None:
        raise ModelFileError(f"{path.name}: safetensors file without digitsum metadata")
    try:
        meta = parse_metadata(raw)  # every field a reader uses has its type (core.models.metadata)
    except MetadataError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    if (meta["arch"], meta["head"]) not in MODELS:
        raise ModelFileError(f"{path.name}: unknown model {meta['arch'][:40]}/{meta['head'][:40]}")
    if (meta.get("input_height"), meta.get("input_width"), meta.get("num_classes")) != (
        IMAGE_HEIGHT,
        IMAGE_WIDTH,
        NUM_SUMS,
    ):
        raise ModelFileError(f"{path.name}: made for another input size or class count")
    return ModelInfo(path, meta)
