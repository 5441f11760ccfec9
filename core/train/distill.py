"""``--distill MODEL``: keep what a model already reads while it learns something new.

    teacher = load_teacher(args, ctx)   # args.distill: the model file
    loss = loss + args.distill_weight * teacher.loss(x, digit_logits, batch.sums, batch.digits)

A fine-tune aimed at one weakness (touching neighbours) trades away a little of everything else:
every earlier run gained 2-4 points in the touch layout and lost 0.1-0.3 in the others. Here the
network being trained is also pulled towards the teacher's digit distributions (usually the
model it started from, ``--init``) on the same images, softened by ``TEMPERATURE``: learning
without forgetting. Only rows the teacher reads right are taught by it, so where it is wrong
(most often on the very layouts being taught) the labels alone decide.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.devices import autocast
from core.errors import TrainingError
from core.models.checkpoint import ModelFileError, load_model
from core.models.info import ModelInfo

TEMPERATURE = 2.0  # softens both distributions, so the teacher's second choices teach too (Hinton et al. 2015)


class Teacher:
    """A frozen model whose digit distributions the training steps are pulled towards.

    Parameters
    ----------
    model : torch.nn.Module
        A digits-head network, in eval mode (its own batch-norm statistics), on the run's device.
    info : core.models.info.ModelInfo
        Its file's description (name, metadata).
    precision : str
        The run's precision, for the teacher's forward pass too.
    """

    def __init__(self, model: torch.nn.Module, info: ModelInfo, precision: str):
        self.model = model.eval().requires_grad_(False)
        self.info = info
        self.precision = precision

    def loss(
        self, x: torch.Tensor, digit_logits: torch.Tensor, sums: torch.Tensor, digits: torch.Tensor
    ) -> torch.Tensor:
        """The mean KL divergence from the teacher's digit distributions to the student's, at ``TEMPERATURE``.

        Parameters
        ----------
        x : (B, 1, 40, 168) the batch the student just read
        digit_logits : (B, 4, 10) the student's digit logits for it
        sums, digits : the batch's labels; a row counts only if the teacher reads its sum, and
            every digit that is known, right

        Returns
        -------
        torch.Tensor
            A scalar, scaled by ``TEMPERATURE ** 2`` so its gradients weigh as the labels' do;
            zero when the teacher reads no row right.
        """
        with torch.no_grad(), autocast(x.device, self.precision):
            teacher_sum_log_probs, teacher_logits = self.model(x)
        right = teacher_sum_log_probs.argmax(1) == sums
        right &= ((teacher_logits.argmax(-1) == digits) | (digits < 0)).all(1)
        if not right.any():
            return digit_logits.sum() * 0.0  # (a zero with the graph: backward takes it alone too)
        student = F.log_softmax(digit_logits[right].float() / TEMPERATURE, dim=-1)
        target = F.log_softmax(teacher_logits[right].float() / TEMPERATURE, dim=-1)
        kl = F.kl_div(student, target, log_target=True, reduction="none").sum(-1)  # (rows, 4)
        return kl.mean() * TEMPERATURE**2


def load_teacher(args, ctx) -> Teacher | None:
    """``--distill MODEL`` as a ``Teacher`` on the run's device (None without the flag).

    Raises
    ------
    core.errors.TrainingError
        A model file that cannot be read, or one that does not read digits.
    """
    if not getattr(args, "distill", None):
        return None
    if args.head != "digits":
        raise TrainingError(f"--distill teaches digit distributions; a {args.arch}/{args.head} model has none")
    try:
        model, info = load_model(args.distill, ctx.device)
    except ModelFileError as exc:
        raise TrainingError(f"--distill: {exc}") from None
    if info.head != "digits":
        raise TrainingError(f"--distill {info.name} is a {info.arch}/{info.head} model; it must read digits")
    return Teacher(model.to(memory_format=torch.channels_last), info, args.precision)
