"""Prediction on ONNX Runtime: the CPU path, which never imports torch.

On a CPU, ``core.predict.predictor.Predictor`` runs a model's int8 ONNX file (``core.models.onnx_export``
makes it from the safetensors file) in an ``onnxruntime.InferenceSession``, and computes the
sum's distribution from the four digit distributions here, in numpy. torch's import alone
takes longer than reading a few hundred images this way, and its own int8 kernels
(``torch.ops.quantized``) are on their way out of PyTorch.

Where the ONNX file of a model is looked for, first to last:

- beside it, ``MODEL.int8.onnx`` (shipped for the default model; written at the end of
  ``digitsum train --onnx``, as the app's Retrain runs it, or on the model's first CPU use);
- in the user's cache folder, under the model file's SHA-256 (written the first time a model
  is used on a CPU where nothing could be written beside it).

Each file names the SHA-256 of the model file it was made from; one made from another
version of the model is stale and never used.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from core.errors import DigitsumError, exception_line
from core.models.onnx_file import FORMAT, INPUT, OnnxExportError, cache_path, model_sha256, onnx_path
from core.spec import NUM_DIGITS, NUM_SUMS


class OnnxModelError(DigitsumError, RuntimeError):
    """An ONNX file that cannot be used; ``str()`` is a one-line reason."""


@functools.lru_cache(maxsize=1)
def onnxruntime_available() -> bool:
    """Whether ``onnxruntime`` imports (~0.1 s, once): missing, or a broken install, is False."""
    try:
        import onnxruntime  # noqa: F401
    except (ImportError, OSError):  # (OSError: a shared library it needs is missing)
        return False
    return True


def sum_distribution(digit_probs: np.ndarray) -> np.ndarray:
    """The exact distribution of the sum of independent digits.

    Parameters
    ----------
    digit_probs : np.ndarray, (n, K, 10)

    Returns
    -------
    np.ndarray, float32 (n, 9 * K + 1): ``P(sum = s)``, the K distributions convolved (in float64).
    """
    p = digit_probs.astype(np.float64)
    acc = p[:, 0]  # (n, 10)
    for k in range(1, p.shape[1]):
        out = np.zeros((len(p), acc.shape[1] + 9))
        for d in range(10):  # digit k read as d moves every partial sum up by d
            out[:, d : d + acc.shape[1]] += acc * p[:, k, d : d + 1]
        acc = out
    return acc.astype(np.float32)


class OnnxModel:
    """An int8 (or fp32) ONNX file of a digitsum model in an ONNX Runtime session.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file (``core.models.onnx_export``).
    threads : int
        Intra-op threads of the session.
    """

    def __init__(self, path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are about its own graph rewrites
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            why = exception_line(exc)[:160]
            raise OnnxModelError(f"{Path(path).name}: ONNX Runtime cannot load it ({why})") from None
        self.path = Path(path)
        self.meta = dict(self.session.get_modelmeta().custom_metadata_map)
        shape = self.session.get_outputs()[0].shape
        self.reads_digits = list(shape[1:]) == [NUM_DIGITS, 10]
        if not self.reads_digits and list(shape[1:]) != [NUM_SUMS]:
            raise OnnxModelError(f"{self.path.name}: gives {shape}, not digit or sum probabilities")

    @property
    def precision(self) -> str:
        return self.meta.get("precision", "fp32")

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Read uint8 (n, 40, 168) images: ``(sum probs (n, 37), digit probs (n, 4, 10) or None)``."""
        (out,) = self.session.run(None, {INPUT: np.ascontiguousarray(images, dtype=np.uint8)})
        if self.reads_digits:
            return sum_distribution(out), out
        return out, None


def open_onnx(
    model_path, threads: int, build: bool = True, announce=None, cancel: threading.Event | None = None
) -> tuple[OnnxModel | None, str]:
    """``(the int8 ONNX model of a model file, "")``, or ``(None, why not)``.

    Looks beside the model, then in the cache (see the module's docstring); a file made from
    another version of the model, or one ONNX Runtime cannot load, is passed over. With
    ``build`` a missing one is made (``core.models.onnx_build``: in a child process with torch
    and ``onnx``, ~30 s, once per model file) beside the model where that folder can be
    written, else in the cache; ``announce(text)`` is told once the model has loaded. Setting
    ``cancel`` (from another thread) stops the making: ``OnnxBuildCancelled`` is raised.
    """
    model_path = Path(model_path)
    if not onnxruntime_available():
        return None, "onnxruntime is not installed (or does not load), so torch runs the model"
    sha256 = model_sha256(model_path)
    for candidate in (onnx_path(model_path), cache_path(sha256)):
        if candidate.is_file():
            try:
                model = OnnxModel(candidate, threads)
            except OnnxModelError:
                continue  # damaged or foreign: made again below
            if model.meta.get("format") == FORMAT and model.meta.get("model_sha256") == sha256:
                return model, ""
    if not build:
        return None, ""
    from core.models.onnx_build import build_onnx_file

    try:  # beside the model; where that cannot be written (a shared or read-only folder), the cache
        made = build_onnx_file(model_path, onnx_path(model_path), sha256, cache_path(sha256), announce, cancel)
        return OnnxModel(made, threads), ""
    except (OnnxExportError, OnnxModelError, OSError) as exc:
        return None, f"no int8 ONNX file, so torch runs the model: {exception_line(exc)}"
