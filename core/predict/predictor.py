"""The prediction engine shared by `digitsum predict`, `digitsum evaluate` and the GUI worker.

    from core.inputs.listing import list_inputs
    from core.predict.predictor import Predictor
    predictor = Predictor("model.safetensors", device="auto")
    for rows in predictor.predict(list_inputs(["folder/"])):
        ...  # one list of PredictionRow per batch, in input order

A pipeline of three stages keeps every core busy while memory stays flat (only a few
batches are ever in flight, whatever the number of files):

- decoding: a small pool of threads (on a GPU host, forked processes: ``process_pool``),
  each image straight into its batch's slot of a ring (``SlotDecoder``; shared memory for
  processes), so no batch is ever concatenated, pickled or sent through a pipe;
- the model: on the CPU, ``streams`` threads with one batch each and one intra-op thread
  apiece (ResNet-50's feature maps at 40x168 are small: one team of threads per batch waits
  at barriers, and stalls whenever another process takes a core), running the model's int8
  ONNX file in one ONNX Runtime session (``OnnxReader``; torch is never imported), or torch
  (``core.predict.torch_reader``) where that cannot be; on CUDA, the calling thread launches batch
  i+1 (pinned, non-blocking copies) before it reads back batch i;
- rows: built with numpy for a whole batch at once.

``precision="auto"`` picks what measured fastest at unchanged accuracy (benchmarks/RESULTS.md):
on the CPU int8 on ONNX Runtime, on CUDA bf16.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from core.inputs.arrays import open_array
from core.inputs.images import ImageReadError
from core.inputs.listing import InputItem, load_item
from core.models.info import ModelInfo, model_file, read_model_info
from core.predict.nonfinite import NON_FINITE_OUTPUT, nonfinite_as_errors
from core.predict.second_look import look_again
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, SECOND_LOOK_BELOW

PRECISIONS = ("auto", "fp32", "bf16", "int8")


@dataclass(slots=True)  # slots: 100,000 rows (the GUI keeps them all) take 15.5 MB instead of 20.3
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


class SlotDecoder:
    """Decodes a run's inputs into a ring of batch slots, in threads or forked processes.

    Parameters
    ----------
    items : sequence of InputItem
        The run's inputs.
    slots : np.ndarray
        uint8 (n, 40, 168): where decoded images go, batch after batch round the ring. For
        processes it lies in memory shared with them (``shared_slots``), so an image crosses
        from a process to the model without being pickled, sent through a pipe or copied.
    """

    def __init__(self, items: Sequence[InputItem], slots: np.ndarray):
        self.items, self.slots = items, slots

    def __call__(self, start: int, stop: int, at: int) -> list[str]:
        """Decode ``items[start:stop]`` into ``slots[at:]``; one error per item, ``""`` where it decoded."""
        errors = []
        for offset, i in enumerate(range(start, stop)):
            try:
                self.slots[at + offset] = load_item(self.items[i])
                errors.append("")
            except ImageReadError as exc:
                errors.append(str(exc))
        return errors


def shared_slots(count: int) -> np.ndarray:
    """uint8 (count, 40, 168) in an anonymous shared mapping: forked children write, we read."""
    import mmap

    return np.frombuffer(mmap.mmap(-1, count * IMAGE_HEIGHT * IMAGE_WIDTH), np.uint8).reshape(
        count, IMAGE_HEIGHT, IMAGE_WIDTH
    )


_PROCESS_DECODER: SlotDecoder | None = None  # in a decoding process: its run's decoder


def _hold_decoder(decoder: SlotDecoder) -> None:
    global _PROCESS_DECODER
    _PROCESS_DECODER = decoder


def decode_in_process(start: int, stop: int, at: int) -> list[str]:
    """The task of a ``process_pool`` process: its ``SlotDecoder(start, stop, at)``."""
    return _PROCESS_DECODER(start, stop, at)


def process_pool(workers: int, decoder: SlotDecoder) -> Executor:
    """Forked processes that decode for ``decoder`` (submit ``decode_in_process``), for GPU hosts.

    Threads share the GIL, and Pillow's per-file Python work caps them at a few thousand
    images/s in all; processes scale with cores. Forked (Linux; the children only decode,
    never touch CUDA), they start in milliseconds without importing torch again, holding
    the run's inputs and the shared slots: a task names a range and a slot, and returns
    only the errors (no pickled paths or arrays: ~5 us an image in the parent before).

    Parameters
    ----------
    workers : int
        Number of processes.
    decoder : SlotDecoder
        Over ``shared_slots``, so that what the children write is seen here.

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
    """
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_hold_decoder, initargs=(decoder,)
    )


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread) so an event loop's thread comes first."""
    if nice > 0 and sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        except OSError:
            pass


