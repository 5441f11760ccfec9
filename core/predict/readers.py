"""How ``core.predict.predictor.Predictor`` hands batches to the model, and the CPU's ONNX reader.

A reader runs the model in two steps, so that on CUDA one batch can be read back while the
next runs: ``launch(images)`` starts the model and returns a ``LaunchedBatch``;
``collect(launched)`` waits for its outputs and gives them as numpy. Two readers exist:
``OnnxReader`` here (the CPU, on ONNX Runtime, no torch) and
``core.predict.torch_reader.TorchReader`` (CUDA, and the CPU without ONNX Runtime). Both say
``cuda``, ``device_name``, ``precision``, ``batch_size``, ``streams`` and ``intra_op_threads``,
and ``init_thread()`` is called in each model thread before its first batch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class LaunchedBatch(NamedTuple):
    """One batch the model has been started on: what ``collect`` and a second look need."""

    probs: Any  # sum probabilities (n, 37): numpy, or a torch tensor that may still be on its way
    digit_probs: Any  # digit probabilities (n, 4, 10) likewise, or None for a model that reads no digits
    arrived: Any  # CUDA: an event recorded after the copies to the host (wait on it first); else None
    images: Any  # uint8 (n, 40, 168), the images read (on CUDA, still on the device): a second look reads them again


class OnnxReader:
    """The model's int8 ONNX file run by ONNX Runtime on the CPU (``core.predict.onnx_model``): no torch.

    ``streams`` model threads call one session at once, each batch on ``intra_op_threads`` of
    its own: as with torch, one team of threads over both cores of a small machine waits at
    every barrier whenever another process takes a core (measured under load: 2 streams of 1
    thread 1.45x one session of 2 threads).
    """

    cuda = False
    device_name = "CPU"

    def __init__(self, model, streams: int, intra_op_threads: int, batch_size: int | None):
        self.model, self.streams, self.intra_op_threads = model, streams, intra_op_threads
        self.precision = model.precision
        self.batch_size = batch_size or 64

    def init_thread(self) -> None:
        pass

    def launch(self, images: np.ndarray) -> LaunchedBatch:
        probs, digit_probs = self.model(images)  # ONNX Runtime answers when done: nothing left on its way
        return LaunchedBatch(probs, digit_probs, None, images)

    @staticmethod
    def collect(launched: LaunchedBatch) -> tuple[np.ndarray, np.ndarray | None]:
        return launched.probs, launched.digit_probs
