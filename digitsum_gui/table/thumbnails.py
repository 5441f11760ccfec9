"""The table's thumbnails: read off the GUI thread, kept in a small cache, sent back as signals.

A paint never waits for a disk (measured: under a run's load each read on the GUI thread
took 5 ms, a fifth of the app's longest stall). ``Thumbnails.when_ready`` answers from the
cache or starts a read and returns None; the read's image comes back through a queued
signal, is cached as a pixmap on the GUI thread, and ``ready(input_index)`` follows.
Nothing is read until a view asks, so 100,000 rows cost no thumbnail until they are seen.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:
    import numpy as np

    from core.inputs.listing import InputItem

THUMBNAIL_CACHE = 2000  # pixmaps kept (~7 KB each): several screens of scrolling


def array_to_image(image: np.ndarray) -> QImage:
    """A uint8 (H, W) grey array as a QImage that owns its pixels (safe to hand to another thread)."""
    height, width = image.shape
    data = image.tobytes()  # a QImage made on a buffer does not copy it: .copy() does
    return QImage(data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def read_thumbnail(item: InputItem) -> QImage | None:
    """``item`` as the model saw it, or None for a file that cannot be read."""
    from core.inputs.images import ImageReadError
    from core.inputs.listing import load_item  # the one reader: the thumbnail is what the model saw

    try:
        # an image with no digits is an error row, but the person reviewing it should see it
        return array_to_image(load_item(item, require_digits=False))
    except ImageReadError:
        return None  # remembered too: an unreadable file is not retried on every paint


class Thumbnails(QObject):
    """Thumbnails of a list of inputs (``core.inputs.listing.InputItem``), by input index.

    Signals
    -------
    ready(int)
        The thumbnail of this input index has been read and cached (None when unreadable).
    """

    ready = Signal(int)
    _read = Signal(int, int, object)  # generation, input index, QImage or None (from a reader)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: list = []
        self._pixmaps: OrderedDict[int, QPixmap | None] = OrderedDict()  # LRU by input index; None = unreadable
        # readers, made on first use: for painting, and (urgent) for the detail pane
        self._readers: dict[bool, ThreadPoolExecutor | None] = {False: None, True: None}
        self._reading: set[int] = set()  # input indices asked of a reader
        self._generation = 0  # bumped whenever the items change: late reads of the old ones are dropped
        self._read.connect(self._on_read)  # queued: emitted on a reader's thread

    def reset(self, items: list) -> None:
        """Forget every thumbnail: ``items`` are the inputs from now on."""
        self._items = items
        self._pixmaps.clear()
        self._reading.clear()
        self._generation += 1

    def when_ready(self, input_index: int, urgent: bool = False) -> QPixmap | None:
        """The thumbnail of input ``input_index`` (168x40) if cached, else None and a read.

        Parameters
        ----------
        input_index : int
        urgent : bool
            Read it on a second reader of its own (the detail pane's one image), not behind
            the cells a fast scroll asked for.

        Returns
        -------
        QPixmap or None
            None also for a file that could not be read (remembered: not read again).
        """
        if input_index in self._pixmaps:
            return self._cached(input_index)
        if input_index < len(self._items) and (urgent or input_index not in self._reading):
            if self._readers[urgent] is None:
                self._readers[urgent] = ThreadPoolExecutor(1, thread_name_prefix="thumbnails")
            self._reading.add(input_index)
            self._readers[urgent].submit(self._read_for_paint, self._generation, self._items[input_index], input_index)
        return None

    def is_reading(self, input_index: int) -> bool:
        """True while the thumbnail of ``input_index`` is being read for ``when_ready``."""
        return input_index in self._reading

    def stop(self) -> None:
        """Drop the reads still queued (scrolling far queues many) and let the readers end."""
        for urgent, reader in self._readers.items():
            if reader is not None:
                reader.shutdown(wait=False, cancel_futures=True)
                self._readers[urgent] = None
        self._reading.clear()
        self._generation += 1  # a read under way now is not shown either

    def _read_for_paint(self, generation: int, item: InputItem, input_index: int) -> None:
        """On a reader's thread: skip inputs of an older folder, read, send the image back."""
        if generation == self._generation:
            self._read.emit(generation, input_index, read_thumbnail(item))

    def _on_read(self, generation: int, input_index: int, image: QImage | None) -> None:
        if generation != self._generation:
            return
        self._reading.discard(input_index)
        self._remember(input_index, image)
        self.ready.emit(input_index)

    def _cached(self, input_index: int) -> QPixmap | None:
        """A cached thumbnail (None if not cached or unreadable), now the most recently used."""
        if input_index not in self._pixmaps:
            return None
        self._pixmaps.move_to_end(input_index)
        return self._pixmaps[input_index]

    def _remember(self, input_index: int, image: QImage | None) -> None:
        """Cache ``image`` (None: unreadable, remembered too) as the pixmap painting needs."""
        self._pixmaps[input_index] = None if image is None else QPixmap.fromImage(image)  # pixmaps: GUI thread only
        if len(self._pixmaps) > THUMBNAIL_CACHE:
            self._pixmaps.popitem(last=False)
