"""Training throughput (images/s) of a recipe, measured with the real training step.

    python benchmarks/bench_train.py --device cuda --batch-size 512 --seconds 20
    python benchmarks/bench_train.py --device cpu --batch-size 32 --seconds 30

Uses core.train's own loss, precision and data path (images composed on the device), so
the figure is what `digitsum train` gets, minus validation and checkpoint saving.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from core.model import build_model
from core.runtime import autocast, describe_device, resolve_device
from core.train import compute_loss
from core.trainsets import TrainData


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--head", default="digits")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--seconds", type=float, default=20.0, help="timed seconds after warm-up")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--mnist", default=None)
    args = p.parse_args()
    device = resolve_device(args.device)
    precision = "bf16" if device.type == "cuda" else "fp32"
    torch.backends.cudnn.benchmark = True
    data = TrainData([f"synthetic:{args.batch_size * 100_000}"], args.mnist, device, val_synthetic=16)
    model = build_model(args.arch, args.head).to(device).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = data.epoch(0, args.batch_size)
    steps, images, t0 = 0, 0, None
    while True:
        b = next(batches)
        with autocast(device, precision):
            out = model(b.images.contiguous(memory_format=torch.channels_last))
        loss = compute_loss(*out, b.sums, b.digits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        if steps == args.warmup_steps:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0, images = time.time(), 0
        elif t0 is not None:
            images += len(b.sums)
            if steps % 10 == 0 or device.type == "cpu":
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if time.time() - t0 >= args.seconds:
                    break
    rate = images / (time.time() - t0)
    print(
        json.dumps(
            {
                "bench": "train",
                "device": describe_device(device),
                "arch": args.arch,
                "head": args.head,
                "batch_size": args.batch_size,
                "precision": precision,
                "images_per_s": round(rate, 1),
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
