"""What a run trains and saves (the model, its optimizer and schedule, the weights' moving average) and the
frozen teacher of ``--distill`` it learns from.

state = TrainingState(model, optimizer, scheduler, ema)
state.step_model = torch.compile(ctx.wrap(model))   # what the training steps call
evaluate(state.kept, ...)                           # what is validated and saved
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from core.train.distill import Teacher


@dataclass
class TrainingState:
    """The objects a training step changes, the views of them the loop needs, and the teacher it reads.

    ``model`` is the network itself, whose weights the optimizer steps and a checkpoint holds;
    ``step_model`` is the same network as the steps call it (wrapped for DDP, compiled; the
    model itself until ``script`` sets it). ``ema`` is the running average of ``--ema``, None
    without it. ``teacher`` is the frozen model of ``--distill`` (``core.train.distill``), None without it.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: AveragedModel | None = None
    teacher: Teacher | None = None
    step_model: torch.nn.Module | None = None

    def __post_init__(self):
        if self.step_model is None:
            self.step_model = self.model

    @property
    def kept(self) -> torch.nn.Module:
        """The weights validated and saved: the running average with ``--ema``, else the model itself."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def lr(self) -> float:
        """The learning rate of the last step (the first group's: both follow one schedule)."""
        return self.scheduler.get_last_lr()[0]


def moving_average(model: torch.nn.Module, decay: float) -> AveragedModel | None:
    """``--ema DECAY``: an exponential moving average of ``model``'s weights and batch-norm statistics, updated
    after each step (None for a decay of 0: off)."""
    if not decay:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
