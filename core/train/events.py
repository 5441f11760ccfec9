"""Training progress: JSON lines for machines (the GUI), a tqdm bar for people.

Every event is also appended to the run's ``progress.jsonl``. JSON events on stdout are
exactly docs/ARCHITECTURE.md's: ``{"event": "start"|"step"|"epoch"|"done"|"error", ...}``;
their fields are the ``TypedDict``s below, which the GUI's readers are annotated with.
Epochs in events count from 1; ``eta`` and ``elapsed`` are seconds.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Literal, TypedDict

from core.progress_bar import progress_bar


class Metrics(TypedDict, total=False):
    """A validation pass (``core.train.loop.evaluate``), and in ``done`` the best epoch's."""

    val_loss: float
    val_acc: float
    val_images: int
    val_digit_acc: float  # only where digits are known
    val_acc_by_part: dict[str, float]  # each part of a mixed validation set: a layout of composed images, "labelled"
    epoch: int  # in ``done``: the best epoch
    train_loss: float
    partial: bool  # in ``done``: the best epoch was cut short by a stop


class StartEvent(TypedDict, total=False):
    event: Literal["start"]
    elapsed: float
    epochs: int
    start_epoch: int  # > 0 when resumed
    steps_per_epoch: int
    total_steps: int
    train_images: int
    val_images: int
    device: str
    arch: str
    head: str
    out: str
    compare_val_acc: float  # with --compare: the other model on the same validation images
    compare_model: str


class StepEvent(TypedDict, total=False):
    event: Literal["step"]
    elapsed: float
    epoch: int
    step: int
    global_step: int
    total_steps: int
    loss: float
    lr: float
    images_per_s: float
    eta: float | None


class EpochEvent(Metrics, total=False):
    event: Literal["epoch"]
    elapsed: float
    epochs: int
    step: int
    total_steps: int
    eta: float | None
    lr: float
    images_per_s: float
    best_val_acc: float
    best_epoch: int


class DoneEvent(TypedDict, total=False):
    event: Literal["done"]
    elapsed: float
    model: str  # the best model's file
    metrics: Metrics
    out: str
    stopped_early: bool
    stopped_by: str  # the signal's name, when a signal stopped it
    compare_val_acc: float
    compare_model: str
    onnx: str  # with --onnx: the model's int8 ONNX file (core.models.onnx_export) ...
    onnx_error: str  # ... or why it could not be made


class ErrorEvent(TypedDict, total=False):
    event: Literal["error"]
    elapsed: float
    message: str


ProgressEvent = StartEvent | StepEvent | EpochEvent | DoneEvent | ErrorEvent
EVENT_TYPES = {"start": StartEvent, "step": StepEvent, "epoch": EpochEvent, "done": DoneEvent, "error": ErrorEvent}


class ProgressReporter:
    """Emit training events; only rank 0's reporter is ``enabled``.

    Parameters
    ----------
    mode : {"json", "bar"}
    enabled : bool
    min_interval : float
        Seconds between ``step`` events (a few per second is plenty for a chart).
    """

    def __init__(self, mode: str = "bar", enabled: bool = True, min_interval: float = 0.25):
        self.mode, self.enabled, self.min_interval = mode, enabled, min_interval
        self.log_path = None
        self.t0 = time.time()
        self._last = 0.0
        self._bar = None
        self.total_steps = self.steps_per_epoch = 0
        self.start_epoch = 0

    def log_to(self, path) -> None:
        """Append every later event to ``path`` as well."""
        self.log_path = path

    def due(self) -> bool:
        """True when the next ``step`` event should be sent (throttled)."""
        return time.time() - self._last >= self.min_interval

    def _emit(self, kind: str, event: ProgressEvent) -> None:
        self._last = time.time()
        if not self.enabled:
            return
        record = {"event": kind, "elapsed": round(time.time() - self.t0, 3), **event}
        line = json.dumps(record, default=str)
        if self.log_path is not None:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        if self.mode == "json":
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def _eta(self, done_steps: int) -> float | None:
        """Seconds left (to 0.1 s) at this run's pace so far; None before its first step."""
        run_steps = done_steps - self.start_epoch * self.steps_per_epoch
        if run_steps <= 0:
            return None
        return round((time.time() - self.t0) / run_steps * (self.total_steps - done_steps), 1)

    def start(self, event: StartEvent) -> None:
        """The run begins (``total_steps`` and ``steps_per_epoch`` set the ETA)."""
        self.total_steps, self.steps_per_epoch = event["total_steps"], event["steps_per_epoch"]
        self.start_epoch = event.get("start_epoch", 0)
        self.t0 = time.time()
        self._emit("start", event)
        if self.enabled and self.mode == "bar":
            self._bar = progress_bar(self.total_steps, "step", initial=self.start_epoch * self.steps_per_epoch)
            self._bar.write(
                f"training {event['arch']}/{event['head']} on {event['device']}: "
                f"{event['train_images']} images/epoch, {event['val_images']} validation -> {event['out']}",
                file=sys.stderr,
            )  # tqdm.write's default is stdout

    def step(self, epoch: int, step: int, loss: float, lr: float, images_per_s: float) -> None:
        """A training step (``epoch`` from 0, ``step`` from 1): throttled by the caller with ``due``."""
        done = epoch * self.steps_per_epoch + step
        self._emit(
            "step",
            StepEvent(
                epoch=epoch + 1,
                step=step,
                global_step=done,
                total_steps=self.total_steps,
                loss=loss,
                lr=lr,
                images_per_s=round(images_per_s, 1),
                eta=self._eta(done),
            ),
        )
        if self._bar is not None:
            self._bar.n = done
            self._bar.set_postfix(loss=f"{loss:.4f}", img_s=f"{images_per_s:.0f}", refresh=False)
            self._bar.refresh()

    def epoch(self, event: EpochEvent) -> None:
        """An epoch ended and was validated (``epoch`` from 1); the step count and ETA are added here."""
        done = event["epoch"] * self.steps_per_epoch
        self._emit("epoch", EpochEvent(**event, step=done, total_steps=self.total_steps, eta=self._eta(done)))
        if self._bar is not None:
            self._bar.n = done
            # the learning rate in significant digits, as the Retrain log shows it: a fine-tune's
            # 5e-05 printed to four decimals read "lr 0.0000"
            text = ", ".join(
                f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" for k, v in event.items() if isinstance(v, float)
            )
            if "val_acc_by_part" in event:  # val_acc by layout: the curve to watch when a fine-tune may forget one
                text += ", val_acc by part: " + ", ".join(f"{k} {v:.4f}" for k, v in event["val_acc_by_part"].items())
            self._bar.write(f"epoch {event['epoch']}/{event['epochs']}: {text}", file=sys.stderr)

    def done(self, event: DoneEvent) -> None:
        """The run ended with a model."""
        self._close_bar()
        self._emit("done", event)
        if self.enabled and self.mode == "bar":
            m = event["metrics"]
            print(f"best model: {event['model']} (epoch {m['epoch']}, val_acc {m['val_acc']:.4f})", file=sys.stderr)
            if "onnx" in event or "onnx_error" in event:
                print(f"its ONNX file for the CPU: {event.get('onnx') or event['onnx_error']}", file=sys.stderr)

    def error(self, message: str) -> None:
        """The run failed; ``message`` is one line."""
        self._close_bar()
        self._emit("error", ErrorEvent(message=message))

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
