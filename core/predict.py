"""The prediction engine shared by `digitsum predict`, `digitsum evaluate` and the GUI worker.

    from core.data import list_inputs
    from core.predict import Predictor
    predictor = Predictor("model.safetensors", device="auto")
    for rows in predictor.predict(list_inputs(["folder/"])):
        ...  # one list of PredictionRow per batch, in input order

Decoding runs in a small pool while the model works on the previous batch; memory stays
flat in the number of files because only a few batches are ever in flight.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from core.checkpoint import ModelInfo, load_model
from core.data import InputItem, load_item
from core.images import ImageReadError
from core.model import IMAGE_HEIGHT, IMAGE_WIDTH
from core.runtime import autocast, describe_device, resolve_device


@dataclass
class PredictionRow:
    """One input's result. ``error`` is empty on success, else a one-line reason."""

    file: str
    predicted_sum: int | None = None
    confidence: float | None = None
    digits: str = ""
    error: str = ""
    top3: tuple = ()  # ((sum, probability), ...) best first
    digit_confidence: tuple = ()  # probability of each digit read, left to right

    @property
    def ok(self) -> bool:
        return not self.error


def decode_chunk(items: Sequence[InputItem]):
    """Decode ``items``; returns uint8 (n, 40, 168) for the good ones and a list of errors.

    ``errors[i]`` is ``""`` when item i decoded, else its one-line reason. Runs in worker
    threads or processes: keep it a plain top-level function.
    """
    out = np.zeros((len(items), IMAGE_HEIGHT, IMAGE_WIDTH), np.uint8)
    errors = []
    for i, item in enumerate(items):
        try:
            out[i] = load_item(item)
            errors.append("")
        except ImageReadError as exc:
            errors.append(str(exc))
    return out, errors


