"""The optimizer and its learning-rate schedule, as the model's recipe (``core.spec.Recipe``) names them.

Their state-dict layout is what a checkpoint holds and ``core.train.resume_check`` checks: two
parameter groups (weights, then biases and norms) and a ``LambdaLR`` over both.
"""

from __future__ import annotations

import math

import torch


def make_optimizer(model: torch.nn.Module, args) -> torch.optim.Optimizer:
    """Adam or AdamW (``args.optimizer``) at ``args.lr``, with weight decay on the weights only.

    Biases and batch-norm parameters (``ndim <= 1``) are not decayed: shrinking them towards 0
    only shifts the activations and costs accuracy.
    """
    params = [
        {"params": [p for p in model.parameters() if p.ndim > 1], "weight_decay": args.weight_decay},
        {"params": [p for p in model.parameters() if p.ndim <= 1], "weight_decay": 0.0},
    ]
    kind = torch.optim.AdamW if args.optimizer == "adamw" else torch.optim.Adam
    return kind(params, lr=args.lr)


def make_schedule(optimizer: torch.optim.Optimizer, args, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """``args.schedule``: "constant", or "cosine" after a linear warm-up over ``args.warmup`` of the steps."""
    if args.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    warm = max(1, int(args.warmup * total_steps))

    def factor(s):
        if s < warm:
            return (s + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / max(1, total_steps - warm))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
