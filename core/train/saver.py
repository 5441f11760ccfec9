"""A run's two files, and going on from the second: ``best.safetensors`` and ``checkpoint.pt``.

``CheckpointSaver`` owns both, as timm's ``CheckpointSaver`` does: after each validation it
keeps the best metrics so far, writes the model file when they improved and, after a whole
epoch, the checkpoint that ``--resume`` goes on from. ``restore_checkpoint`` is that going on.

    saver = CheckpointSaver(run, meta, writes=ctx.is_main)
    start_epoch, saver.best = restore_checkpoint(checkpoint, state)    # --resume
    saver.save(state, epoch, metrics, train_loss, completed, args)     # after each validation
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from core.models.checkpoint import save_checkpoint, save_model
from core.models.store import MODEL_NAME
from core.train.events import Metrics
from core.train.resume_check import saved_rng_states
from core.train.state import TrainingState

CHECKPOINT_NAME = "checkpoint.pt"
NO_MODEL_YET = -1.0  # the best val_acc before any epoch was validated


class CheckpointSaver:
    """The best model and the last whole epoch's checkpoint of one run, and the best metrics so far.

    Parameters
    ----------
    run : Path
        The run folder, claimed by this process (``core.train.run_folder``).
    meta : dict
        The model file's metadata (``core.models.checkpoint.save_model``) but for what each save
        adds: the best ``metrics`` and ``epochs_trained``.
    writes : bool
        Whether this process writes the files: rank 0 under DDP. Every rank keeps ``best``
        alike (validation metrics are reduced over all ranks).
    best : Metrics, optional
        The best so far of a resumed run (its checkpoint's); none yet otherwise.
    """

    def __init__(self, run: Path, meta: dict, writes: bool, best: Metrics | None = None):
        self.run = Path(run)
        self.meta = meta
        self.writes = writes
        self.best = best if best is not None else Metrics(val_acc=NO_MODEL_YET)

    @property
    def model_path(self) -> Path:
        return self.run / MODEL_NAME

    @property
    def has_model(self) -> bool:
        """Whether a validated model exists (written by this run, or by the run it resumes)."""
        return self.best["val_acc"] >= 0

    def save(self, state: TrainingState, epoch: int, metrics: Metrics, train_loss: float, completed: bool, args):
        """After validating epoch ``epoch`` (from 0): the model file if it is the best yet, the checkpoint if whole.

        An epoch cut short by a stop (``completed`` False) still gives a usable model, flagged
        ``partial``, but never a checkpoint claiming the epoch finished: ``--resume`` redoes it
        from the last whole epoch.

        Returns
        -------
        bool
            Whether ``metrics`` beat the best so far (and became it).
        """
        improved = metrics["val_acc"] > self.best["val_acc"]
        if improved:
            self.best = Metrics(**metrics, epoch=epoch + 1, train_loss=train_loss)
            if not completed:
                self.best["partial"] = True
        if not self.writes:
            return improved
        if improved:
            trained = epoch + 1 if completed else epoch
            save_model(self.model_path, state.kept, {**self.meta, "metrics": self.best, "epochs_trained": trained})
        if completed:
            save_checkpoint(
                self.run / CHECKPOINT_NAME,
                {
                    "model": state.model.state_dict(),
                    "optimizer": state.optimizer.state_dict(),
                    "scheduler": state.scheduler.state_dict(),
                    "epoch": epoch + 1,
                    "best": self.best,
                    "rng": rng_state(),
                    "args": vars(args),
                    **({"ema": state.ema.module.state_dict()} if state.ema is not None else {}),
                },
            )
        return improved


def restore_checkpoint(checkpoint: dict, state: TrainingState) -> tuple[int, Metrics]:
    """Put a checkpoint (checked by ``core.train.resume_check``) back into ``state`` and the random generators.

    Returns
    -------
    tuple of (int, Metrics)
        The epoch to go on from (epochs count from 0), and the best metrics so far.
    """
    state.model.load_state_dict(checkpoint["model"])
    state.optimizer.load_state_dict(checkpoint["optimizer"])
    state.scheduler.load_state_dict(checkpoint["scheduler"])
    if state.ema is not None:
        state.ema.module.load_state_dict(checkpoint.get("ema", checkpoint["model"]))
        state.ema.n_averaged.fill_(1)  # the next update averages into the loaded weights instead of copying over them
    set_rng_state(checkpoint["rng"])
    return checkpoint["epoch"], Metrics(**checkpoint["best"])


def rng_state() -> dict:
    """The process's random states (torch, numpy, Python; CUDA's where there is one), as a checkpoint keeps them."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps([keys.tolist(), pos, has_gauss, gauss]),
        "python": json.dumps(random.getstate()[1]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Set the process's random states to ``rng_state``'s ``state``."""
    torch.set_rng_state(state["torch"])
    numpy_state, python_state = saved_rng_states(state)  # (checked on fresh generators by check_checkpoint)
    np.random.set_state(numpy_state)
    random.setstate(python_state)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