class Predictor:
    """A loaded model plus the decode pipeline; load once, predict many folders.

    Parameters
    ----------
    model_path : str or Path, optional
        A ``.safetensors`` model file (``None``: the bundled default model).
    device : str
        ``auto | cpu | cuda | cuda:N``.
    batch_size : int, optional
        Images per forward pass (default: 64 on the CPU, 1024 on CUDA).
    workers : int, optional
        Decoding threads (default: up to 4 on the CPU, up to 16 on CUDA).
    precision : {"auto", "fp32", "bf16"}
        ``auto`` is bf16 on CUDA and fp32 on the CPU.
    executor_factory : callable, optional
        ``f(workers) -> concurrent.futures.Executor`` to decode in processes instead.
    """

    def __init__(self, model_path=None, device="auto", batch_size=None, workers=None, precision="auto",
                 executor_factory: Callable[[int], Executor] | None = None):
        self.device = resolve_device(device)
        self.model, self.info = load_model(model_path, self.device)
        self.model = self.model.to(memory_format=torch.channels_last)
        cuda = self.device.type == "cuda"
        if cuda:
            torch.backends.cudnn.benchmark = True
        self.precision = ("bf16" if cuda else "fp32") if precision == "auto" else precision
        self.batch_size = batch_size or (1024 if cuda else 64)
        self.workers = workers or max(1, min(16 if cuda else 4, os.cpu_count() or 1))
        self.executor_factory = executor_factory or (lambda n: ThreadPoolExecutor(n, thread_name_prefix="decode"))

    @property
    def device_name(self) -> str:
        """``CUDA: <GPU name>`` or ``CPU``."""
        return describe_device(self.device)

    @property
    def model_info(self) -> ModelInfo:
        return self.info

    @torch.inference_mode()
    def classify(self, images: np.ndarray):
        """Run the model on uint8 (n, 40, 168) images.

        Returns
        -------
        probs : np.ndarray, float32 (n, 37), sum probabilities
        digit_probs : np.ndarray (n, 4, 10) or None
        """
        x = torch.from_numpy(images).to(self.device, non_blocking=True).unsqueeze(1)  # (n, 1, 40, 168) uint8
        x = (x.float() / 255.0).contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.precision):
            sum_log_probs, digit_logits = self.model(x)
        probs = sum_log_probs.float().exp().cpu().numpy()
        digit_probs = None if digit_logits is None else digit_logits.float().softmax(-1).cpu().numpy()
        return probs, digit_probs

    def _rows(self, items, images, errors) -> list[PredictionRow]:
        good = [i for i, e in enumerate(errors) if not e]
        rows = [PredictionRow(item.name, error=e) for item, e in zip(items, errors)]
        if not good:
            return rows
        probs, digit_probs = self.classify(images[good])
        top = np.argsort(-probs, axis=1)[:, :3]
        for j, i in enumerate(good):
            row = rows[i]
            row.predicted_sum = int(top[j, 0])
            row.confidence = float(probs[j, top[j, 0]])
            row.top3 = tuple((int(s), float(probs[j, s])) for s in top[j])
            if digit_probs is not None:
                read = digit_probs[j].argmax(-1)
                row.digits = "".join(str(int(d)) for d in read)
                row.digit_confidence = tuple(float(digit_probs[j, k, d]) for k, d in enumerate(read))
        return rows

    def predict(self, items: Sequence[InputItem], should_stop: Callable[[], bool] | None = None,
                lookahead: int = 2) -> Iterator[list[PredictionRow]]:
        """Yield one list of rows per batch, in input order.

        Parameters
        ----------
        items : sequence of InputItem
        should_stop : callable, optional
            Checked between batches; when it returns True the generator ends (cancel).
        lookahead : int
            Batches decoded ahead of the model (bounded: memory stays flat).
        """
        chunks = (items[s : s + self.batch_size] for s in range(0, len(items), self.batch_size))
        with self.executor_factory(self.workers) as pool:
            pending: deque = deque()

            def submit_next():
                chunk = next(chunks, None)
                if chunk is not None:
                    # split a batch across workers so decoding is parallel within it
                    step = max(1, -(-len(chunk) // self.workers))
                    parts = [pool.submit(decode_chunk, chunk[s : s + step]) for s in range(0, len(chunk), step)]
                    pending.append((chunk, parts))

            for _ in range(lookahead + 1):
                submit_next()
            while pending:
                if should_stop is not None and should_stop():
                    for _, parts in pending:
                        for f in parts:
                            f.cancel()
                    return
                chunk, parts = pending.popleft()
                results = [f.result() for f in parts]
                submit_next()
                images = np.concatenate([r[0] for r in results])
                errors = [e for r in results for e in r[1]]
                yield self._rows(chunk, images, errors)


@dataclass
class RunStats:
    """Counts and speed of a prediction run, for progress lines and status bars."""

    total: int
    done: int = 0
    errors: int = 0
    started: float = field(default_factory=time.time)

    def add(self, rows: Iterable[PredictionRow]) -> None:
        for r in rows:
            self.done += 1
            self.errors += bool(r.error)

    @property
    def images_per_s(self) -> float:
        return self.done / max(time.time() - self.started, 1e-9)

    @property
    def eta(self) -> float | None:
        rate = self.images_per_s
        return (self.total - self.done) / rate if self.done and rate > 0 else None


def score(rows: Sequence[PredictionRow], truth: dict) -> dict:
    """Accuracy of predicted sums (and digits where known) against ``{file: (sum, digits)}``.

    Returns a dict with ``count``, ``accuracy`` (exact sum), ``mae``, ``errors`` (unreadable
    files), ``unlabelled`` and, when digits are known, ``digit_accuracy``.
    """
    n = correct = abs_err = errors = unlabelled = digit_ok = digit_n = 0
    for r in rows:
        if r.file not in truth:
            unlabelled += 1
            continue
        true_sum, true_digits = truth[r.file]
        if r.error:
            errors += 1
            continue
        n += 1
        correct += r.predicted_sum == true_sum
        abs_err += abs(r.predicted_sum - true_sum)
        if true_digits and r.digits:
            digit_n += len(true_digits)
            digit_ok += sum(a == b for a, b in zip(r.digits, true_digits))
    out = {"count": n, "accuracy": correct / n if n else None, "mae": abs_err / n if n else None,
           "errors": errors, "unlabelled": unlabelled}
    if digit_n:
        out["digit_accuracy"] = digit_ok / digit_n
    return out
