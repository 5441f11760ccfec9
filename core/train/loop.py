"""The training loop: epochs of steps, a validation after each, the saves and the events.

    stopped = run_epochs(state, data, args, ctx, reporter, stop, saver, start_epoch)

Every rank of a DDP run goes through the same steps and the same epochs: whatever ends an
epoch or the run early (a stop request, a non-finite loss) is agreed on by all of them, or the
others would wait forever in their next ``all_reduce``.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import torch
import torch.nn.functional as F

from core.devices import autocast
from core.errors import TrainingError
from core.train.events import EpochEvent, Metrics
from core.train.freezing import set_training_mode
from core.train.saver import CheckpointSaver
from core.train.state import TrainingState


class EpochResult(NamedTuple):
    """What ``train_one_epoch`` reports of one pass."""

    train_loss: float  # mean over the images this pass trained on, all ranks
    images_per_s: float  # all ranks together
    completed: bool  # it ran to the end of the epoch (False: a stop request cut it short)
    steps_done: int | None  # the steps it made before a stop (None: completed)


def run_epochs(state: TrainingState, data, args, ctx, reporter, stop, saver: CheckpointSaver, start_epoch: int) -> bool:
    """Train from epoch ``start_epoch`` (from 0) to ``args.epochs``; return whether a stop request ended it early.

    Raises
    ------
    core.errors.TrainingError
        A non-finite loss; the last model saved is kept.
    """
    for epoch in range(start_epoch, args.epochs):
        # train: this rank's batches, until the epoch ends or a stop is asked for
        result = train_one_epoch(state, data, epoch, args, ctx, reporter, stop)
        # stopped mid-epoch: keep the best model and the checkpoint of the last whole epoch; only a first
        # epoch cut short after some steps goes on to be validated, for a model at all
        if not result.completed and (saver.has_model or result.steps_done == 0):
            return True
        # validate what is kept (the moving average with --ema)
        metrics = evaluate(state.kept, data, args, ctx)
        # save: the model if it is the best yet, the checkpoint if the epoch ran whole
        saver.save(state, epoch, metrics, result.train_loss, result.completed, args)
        # report the epoch, if it ran whole
        if result.completed:
            reporter.epoch(
                EpochEvent(
                    epoch=epoch + 1,
                    epochs=args.epochs,
                    train_loss=result.train_loss,
                    lr=state.lr,
                    images_per_s=result.images_per_s,
                    best_val_acc=saver.best["val_acc"],
                    best_epoch=saver.best["epoch"],
                    **metrics,
                )
            )
        # stop together: every rank leaves at the same epoch
        if stop.agreed(ctx):
            return not result.completed or epoch + 1 < args.epochs  # (asked as the last epoch ended: it ran whole)
    return False


def train_one_epoch(state: TrainingState, data, epoch: int, args, ctx, reporter, stop) -> EpochResult:
    """One pass over this rank's batches of epoch ``epoch`` (from 0), or up to a stop request.

    Raises
    ------
    core.errors.TrainingError
        A non-finite loss.
    """
    set_training_mode(state.model, args)  # the model's own modules: step_model wraps the same ones
    total, seen, t0 = torch.zeros((), device=ctx.device), 0, time.time()
    bad = torch.zeros((), dtype=torch.bool, device=ctx.device)
    any_rank_stops = False
    for step, batch in enumerate(data.epoch(epoch, args.batch_size)):
        # stop? checked before the step: a request during the last step still lets the epoch end whole
        if stop.requested if ctx.world == 1 else any_rank_stops:
            completed, steps_done = False, step
            break
        # forward
        x = batch.images.contiguous(memory_format=torch.channels_last)
        with autocast(ctx.device, args.precision):
            sum_log_probs, digit_logits = state.step_model(x)
        loss = compute_loss(sum_log_probs, digit_logits, batch.sums, batch.digits)
        if state.teacher is not None:  # --distill: and what the teacher reads right, as it reads it
            loss = loss + args.distill_weight * state.teacher.loss(x, digit_logits, batch.sums, batch.digits)
        # backward, step, schedule, average
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        state.scheduler.step()
        if state.ema is not None:
            state.ema.update_parameters(state.step_model)
        # accumulate on the device: reading loss.item() every step would stall a GPU
        bad |= ~torch.isfinite(loss.detach())
        total += loss.detach() * len(batch.sums)
        seen += len(batch.sums)
        # agree on stopping or failing: every rank at the same step, or the others hang in the next all_reduce
        if ctx.world > 1:
            flags = ctx.all_reduce_sum(
                torch.stack([torch.tensor(float(stop.requested), device=ctx.device), bad.float()])
            )
            any_rank_stops, nonfinite = (flags > 0).tolist()
        else:
            nonfinite = (reporter.due() or stop.requested) and bool(bad.item())
        if nonfinite:
            raise TrainingError(
                f"non-finite loss in epoch {epoch + 1} by step {step + 1}; "
                "try a lower --lr; the last good model is kept"
            )
        # report: each epoch's first step, then a few per second
        if step == 0 or reporter.due() or stop.requested:
            reporter.step(epoch, step + 1, loss.item(), state.lr, seen * ctx.world / (time.time() - t0))
    else:
        completed, steps_done = True, None
    if bad.item():
        raise TrainingError(f"non-finite loss in epoch {epoch + 1}; try a lower --lr; the last good model is kept")
    train_loss = ctx.all_reduce_mean(total / max(seen, 1))
    return EpochResult(train_loss, seen * ctx.world / (time.time() - t0), completed, steps_done)


def compute_loss(sum_log_probs, digit_logits, sums, digits):
    """NLL of the labelled sum, plus digit cross-entropy where the digits are known."""
    loss = F.nll_loss(sum_log_probs, sums)
    if digit_logits is not None:
        known = digits[:, 0] >= 0
        if known.any():
            loss = loss + F.cross_entropy(digit_logits[known].reshape(-1, 10), digits[known].reshape(-1))
    return loss


@torch.inference_mode()
def evaluate(model, data, args, ctx) -> Metrics:
    """Loss, exact-sum accuracy and per-digit accuracy on this run's validation set, and the accuracy of each of
    its parts (``data.val_groups``: the layouts of composed validation, labelled images) where it has several."""
    model.eval()
    counts = torch.zeros(5, device=ctx.device, dtype=torch.float64)  # n, loss sum, correct, digits right, digits known
    parts = len(data.val_groups) if len(data.val_groups) > 1 else 0  # (one part: val_acc says it)
    by_part = torch.zeros(2, parts, device=ctx.device, dtype=torch.float64)  # images, correct
    for batch in data.val_batches(args.batch_size * 2):
        with autocast(ctx.device, args.precision):
            sum_log_probs, digit_logits = model(batch.images.contiguous(memory_format=torch.channels_last))
        right = sum_log_probs.argmax(1) == batch.sums
        counts[0] += len(batch.sums)
        counts[1] += compute_loss(sum_log_probs, digit_logits, batch.sums, batch.digits).double() * len(batch.sums)
        counts[2] += right.sum()
        if parts:
            by_part[0] += torch.bincount(batch.groups, minlength=parts)
            by_part[1] += torch.bincount(batch.groups, weights=right.double(), minlength=parts)
        if digit_logits is not None:
            known = batch.digits >= 0
            counts[3] += ((digit_logits.argmax(-1) == batch.digits) & known).sum()
            counts[4] += known.sum()
    counts = ctx.all_reduce_sum(counts)
    n = max(counts[0].item(), 1)
    out = Metrics(val_loss=counts[1].item() / n, val_acc=counts[2].item() / n, val_images=int(counts[0].item()))
    if counts[4] > 0:
        out["val_digit_acc"] = counts[3].item() / counts[4].item()
    if parts:
        images, correct = ctx.all_reduce_sum(by_part).tolist()
        out["val_acc_by_part"] = {g: c / i for g, i, c in zip(data.val_groups, images, correct, strict=True)}
    return out
