"""One training run in a child process: ``python -m core.train ... --progress json``.

``TrainingRun`` starts the child with ``QProcess`` (the GUI never blocks on it), turns its
stdout, one JSON object per line (docs/ARCHITECTURE.md's progress events), into Qt signals, and keeps
the tail of its stderr for the log and for error reports.

- ``stop_early()`` writes a ``STOP`` file into the run folder, which the training loop looks
  for between steps (every OS has files; on Windows ``terminate()`` does not reach a console
  child). The child finishes its step, keeps its best model and ends with a ``done`` event
  (``stopped_early: true``). SIGTERM is the fallback where the file cannot be written.
- ``cancel()`` kills the child and removes the run folder; ``cancel_and_wait()`` also waits
  for it to exit (closing a window or dialog while a run goes on).
- A child that fails to start, crashes, or exits non-zero ends in ``failed(reason, details)``:
  its error event, and its stderr tail; a run folder with no model in it is removed.

Every run ends with exactly one of ``succeeded``, ``failed`` or ``cancelled``.
"""

from __future__ import annotations

import enum
import json
import shutil
import signal
from collections import deque
from os import PathLike
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

from core.errors import signal_exit_status
from core.models.store import STOP_NAME
from core.train.events import DoneEvent

STDERR_TAIL_LINES = 200


class RunState(enum.Enum):
    """Where a ``TrainingRun`` is: each moves only forward, and every run ends ``FINISHED``."""

    IDLE = "idle"  # made, not started
    RUNNING = "running"  # the child trains
    STOPPING = "stopping"  # asked to stop early: it ends its step and keeps its best model
    CANCELLING = "cancelling"  # killed: its run folder goes once it has exited
    FINISHED = "finished"  # succeeded, failed or cancelled (its one signal has been sent)


LIVE_STATES = (RunState.RUNNING, RunState.STOPPING, RunState.CANCELLING)  # a child process is there


