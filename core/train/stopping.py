"""Asking a training run to stop: by a signal, a stop file or a time limit, honoured at the next step.

However it is asked, the loop (``core.train.loop``) finishes the step it is in, keeps the best
model and the checkpoint of the last whole epoch, and ends with its ``done`` event.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import torch


class StopFlag:
    """Set by SIGINT/SIGTERM or by a stop file: the loop stops at the next step and keeps the best model.

    The file (``watch``) is the channel that works everywhere: on Windows a console child
    cannot be sent SIGTERM. Looking for it costs a ``stat`` per check, a few per step.
    """

    def __init__(self):
        self.signum = None
        self._requested = False
        self._file: Path | None = None
        self._deadline: float | None = None
        self._previous = {}

    @property
    def requested(self) -> bool:
        if not self._requested and self._file is not None and self._file.exists():
            self._requested = True
        if not self._requested and self._deadline is not None and time.monotonic() >= self._deadline:
            self._requested = True
        return self._requested

    def stop_after(self, seconds: float) -> None:
        """Stop as well once ``seconds`` have passed (``--time-limit``)."""
        self._deadline = time.monotonic() + seconds

    def watch(self, path) -> None:
        """Stop as well when ``path`` appears."""
        self._file = Path(path)

    def install(self):
        """Take SIGINT and SIGTERM (from the main thread only) until ``uninstall``."""
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread; a caller in a thread stops us its own way
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handler)

    def uninstall(self):
        """Give the signals back to whoever had them (the run may be called in-process, e.g. by tests)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def agreed(self, ctx) -> bool:
        """Whether any rank was asked to stop: under DDP all ranks must leave the loop together."""
        if ctx.world == 1:
            return self.requested
        return ctx.all_reduce_sum(torch.tensor(float(self.requested), device=ctx.device)).item() > 0

    def _handler(self, signum, frame):
        self.signum = signum  # a signal, unlike the user's own stop request, makes the exit status non-zero
        if self._requested:  # asked twice: the user wants out now, not at the next step
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        self._requested = True
