"""The prediction engine shared by `digitsum predict`, `digitsum evaluate` and the GUI worker.

    from core.inputs.listing import list_inputs
    from core.predict.predictor import Predictor
    predictor = Predictor("model.safetensors", device="auto")
    for rows in predictor.predict(list_inputs(["folder/"])):
        ...  # one list of PredictionRow per batch, in input order

A pipeline of three stages keeps every core busy while memory stays flat (only a few
batches are ever in flight, whatever the number of files):

- decoding (``core.predict.pipeline``): a small pool of threads (on a GPU host, forked
  processes), each image straight into its batch's slot of a ring, so no batch is ever
  concatenated, pickled or sent through a pipe;
- the model, through a reader (``core.predict.readers``): on the CPU, ``streams`` threads with
  one batch each and one intra-op thread apiece (ResNet-50's feature maps at 40x168 are small:
  one team of threads per batch waits at barriers, and stalls whenever another process takes
  a core), running the model's int8 ONNX file in one ONNX Runtime session (``OnnxReader``;
  torch is never imported), or torch (``core.predict.torch_reader``) where that cannot be; on
  CUDA, the calling thread launches batch i+1 (pinned, non-blocking copies) before it reads
  back batch i;
- rows (``core.predict.rows``): built with numpy for a whole batch at once.

``precision="auto"`` picks what measured fastest at unchanged accuracy (benchmarks/RESULTS.md):
on the CPU int8 on ONNX Runtime, on CUDA bf16.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.inputs.listing import InputItem
from core.models.info import ModelInfo, model_file, read_model_info
from core.predict.pipeline import (
    BatchQueue,
    QueuedBatch,
    SlotDecoder,
    decoding_pool,
    lower_priority,
    open_arrays_once,
    shared_slots,
)
from core.predict.readers import LaunchedBatch, OnnxReader
from core.predict.rows import PredictionRow, batch_rows
from core.predict.second_look import look_again
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, SECOND_LOOK_BELOW

PRECISIONS = ("auto", "fp32", "bf16", "int8")


def _init_model_thread(reader, nice: int) -> None:
    lower_priority(nice)
    reader.init_thread()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; all of them off Linux), or
    ``OMP_NUM_THREADS`` where that is set, as torch counts them."""
    told = os.environ.get("OMP_NUM_THREADS", "")
    if told.isdigit() and int(told) > 0:
        return int(told)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on macOS or Windows)
        return os.cpu_count() or 1


