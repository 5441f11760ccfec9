"""The decoding half of a prediction run: inputs decoded, batch by batch, into a ring of slots.

``core.predict.predictor.Predictor`` queues a run's batches in a ``BatchQueue``; each batch is
decoded as soon as it is queued, by a pool of threads or of forked processes
(``decoding_pool``), each image straight into its batch's slot of a ring (``SlotDecoder``;
memory shared with the processes: ``shared_slots``), so that no batch is ever concatenated,
pickled or sent through a pipe. Only a few batches are alive at once, whatever the number of
files, so memory stays flat. Torch-free.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from core.inputs.arrays import open_array
from core.inputs.images import ImageReadError
from core.inputs.listing import InputItem, load_item
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH

# ``decode(start, stop, at)``: a future of the errors of ``items[start:stop]`` decoded into ``slots[at:]``
Decode = Callable[[int, int, int], Future]


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


def open_arrays_once(items: Sequence[InputItem]) -> None:
    """Open the array files among ``items`` here, before any decoder does.

    An array's memory map and white value are computed once, in this process: else every
    decoder that meets the file first computes them (a pass over the whole array each), and
    forked decoders would each start from an empty cache.
    """
    for path in {item.path for item in items if item.index is not None}:
        with contextlib.suppress(Exception):  # an unreadable array is its rows' errors
            open_array(path)


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


def lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread) so an event loop's thread comes first."""
    if nice > 0 and sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        except OSError:
            pass


@contextlib.contextmanager
def decoding_pool(decoder: SlotDecoder, workers: int, processes: bool, nice: int) -> Iterator[Decode]:
    """The pool that decodes a run, as its ``decode`` function; shut down on leaving.

    Parameters
    ----------
    decoder : SlotDecoder
        Over ``shared_slots`` when ``processes``.
    workers : int
        Threads or processes.
    processes : bool
        Forked processes (``process_pool``) instead of threads.
    nice : int
        Threads only: how much lower their priority is (``lower_priority``).
    """
    if processes:
        with process_pool(workers, decoder) as pool:
            yield functools.partial(pool.submit, decode_in_process)
    else:
        with ThreadPoolExecutor(
            workers, thread_name_prefix="decode", initializer=lower_priority, initargs=(nice,)
        ) as pool:
            yield functools.partial(pool.submit, decoder)


@dataclass(slots=True)
class QueuedBatch:
    """One batch on its way: its inputs, their decoding and the slot they are decoded into."""

    items: Sequence[InputItem]
    parts: list[Future]  # decoding, split across the workers; each gives a list of errors
    slot: np.ndarray  # uint8 (len(items), 40, 168), a view of the ring
    job: Future | None = None  # CPU: the model thread's rows for it

    def decoded(self) -> tuple[np.ndarray, list[str]]:
        """Wait for the decoding; the good images (the slot itself when all are) and one error per item."""
        errors = [e for f in self.parts for e in f.result()]
        good = [i for i, e in enumerate(errors) if not e]
        return (self.slot if len(good) == len(errors) else self.slot[good]), errors


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
        decode: Decode,
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
