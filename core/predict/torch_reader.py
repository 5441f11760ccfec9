"""The model run by torch: on CUDA, and on a CPU where ONNX Runtime cannot be used.

``core.predict.predictor.Predictor`` hands each batch to a reader (``core.predict.readers``):
this one, or ``OnnxReader`` on the CPU. Float models are prepared once (``core.predict.torch_precision``): batch norm
folded into the convolution before it, channels_last, and under bf16 the convolution weights
stored in bf16 so that autocast does not cast them again for every batch.
"""

from __future__ import annotations

import numpy as np
import torch

from core.devices import autocast, describe_device, resolve_device
from core.models.checkpoint import load_model
from core.predict.readers import LaunchedBatch
from core.predict.torch_precision import cpu_has_fast_bf16, prepare_for_inference


class TorchReader:
    """A model file loaded by torch and run on ``device``.

    Parameters
    ----------
    model_path : str or Path, optional
        A ``.safetensors`` model file (``None``: the bundled default model).
    device : str or torch.device
        ``auto | cpu | cuda | cuda:N``.
    precision : {"auto", "fp32", "bf16"}
        ``auto``: bf16 on CUDA and on CPUs with native bf16 (``cpu_has_fast_bf16``), else fp32.
    batch_size : int, optional
        Images per forward pass (default: 64 on the CPU, 1024 on CUDA); short batches on CUDA
        are padded to a power of two up to it.
    streams : int, optional
        CPU: batches run at once, one thread each (default: up to 4, one per core first).
    threads : int, optional
        CPU: intra-op threads in all (default: torch's, i.e. the usable cores).
    """

    def __init__(self, model_path, device, precision: str, batch_size=None, streams=None, threads=None):
        self.device = resolve_device(device)
        self.cuda = self.device.type == "cuda"
        model, self.info = load_model(model_path, "cpu")
        cores = threads or torch.get_num_threads()  # (OMP_NUM_THREADS, affinity)
        self.streams = 1 if self.cuda else max(1, min(streams or 4, cores))
        self.intra_op_threads = max(1, cores // self.streams)
        if precision == "auto":
            precision = "bf16" if self.cuda or cpu_has_fast_bf16() else "fp32"
        self.precision = precision
        self.model = prepare_for_inference(model, precision).to(self.device)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        self.batch_size = batch_size or (1024 if self.cuda else 64)

    @property
    def device_name(self) -> str:
        return describe_device(self.device)

    def init_thread(self) -> None:
        """In each CPU model thread: its own intra-op team of ``intra_op_threads``."""
        # the first touch sets this thread's OpenMP team from the global default, which the second
        # overrides (and makes the default for threads started later)
        torch.get_num_threads()
        torch.set_num_threads(self.intra_op_threads)

    @torch.inference_mode()
    def launch(self, images) -> LaunchedBatch:
        """Start the model on uint8 (n, 40, 168) images; returns what ``collect`` and a second look need.

        On CUDA everything here is asynchronous: a pinned host copy, a non-blocking upload
        (uint8: a quarter of the bytes of float), the forward pass, and non-blocking copies
        of the results into pinned memory, with an event that marks their arrival. The
        images stay on the device for a second look (the host's slot is reused meanwhile).
        """
        x = torch.from_numpy(images) if isinstance(images, np.ndarray) else images
        n = len(images)
        if self.cuda:
            padded = min(self.batch_size, 1 << max(0, n - 1).bit_length())  # next power of two
            if n < padded:
                # a short batch (the last one, or a second look's shifted copies, already on the
                # device) runs at a shape seen before: with cudnn.benchmark each new shape costs
                # a search for the fastest kernels, longer than the batch itself
                x = torch.cat([x, x.new_zeros((padded - n, *x.shape[1:]))])
            if x.device != self.device:
                x = x.pin_memory().to(self.device, non_blocking=True)
        seen = x[:n]  # uint8 (n, 40, 168): what a second look reads again
        x = (x.unsqueeze(1).float() / 255.0).contiguous(memory_format=torch.channels_last)  # (n, 1, 40, 168)
        with autocast(self.device, self.precision):
            sum_log_probs, digit_logits = self.model(x)
        probs = sum_log_probs[:n].float().exp()  # (n, 37)
        digit_probs = None if digit_logits is None else digit_logits[:n].float().softmax(-1)  # (n, 4, 10)
        if not self.cuda:
            return LaunchedBatch(probs, digit_probs, None, seen)
        probs = probs.to("cpu", non_blocking=True)  # pinned: the copy runs after the kernels, in order
        digit_probs = None if digit_probs is None else digit_probs.to("cpu", non_blocking=True)
        done = torch.cuda.Event()
        done.record()
        return LaunchedBatch(probs, digit_probs, done, seen)

    @staticmethod
    def collect(launched: LaunchedBatch):
        """``(probs (n, 37), digit_probs (n, 4, 10) or None)`` as numpy, once they have arrived."""
        if launched.arrived is not None:
            launched.arrived.synchronize()
        probs, digit_probs = launched.probs, launched.digit_probs
        return probs.numpy(), None if digit_probs is None else digit_probs.numpy()
