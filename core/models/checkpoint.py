"""Model files (safetensors + metadata) and resumable training checkpoints.

A model file carries everything needed to rebuild its network without guessing, under the
metadata key ``digitsum`` (JSON): arch, head, input size, channels, normalisation, class
count, training command, data fingerprint, metrics, creation time, project version.
Loading never unpickles: model files are safetensors only, and training checkpoints go
through ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from core import __version__
from core.errors import exception_line
from core.files import atomic_path
from core.models.info import ModelFileError, ModelInfo, model_file, read_model_info
from core.models.networks import DigitSumNet, ModelBuildError, build_model, model_config
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH

FORMAT = "digitsum-model/1"


def save_model(path, model: DigitSumNet, meta: dict | None = None, half: bool = False) -> Path:
    """Write ``model`` as safetensors with full metadata, atomically.

    Parameters
    ----------
    path : str or Path
    model : DigitSumNet
    meta : dict, optional
        Extra facts (``command``, ``data``, ``metrics``, ...) merged over the model's config.
    half : bool
        Store floating-point tensors as fp16 (the shipped default model).
    """
    from safetensors.torch import save_file

    model = getattr(model, "module", model)  # unwrap DDP
    model = getattr(model, "_orig_mod", model)  # unwrap torch.compile
    info = {
        "format": FORMAT,
        **model_config(model),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "version": __version__,
        **(meta or {}),
    }
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu")
        if half and v.is_floating_point():
            v = v.half()
        tensors[k] = v.contiguous()
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata={"digitsum": json.dumps(info)})
    return path


# numpy converts fp16 and scans for NaN with single-threaded SIMD loops: on a small CPU that is
# busy elsewhere, torch's threaded kernels for the same work took 0.4 s and 0.7 s per model
# load, numpy 0.14 s and 0.01 s (most of `digitsum predict`'s start-up after the imports).
_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)
# what a stored tensor may be for each dtype the network holds: floats as floats (fp16 is how the
# default model ships), counters as integers; an int8, bool or float8 weight is refused, not cast
_STORED = {torch.float32: (torch.float16, torch.bfloat16, torch.float32, torch.float64), torch.int64: (torch.int64,)}


def _converted(v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if v.dtype != dtype and v.dtype in _NUMPY_FLOATS and dtype in _NUMPY_FLOATS:
        return torch.from_numpy(v.numpy().astype(str(dtype).removeprefix("torch.")))
    return v.to(dtype)


def _all_finite(v: torch.Tensor) -> bool:
    if v.dtype in _NUMPY_FLOATS:
        return bool(np.isfinite(v.numpy()).all())
    return bool(torch.isfinite(v).all())


def load_model(path=None, device="cpu") -> tuple[DigitSumNet, ModelInfo]:
    """Rebuild a model from its file and load its weights, refusing anything suspicious.

    Parameters
    ----------
    path : str or Path, optional
        A ``.safetensors`` model file; ``None`` means the bundled default model.
    device : str or torch.device

    Returns
    -------
    model : DigitSumNet, in eval mode, fp32, on ``device``
    info : ModelInfo

    Raises
    ------
    ModelFileError
        Missing file, pickle, bad header, foreign metadata, missing or unexpected keys,
        wrong shapes, NaN or infinite weights. Nothing half-loaded is returned.
    """
    from safetensors.torch import load_file

    info = read_model_info(model_file(path))
    try:
        state = load_file(str(info.path), device="cpu")
    except Exception as exc:
        why = exception_line(exc, first_line=True)[:120]
        raise ModelFileError(f"{info.name}: cannot read weights ({why})") from None
    try:
        with torch.device("meta"):  # shapes only: every weight comes from the file, no random init to discard
            model = build_model(info.arch, info.head)
    except ModelBuildError as exc:
        raise ModelFileError(f"{info.name}: {exc}") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise ModelFileError(
            f"{info.name}: weights do not match a {info.arch}/{info.head} model ({what}, "
            f"{len(missing)} missing, {len(unexpected)} unexpected)"
        )
    for k, v in state.items():
        allowed = _STORED.get(expected[k].dtype, (expected[k].dtype,))
        if v.dtype not in allowed:  # never cast ints, bools or float8 into weights
            names = " or ".join(str(t).removeprefix("torch.") for t in allowed)
            raise ModelFileError(f"{info.name}: {k} is stored as {str(v.dtype).removeprefix('torch.')}, not as {names}")
        if v.shape != expected[k].shape:
            raise ModelFileError(f"{info.name}: {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)}")
        if v.is_floating_point() and not _all_finite(v):  # as stored, before any conversion
            raise ModelFileError(f"{info.name}: {k} holds NaN or infinite values")
    for k, v in state.items():
        if k.endswith("running_var") and (v < 0).any():  # sqrt(var + eps) of a negative variance is NaN
            raise ModelFileError(f"{info.name}: {k} holds negative batch-norm variances: the network would give NaN")
    state = {k: _converted(v, expected[k].dtype) for k, v in state.items()}
    model.load_state_dict(state, assign=True)  # take the loaded tensors instead of copying into fresh ones
    model.eval()
    _refuse_nonfinite_network(model, info.name)
    return model.to(device), info


def _refuse_nonfinite_network(model: DigitSumNet, name: str) -> None:
    """Run the model once on black, white and noise; refuse weights that give NaN or infinity.

    Finite weights can still overflow (values near fp16's limit, a variance of 1e-45 under a
    large mean): caught here, at load, rather than as a file of NaN rows. One small batch on
    the CPU, about the cost of predicting three images.
    """
    g = torch.Generator().manual_seed(0)
    probe = torch.stack(
        [
            torch.zeros(1, IMAGE_HEIGHT, IMAGE_WIDTH),
            torch.ones(1, IMAGE_HEIGHT, IMAGE_WIDTH),
            torch.rand(1, IMAGE_HEIGHT, IMAGE_WIDTH, generator=g),
        ]
    )  # (3, 1, 40, 168)
    with torch.inference_mode():
        outputs = [o for o in model(probe) if o is not None]
    if not all(bool(torch.isfinite(o).all()) for o in outputs):
        raise ModelFileError(f"{name}: the network gives NaN or infinite outputs with these weights")


def save_checkpoint(path, checkpoint: dict) -> None:
    """Write a resumable training checkpoint (plain tensors and Python values) atomically."""
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path) -> dict:
    """Read a training checkpoint with ``weights_only=True``: no code runs from the file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        why = exception_line(exc, first_line=True)[:160]
        raise ModelFileError(f"{Path(path).name}: not a usable training checkpoint ({why})") from None