def gpu_driver_present() -> bool:
    """Whether a GPU driver torch could use is installed, told without importing torch.

    ``--device auto`` on a machine without one is the CPU: prediction then never pays for
    torch's import (~1.7 s). Where the driver is present, torch itself is asked.
    """
    if sys.platform.startswith("linux"):
        return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/proc/driver/nvidia/version", "/dev/kfd"))
    if sys.platform == "win32":
        return os.path.exists(os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", "nvcuda.dll"))
    return False  # macOS: no CUDA


def is_cpu(device) -> bool:
    """Whether ``device`` (a spec or a ``torch.device``) means the CPU, told without importing torch."""
    spec = str(device).strip().lower()
    return spec == "cpu" or (spec == "auto" and not gpu_driver_present())


def _in_thread(fn, nice: int):
    """``fn()`` run in a new thread of lowered priority: threads it starts inherit the priority (Linux)."""
    if nice <= 0:
        return fn()
    with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(nice,)) as pool:
        return pool.submit(fn).result()


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
        Decoding threads or processes (default: up to 4 on the CPU, where decoding is ~1% of
        the work; up to 16 on CUDA, as forked processes when ``predict`` runs on the main
        thread on Linux, since threads share one GIL).
    precision : {"auto", "fp32", "bf16", "int8"}
        ``auto`` and ``int8``: on the CPU the model's int8 ONNX file on ONNX Runtime, without
        torch (``core.predict.onnx_model``: shipped for the default model, made once for others); where
        that cannot be, ``precision_note`` says why and torch runs the model as for ``auto``
        on CUDA: bf16 on CUDA and on CPUs with native bf16 (``cpu_has_fast_bf16``), else fp32.
        ``fp32`` and ``bf16``: torch.
    processes : bool, optional
        Decode in forked processes (``process_pool``; threads where the OS cannot fork)
        instead of threads. Default: on CUDA with 4 or more workers when ``predict`` runs
        on the main thread on Linux (forking beside a GUI's threads could inherit a held lock).
    streams : int, optional
        CPU: batches run by the model at once, each in its own thread with ``threads / streams``
        intra-op threads (default: up to 4, one per core first).
    nice : int, optional
        Lower the priority of the decoding and model threads by this much (Linux). Default:
        10 when the Predictor is made and ``predict`` called off the main thread (the GUI's
        worker: its event loop then keeps the CPU it needs to stay responsive on a small
        machine), else 0.
    second_look_below : float, optional
        Rows read with a confidence below this are read again from shifted copies (crowded rows
        from a stretched one, below a higher bar: ``core.predict.second_look``); 0 turns that off.
        An attribute: may change between runs.
    threads : int, optional
        CPU: the model's threads in all (default: the cores this process may use).
    announce : callable, optional
        Told, as one line, of a long step before it starts (making a model's ONNX file).
    cancel : threading.Event, optional
        Set from another thread to stop making a model's ONNX file (a window closing
        meanwhile): ``core.models.onnx_build.OnnxBuildCancelled`` is raised within 0.1 s.
    """

    def __init__(
        self,
        model_path=None,
        device="auto",
        batch_size=None,
        workers=None,
        precision="auto",
        processes: bool | None = None,
        streams: int | None = None,
        nice: int | None = None,
        second_look_below: float = SECOND_LOOK_BELOW,
        threads: int | None = None,
        announce: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be auto, fp32, bf16 or int8, not {precision!r}")
        on_main_thread = threading.current_thread() is threading.main_thread()
        self.nice = nice
        self.precision_note = ""  # why the int8 ONNX model was not used, where it could have been
        self.reader = None
        if not is_cpu(device) and str(device).strip().lower() == "auto":
            from core.devices import resolve_device  # a GPU driver is there: torch says whether CUDA works

            device = resolve_device(device)
        if precision in ("auto", "int8") and is_cpu(device):
            from core.predict.onnx_model import open_onnx

            path = model_file(model_path)
            self.info = read_model_info(path)
            threads = threads or usable_cores()
            ways = max(1, min(streams or 4, threads))
            # ONNX Runtime's threads are started with its session and inherit this priority
            model, self.precision_note = _in_thread(
                lambda: open_onnx(path, max(1, threads // ways), announce=announce, cancel=cancel),
                nice if nice is not None else (0 if on_main_thread else 10),
            )
            if model is not None:
                self.reader = OnnxReader(model, ways, max(1, threads // ways), batch_size)
        if self.reader is None:
            from core.predict.torch_reader import TorchReader

            self.reader = TorchReader(
                model_path, device, "auto" if precision == "int8" else precision, batch_size, streams, threads
            )
            self.info = self.reader.info
        self.batch_size = self.reader.batch_size
        self.precision = self.reader.precision
        self.streams, self.intra_op_threads = self.reader.streams, self.reader.intra_op_threads
        cuda = self.reader.cuda
        self.workers = workers or max(1, min(16 if cuda else 4, os.cpu_count() or 1))
        self.processes = processes
        self.second_look_below = second_look_below

    @property
    def cuda(self) -> bool:
        return self.reader.cuda

    @property
    def device_name(self) -> str:
        """``CUDA: <GPU name>`` or ``CPU``."""
        return self.reader.device_name

    @property
    def model_info(self) -> ModelInfo:
        return self.info

    def _read(self, launched: LaunchedBatch):
        """The reader's results, then a second look at the doubtful rows (``core.predict.second_look``)."""
        probs, digit_probs = self.reader.collect(launched)
        return look_again(self._classify_once, launched.images, probs, digit_probs, self.second_look_below)

    def _classify_once(self, images):
        """One reading, no second look, a batch at a time: a second look's shifted copies are
        four times its doubtful rows, which must neither exceed a batch's memory nor bring the
        GPU shapes it has not seen."""
        step, reader = self.batch_size, self.reader
        parts = [reader.collect(reader.launch(images[i : i + step])) for i in range(0, len(images), step)]
        if len(parts) == 1:
            return parts[0]
        probs = np.concatenate([p for p, _ in parts])
        return probs, None if parts[0][1] is None else np.concatenate([d for _, d in parts])

    def classify(self, images: np.ndarray):
        """Run the model on uint8 (n, 40, 168) images, with a second look at doubtful rows.

        Returns
        -------
        probs : np.ndarray, float32 (n, 37), sum probabilities
        digit_probs : np.ndarray (n, 4, 10) or None
        """
        return self._read(self.reader.launch(images))

    def _cpu_batch(self, batch: QueuedBatch) -> list[PredictionRow]:
        """Decode results -> rows, in one of the model's CPU stream threads."""
        images, errors = batch.decoded()
        if not len(images):
            return batch_rows(batch.items, errors, None, None)
        return batch_rows(batch.items, errors, *self.classify(images))

    def predict(
        self, items: Sequence[InputItem], should_stop: Callable[[], bool] | None = None, lookahead: int | None = None
    ) -> Iterator[list[PredictionRow]]:
        """Yield one list of rows per batch, in input order.

        Parameters
        ----------
        items : sequence of InputItem
        should_stop : callable, optional
            Checked between batches; when it returns True the generator ends (cancel).
            Batches the model is already running finish first (at most ``streams``).
        lookahead : int, optional
            Batches decoded ahead of the model (default: 2 on the CPU, 6 on a GPU); bounded,
            so memory stays flat.
        """
        cpu = not self.cuda
        on_main_thread = threading.current_thread() is threading.main_thread()
        nice = self.nice if self.nice is not None else (0 if on_main_thread else 10)
        if lookahead is None:  # a GPU takes a batch in milliseconds: keep more decoding ahead of it
            lookahead = 2 if cpu else 6
        processes = self.processes
        if processes is None:
            # a GPU reads tens of thousands of images/s, more than threads can decode under one GIL
            processes = not cpu and self.workers >= 4 and on_main_thread and sys.platform.startswith("linux")
        processes = processes and "fork" in multiprocessing.get_all_start_methods()  # (else threads)
        # Batches alive at once: those decoding or waiting (streams + lookahead) and one more
        # (on CUDA the batch being copied out; on the CPU the next is queued after one is done).
        ring = (self.streams + lookahead + 1) * self.batch_size
        open_arrays_once(items)
        decoder = SlotDecoder(
            items, shared_slots(ring) if processes else np.empty((ring, IMAGE_HEIGHT, IMAGE_WIDTH), np.uint8)
        )
        with contextlib.ExitStack() as stack:
            decode = stack.enter_context(decoding_pool(decoder, self.workers, processes, nice))
            then = None  # on the CPU each batch goes to a model thread as soon as it is queued
            if cpu:
                model_pool = stack.enter_context(
                    ThreadPoolExecutor(
                        self.streams,
                        thread_name_prefix="model",
                        initializer=_init_model_thread,
                        initargs=(self.reader, nice),
                    )
                )
                then = functools.partial(model_pool.submit, self._cpu_batch)
            queue = BatchQueue(items, self.batch_size, decoder.slots, decode, self.workers, then)
            batches = self._cpu_batches(queue) if cpu else self._cuda_batches(queue)
            try:
                queue.fill(self.streams + lookahead)
                while not (should_stop is not None and should_stop()):
                    rows = next(batches, None)
                    if rows is None:
                        return
                    yield rows
            finally:  # a stop, or a caller that stops iterating: what has not started never will
                queue.cancel()
                batches.close()

    @staticmethod
    def _cpu_batches(queue: BatchQueue) -> Iterator[list[PredictionRow]]:
        """The CPU loop: each batch was handed to a model thread when queued; collect in order."""
        while queue:
            batch = queue.popleft()
            rows = batch.job.result()
            queue.push()
            yield rows

    def _cuda_batches(self, queue: BatchQueue) -> Iterator[list[PredictionRow]]:
        """The CUDA loop: launch batch i+1 on the GPU before reading back batch i."""
        on_gpu = None  # (batch, errors, its LaunchedBatch or None) of the batch the GPU runs now
        while queue or on_gpu:
            current = None
            if queue:
                batch = queue.popleft()
                images, errors = batch.decoded()  # (launch copies them to pinned memory)
                queue.push()
                current = (batch, errors, self.reader.launch(images) if len(images) else None)
            if on_gpu:  # read back the previous batch while the GPU works on this one
                batch, errors, launched = on_gpu
                yield batch_rows(batch.items, errors, *(self._read(launched) if launched else (None, None)))
            on_gpu = current
