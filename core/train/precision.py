"""``--precision auto``: bf16 where the device computes it natively and it measures faster here."""

from __future__ import annotations

import sys
import time

import torch

from core.devices import auto_precision, autocast


def choose_precision(model, ctx, images: int = 16) -> str:
    """``--precision auto``: bf16 where the device computes it natively, unless it measures slower here.

    On a CPU the two are timed on one training step of ``images`` images each (after one untimed
    step each), so a CPU whose flags promise bf16 but whose torch build or load makes it slower
    keeps fp32, and the run says so in one line. The model's weights are not changed (no optimizer
    step).
    """
    precision = auto_precision(ctx.device)
    if precision != "bf16" or ctx.device.type != "cpu" or ctx.world > 1:
        return precision  # (torchrun: ranks timing on one shared CPU could choose differently)
    g = torch.Generator().manual_seed(0)  # the run's own random streams stay as seeded
    x = torch.rand(images, 1, 40, 168, generator=g).contiguous(memory_format=torch.channels_last)
    seconds = {}
    was_training = model.training
    model.eval()  # batch-norm statistics stay the model's, not the noise's
    for candidate in ("fp32", "bf16"):
        for _ in range(2):  # the first step of each pays for its kernels' set-up
            t0 = time.perf_counter()
            with autocast(ctx.device, candidate):
                sum_log_probs, _ = model(x)
            sum_log_probs.float().sum().backward()
            seconds[candidate] = time.perf_counter() - t0
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    if seconds["bf16"] >= seconds["fp32"]:
        if ctx.is_main:
            print(
                f"digitsum train: note: bf16 measured slower than fp32 on this CPU ({images / seconds['bf16']:.0f} "
                f"against {images / seconds['fp32']:.0f} images/s): training in fp32",
                file=sys.stderr,
            )
        return "fp32"
    return "bf16"
