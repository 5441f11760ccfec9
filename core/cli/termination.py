"""While a command runs, SIGTERM and SIGHUP unwind it like Ctrl-C (``Terminated``).

``core.cli.main`` then says which signal it was and exits 128 + its number.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that temporary files are removed on the way out.

    Their default action ends the process on the spot, leaving ``.sums.csv.*.tmp`` behind.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once, unwinding or not
    raise Terminated(signum)


@contextlib.contextmanager
def termination_unwinds():
    """While a command runs, SIGTERM and SIGHUP raise ``Terminated`` (main thread only: Python's rule)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hangup = getattr(signal, "SIGHUP", None)  # (not on Windows)
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, hangup) if sig is not None}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
