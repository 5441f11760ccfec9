"""Training throughput (images/s): `digitsum train`'s own step beside a bare fp32 step, in one run.

    python benchmarks/bench_train.py                                   # CPU, batch 64, 2 rounds of 30 s each
    python benchmarks/bench_train.py --device cuda --batch-size 512 --seconds 20

Two loops on the same network, measured in turns (bare, ours, bare, ours, ...) so that load
from elsewhere falls on both alike:

- **bare**: torchvision's own ResNet-50 (40 outputs: four digits' logits) on one fixed random
  batch of grey images repeated to three channels, fp32, channels_last, no data side: forward,
  cross-entropy, backward, AdamW. What the hardware gives a plain loop. (With ``--arch
  baseline`` the bare loop runs the project's baseline CNN instead.)
- **ours**: core.train.loop's step as `digitsum train` runs it by default: images composed on the
  device with the default augmentation (core.train.datasets), the precision ``--precision auto``
  picks here (core.train.precision.choose_precision), the project's loss.

Prints one JSON line with each loop's median images/s and ``ratio`` = ours / bare. Validation
and checkpoint saving are left out of both.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F

from core.devices import DistContext, autocast, describe_device, resolve_device
from core.models.networks import build_model
from core.train.datasets import TrainData
from core.train.loop import compute_loss
from core.train.precision import choose_precision


def images_per_s(step, batch_size: int, seconds: float, device, warmup: int) -> float:
    """Run ``step()`` for ``warmup`` untimed steps, then for ``seconds``; images per second."""
    for _ in range(warmup):
        step()
    steps, t0 = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        if device.type == "cuda":
            torch.cuda.synchronize()
        if time.perf_counter() - t0 >= seconds:
            return steps * batch_size / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--head", default="digits")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seconds", type=float, default=30.0, help="timed seconds per loop and round (default: 30)")
    p.add_argument("--rounds", type=int, default=2, help="turns of each loop (default: 2)")
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--mnist", default=None, help="digits to compose from (default: the bundled bank)")
    args = p.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True

    if args.arch == "resnet50":
        import torchvision

        bare_model = torchvision.models.resnet50(num_classes=40)
        x = torch.rand(args.batch_size, 1, 40, 168, device=device).expand(-1, 3, -1, -1)
        y = torch.randint(0, 10, (args.batch_size * 4,), device=device)

        def bare_loss():
            return F.cross_entropy(bare_model(x).view(-1, 10), y)  # (4B, 10): the four digits
    else:
        bare_model = build_model(args.arch, args.head)
        x = torch.rand(args.batch_size, 1, 40, 168, device=device)
        y = torch.randint(0, 37, (args.batch_size,), device=device)

        def bare_loss():
            return F.nll_loss(bare_model(x)[0], y)

    bare_model = bare_model.to(device).to(memory_format=torch.channels_last).train()
    x = x.contiguous(memory_format=torch.channels_last)
    bare_opt = torch.optim.AdamW(bare_model.parameters(), lr=1e-4)

    def bare_step():
        loss = bare_loss()
        bare_opt.zero_grad(set_to_none=True)
        loss.backward()
        bare_opt.step()

    model = build_model(args.arch, args.head).to(device).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    precision = choose_precision(model, DistContext(device))
    data = TrainData([f"synthetic:{args.batch_size * 1_000_000}"], args.mnist, device, val_synthetic=16)
    batches = data.epoch(0, args.batch_size)

    def our_step():
        b = next(batches)
        with autocast(device, precision):
            out = model(b.images.contiguous(memory_format=torch.channels_last))
        loss = compute_loss(*out, b.sums, b.digits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    rates = {"bare": [], "ours": []}
    for _ in range(args.rounds):
        for name, step in (("bare", bare_step), ("ours", our_step)):
            rates[name].append(images_per_s(step, args.batch_size, args.seconds, device, args.warmup_steps))
    bare, ours = statistics.median(rates["bare"]), statistics.median(rates["ours"])
    print(
        json.dumps(
            {
                "bench": "train",
                "device": describe_device(device),
                "arch": args.arch,
                "head": args.head,
                "batch_size": args.batch_size,
                "bare_fp32_images_per_s": round(bare, 1),
                "ours_images_per_s": round(ours, 1),
                "ours_precision": precision,
                "ratio": round(ours / bare, 2),
                "rounds": {k: [round(r, 1) for r in v] for k, v in rates.items()},
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