def _init_model_thread(reader, nice: int) -> None:
    _lower_priority(nice)
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

    def launch(self, images):
        probs, digit_probs = self.model(images)
        return probs, digit_probs, None, images

    @staticmethod
    def collect(launched):
        return launched[0], launched[1]


def _in_thread(fn, nice: int):
    """``fn()`` run in a new thread of lowered priority: threads it starts inherit the priority (Linux)."""
    if nice <= 0:
        return fn()
    with ThreadPoolExecutor(1, initializer=_lower_priority, initargs=(nice,)) as pool:
        return pool.submit(fn).result()


@dataclass(slots=True)
class QueuedBatch:
    """One batch on its way: its inputs, their decoding and the slot they are decoded into."""

    items: Sequence[InputItem]
    parts: list[Future]  # decoding, split across the workers; each gives a list of errors
    slot: np.ndarray  # uint8 (len(items), 40, 168), a view of the ring
    job: Future | None = None  # CPU: the model thread's rows for it


class BatchQueue:
    """A run's batches in input order, each decoding into its slot of a ring from when it is queued.

    Batch k goes to slot k mod (ring / batch size); the ring has room for every batch alive
    at once, so a slot is written again only after its batch has been read.

    Parameters
    ----------
    items : sequence of InputItem
    batch_size : int
    slots : np.ndarray
        The ring (``SlotDecoder.slots``), a whole number of batches long.
    decode : callable
        ``decode(start, stop, at)`` -> a future of the errors of ``items[start:stop]`` decoded into ``slots[at:]``.
    workers : int
        Decoders a batch is split across, so that decoding is parallel within it.
    then : callable, optional
        Called with each batch as it is queued; its result is the batch's ``job`` (CPU: a model thread's future).
    """

    def __init__(
        self,
        items: Sequence[InputItem],
        batch_size: int,
        slots: np.ndarray,
        decode: Callable[[int, int, int], Future],
        workers: int,
        then: Callable[[QueuedBatch], Future] | None = None,
    ):
        if len(slots) % batch_size:
            raise ValueError(f"the ring holds {len(slots)} images, not a whole number of batches of {batch_size}")
        self.items, self.batch_size, self.slots, self.decode, self.workers = items, batch_size, slots, decode, workers
        self.then = then
        self._starts = iter(range(0, len(items), batch_size))
        self._pending: deque[QueuedBatch] = deque()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def fill(self, count: int) -> None:
        """Queue up to ``count`` batches."""
        for _ in range(count):
            self.push()

    def push(self) -> None:
        """Queue the next batch, if any is left."""
        start = next(self._starts, None)
        if start is None:
            return
        chunk = self.items[start : start + self.batch_size]
        at = start % len(self.slots)
        step = max(1, -(-len(chunk) // self.workers))
        parts = [
            self.decode(lo, min(lo + step, start + len(chunk)), at + lo - start)
            for lo in range(start, start + len(chunk), step)
        ]
        batch = QueuedBatch(chunk, parts, self.slots[at : at + len(chunk)])
        if self.then is not None:
            batch.job = self.then(batch)
        self._pending.append(batch)

    def popleft(self) -> QueuedBatch:
        """The oldest batch (its decoding may still run)."""
        return self._pending.popleft()

    def cancel(self) -> None:
        """Cancel what has not started of the queued batches (a stop)."""
        for batch in self._pending:
            for f in ([batch.job] if batch.job else []) + batch.parts:
                f.cancel()


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
        Rows read with a confidence below this are read again from shifted copies
        (``core.predict.second_look``); 0 turns that off. An attribute: may change between runs.
    threads : int, optional
        CPU: the model's threads in all (default: the cores this process may use).
    announce : callable, optional
        Told, as one line, of a long step before it starts (making a model's ONNX file).
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
                lambda: open_onnx(path, max(1, threads // ways), announce=announce),
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

    def _read(self, launched):
        """The reader's results, then a second look at the doubtful rows (``core.predict.second_look``)."""
        probs, digit_probs = self.reader.collect(launched)
        return look_again(self._classify_once, launched[3], probs, digit_probs, self.second_look_below)

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

    @staticmethod
    def _rows(items, errors, probs, digit_probs) -> list[PredictionRow]:
        """Rows for one batch; ``probs`` holds the good items only, in order."""
        if probs is None or not len(probs):
            return [PredictionRow(item.name, error=e) for item, e in zip(items, errors, strict=True)]
        # whole-batch numpy, then plain Python values: per-row numpy calls cost more than the model on a GPU
        top = np.argsort(-probs, axis=1, kind="stable")[:, :3]  # (n, 3)
        top_p = np.take_along_axis(probs, top, 1).tolist()
        top = top.tolist()
        texts, read_p = itertools.repeat(""), itertools.repeat(())
        if digit_probs is not None:
            read = digit_probs.argmax(-1)  # (n, 4)
            read_p = map(tuple, np.take_along_axis(digit_probs, read[..., None], -1)[..., 0].tolist())
            texts = (read.astype(np.uint8) + ord("0")).view("S4").ravel().astype(str).tolist()
        # texts and read_p repeat endlessly for a model that reads no digits: the first two set the length
        results = zip(top, top_p, texts, read_p, strict=False)  # one per good item, in order
        rows = []
        for item, error in zip(items, errors, strict=True):
            if error:
                rows.append(PredictionRow(item.name, error=error))
                continue
            sums, p, text, text_p = next(results)
            rows.append(PredictionRow(item.name, sums[0], p[0], text, "", tuple(zip(sums, p, strict=True)), text_p))
        return nonfinite_as_errors(rows, probs, digit_probs)  # NaN or infinity: an error row, not a sum

    @staticmethod
    def _decoded(parts, images: np.ndarray):
        """Wait for a batch's decoding; its good images (a view of its slot when all are) and errors."""
        errors = [e for f in parts for e in f.result()]
        good = [i for i, e in enumerate(errors) if not e]
        return (images if len(good) == len(errors) else images[good]), errors

    def _cpu_batch(self, batch: QueuedBatch) -> list[PredictionRow]:
        """Decode results -> rows, in one of the model's CPU stream threads."""
        images, errors = self._decoded(batch.parts, batch.slot)
        if not len(images):
            return self._rows(batch.items, errors, None, None)
        return self._rows(batch.items, errors, *self.classify(images))

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
        for path in {item.path for item in items if item.index is not None}:
            # an array's memory map and white value, once here: else every decoder that meets
            # the file first computes them (a pass over the whole array each), and forked
            # decoders would each start from an empty cache
            with contextlib.suppress(Exception):  # an unreadable array is its rows' errors
                open_array(path)
        decoder = SlotDecoder(
            items, shared_slots(ring) if processes else np.empty((ring, IMAGE_HEIGHT, IMAGE_WIDTH), np.uint8)
        )
        with contextlib.ExitStack() as stack:
            if processes:
                pool = stack.enter_context(process_pool(self.workers, decoder))
                decode = functools.partial(pool.submit, decode_in_process)
            else:
                pool = stack.enter_context(
                    ThreadPoolExecutor(
                        self.workers, thread_name_prefix="decode", initializer=_lower_priority, initargs=(nice,)
                    )
                )
                decode = functools.partial(pool.submit, decoder)
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
        launched = None  # (batch, errors, launch handle) of the batch on the GPU now
        while queue or launched:
            current = None
            if queue:
                batch = queue.popleft()
                images, errors = self._decoded(batch.parts, batch.slot)  # (_launch copies them to pinned memory)
                queue.push()
                current = (batch, errors, self.reader.launch(images) if len(images) else None)
            if launched:  # read back the previous batch while the GPU works on this one
                batch, errors, handle = launched
                yield self._rows(batch.items, errors, *(self._read(handle) if handle else (None, None)))
            launched = current


@dataclass
class RunStats:
    """Counts and speed of a prediction run, for progress lines and status bars."""

    total: int
    done: int = 0
    errors: int = 0  # rows with an error, ``nonfinite`` among them
    nonfinite: int = 0  # rows the model gave NaN or infinity for (``core.predict.nonfinite``)
    started: float = field(default_factory=time.time)

    def add(self, rows: Iterable[PredictionRow]) -> None:
        for r in rows:
            self.done += 1
            self.errors += bool(r.error)
            self.nonfinite += r.error == NON_FINITE_OUTPUT

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
            digit_ok += sum(a == b for a, b in zip(r.digits, true_digits, strict=True))
    out = {
        "count": n,
        "accuracy": correct / n if n else None,
        "mae": abs_err / n if n else None,
        "errors": errors,
        "unlabelled": unlabelled,
    }
    if digit_n:
        out["digit_accuracy"] = digit_ok / digit_n
    return out