class TrainingRun(QObject):
    """A ``digitsum train`` child process and its progress.

    Parameters
    ----------
    argv : list of str
        The whole command, program first (``core.train.command.child_argv``).
    run_dir : str or Path
        The run folder (``--out``): removed on cancel, or when a failed run left no model.
    parent : QObject, optional

    Signals
    -------
    event(dict)
        Every progress event, as parsed (``start``, ``step``, ``epoch``, ``done``, ``error``).
    log(str)
        Text the child wrote to stderr (and stdout lines that were not JSON).
    succeeded(dict)
        The child exited 0 after its ``done`` event, which is passed on.
    failed(str reason, str details)
        Why the run ended without a model, in one line, and the stderr tail (or "").
    cancelled()
        Cancelled by ``cancel()``; the run folder is gone.
    """

    event = Signal(dict)
    log = Signal(str)
    succeeded = Signal(dict)
    failed = Signal(str, str)
    cancelled = Signal()

    def __init__(self, argv: list[str], run_dir: str | PathLike[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.argv = list(argv)
        self.run_dir = Path(run_dir)
        self.state = RunState.IDLE
        self.done_event: DoneEvent | None = None
        self.error_message = ""
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._stdout_buffer = b""
        self._stderr_buffer = b""
        self.process = QProcess(self)
        self.process.setProgram(self.argv[0])
        self.process.setArguments(self.argv[1:])
        self.process.setWorkingDirectory(str(self.run_dir.parent))
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error_occurred)

    # --- control -----------------------------------------------------------------------------
    def start(self) -> None:
        self.state = RunState.RUNNING
        self.process.start()

    @property
    def running(self) -> bool:
        return self.state in LIVE_STATES

    def stop_early(self) -> None:
        """Ask the child to stop at its next step and keep its best model (a stop file; else SIGTERM)."""
        if self.state is RunState.RUNNING:
            self.state = RunState.STOPPING
            try:
                (self.run_dir / STOP_NAME).touch()
            except OSError:
                self.process.terminate()

    def cancel(self) -> None:
        """Kill the child now; its run folder is removed when it has exited."""
        if self.state in (RunState.RUNNING, RunState.STOPPING):
            self.state = RunState.CANCELLING
            self.process.kill()
        elif self.state is RunState.IDLE:
            self.state = RunState.FINISHED
            self._remove_run_dir()
            self.cancelled.emit()

    def cancel_and_wait(self, timeout_ms: int = 5000) -> None:
        """``cancel()``, then wait for the child to exit: for a window or dialog about to close,
        so no child outlives it and its run folder is gone when this returns."""
        self.cancel()
        self.process.waitForFinished(timeout_ms)

    # --- the child's output ----------------------------------------------------------------
    def _read_stdout(self) -> None:
        self._stdout_buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")
        for raw in lines:
            self._handle_line(raw.decode("utf-8", "replace").strip())

    def _handle_line(self, line: str) -> None:
        if not line:
            return
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict) or "event" not in record:
            self._add_log(line + "\n")  # a stray print or warning: show it, do not fail on it
            return
        if record["event"] == "done":
            self.done_event = record
        elif record["event"] == "error":
            self.error_message = str(record.get("message", ""))
        self.event.emit(record)

    def _read_stderr(self) -> None:
        data = bytes(self.process.readAllStandardError())
        self._stderr_buffer += data
        *lines, self._stderr_buffer = self._stderr_buffer.split(b"\n")
        for raw in lines:
            self.stderr_tail.append(raw.decode("utf-8", "replace"))
        self._add_log(data.decode("utf-8", "replace"))

    def _add_log(self, text: str) -> None:
        if text:
            self.log.emit(text)

    def stderr_text(self) -> str:
        """The last lines the child wrote to stderr."""
        tail = list(self.stderr_tail)
        if self._stderr_buffer:
            tail.append(self._stderr_buffer.decode("utf-8", "replace"))
        return "\n".join(tail).strip()

    # --- the end -------------------------------------------------------------------------------
    def _error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.state is not RunState.FINISHED:
            # no finished() follows a failed start
            self._end_failed(f"Training could not start: {self.process.errorString()} ({self.argv[0]})")

    def _finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        if self.state is RunState.FINISHED:
            return
        self._read_stdout()
        if self._stdout_buffer:  # a last line without its newline
            self._handle_line(self._stdout_buffer.decode("utf-8", "replace").strip())
            self._stdout_buffer = b""
        self._read_stderr()
        was = self.state
        if was is RunState.CANCELLING:
            self.state = RunState.FINISHED
            self._remove_run_dir()
            self.cancelled.emit()
            return
        # a run stopped by SIGTERM (stop_early's fallback) exits so after its done event
        stopped = was is RunState.STOPPING and exit_code == signal_exit_status(signal.SIGTERM)
        if (
            exit_status == QProcess.ExitStatus.NormalExit
            and (exit_code == 0 or stopped)
            and self.done_event is not None
        ):
            self.state = RunState.FINISHED
            self.succeeded.emit(self.done_event)
            return
        if was is RunState.STOPPING and not self.error_message and exit_status == QProcess.ExitStatus.CrashExit:
            reason = "Training was stopped before its first epoch finished: no model was written."
        elif self.error_message:
            reason = f"Training failed: {self.error_message}"
        elif exit_status == QProcess.ExitStatus.CrashExit:
            reason = "The training process crashed."
        else:
            reason = f"The training process exited with code {exit_code}."
        self._end_failed(reason)

    def _end_failed(self, reason: str) -> None:
        self.state = RunState.FINISHED
        if not (self.run_dir / "best.safetensors").is_file():
            self._remove_run_dir()  # nothing worth keeping; the store lists only finished runs
        tail = self.stderr_text()
        self.failed.emit(reason, tail)

    def _remove_run_dir(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)
