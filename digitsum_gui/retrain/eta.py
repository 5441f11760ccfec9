"""Speed and time left of a training run, measured on this side from its progress events.

The child's own figures come with each ``step`` event and go stale in between: on a CPU
a ResNet-50 step can take ten seconds, and its first step also pays for warming up, so the
dialog once showed "2 images/s, ETA 1 s" for nine seconds at 50%. ``TrainingClock`` keeps
the time each step was reported here and estimates from that:

- images/s over the steps after the first one (the first pays for warm-up), None until two
  steps are in;
- time left from the average time per step so far, counted up to *now*: while a step takes
  longer than the others, the estimate grows instead of sitting at "1 s".

Plain Python (no Qt): ``now`` is any monotonic clock, replaceable in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core.train.events import ProgressEvent


class TrainingClock:
    """Feed it the run's events (``add``); ask ``images_per_s()`` and ``seconds_left()`` any time."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self.now = now
        self.reset()

    def reset(self) -> None:
        self.started: float | None = None  # when the start event came
        self.first_step = 0  # global step the run started from (a resumed run starts late)
        self.total_steps = 0
        self.images_per_step = 0.0
        self.points: list[tuple[float, int]] = []  # (time here, global step done), steps increasing

    def add(self, event: ProgressEvent) -> None:
        """Take a progress event (others than start / step / epoch are ignored)."""
        kind = event.get("event")
        if kind == "start":
            self.reset()
            self.started = self.now()
            steps_per_epoch = int(event.get("steps_per_epoch") or 0)
            self.total_steps = int(event.get("total_steps") or 0)
            self.first_step = int(event.get("start_epoch") or 0) * steps_per_epoch
            if steps_per_epoch:
                self.images_per_step = float(event.get("train_images") or 0) / steps_per_epoch
        elif kind in ("step", "epoch") and self.started is not None:
            done = int(event.get("global_step", event.get("step", 0)) or 0)
            if done > (self.points[-1][1] if self.points else self.first_step):
                self.points.append((self.now(), done))

    def images_per_s(self) -> float | None:
        """Training images per second over the steps after the first; None until that is known."""
        if len(self.points) < 2 or not self.images_per_step:
            return None
        (t0, s0), (t1, s1) = self.points[0], self.points[-1]
        return (s1 - s0) * self.images_per_step / (t1 - t0) if t1 > t0 else None

    def seconds_left(self) -> float | None:
        """Time to the last step at the pace so far, the time since the last report included."""
        if not self.points or not self.total_steps:
            return None
        if len(self.points) >= 2:  # leave the first step (warm-up) out when there is more to go on
            since, done = self.points[0][0], self.points[-1][1] - self.points[0][1]
        else:
            since, done = self.started, self.points[-1][1] - self.first_step
        left = self.total_steps - self.points[-1][1]
        if done <= 0 or left <= 0:
            return 0.0 if left <= 0 else None
        return (self.now() - since) / done * left
