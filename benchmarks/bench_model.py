"""Model-only inference throughput (images/s) at several batch sizes: no decoding, no I/O.

python benchmarks/bench_model.py --device cuda --batch-sizes 256 1024 4096
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from core.devices import autocast, describe_device, resolve_device
from core.models.checkpoint import load_model
from core.models.networks import build_model
from core.predict.torch_precision import prepare_for_inference


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="model file (default: a fresh resnet50/digits)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 1024, 4096])
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True
    precision = "bf16"
    model = load_model(args.model, "cpu")[0] if args.model else build_model().eval()
    model = prepare_for_inference(model, precision).to(device)  # as the Predictor runs it: folded BN, bf16 convs
    for bs in args.batch_sizes:
        x = torch.rand(bs, 1, 40, 168, device=device).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), autocast(device, precision):
            for _ in range(3):
                model(x)
            if device.type == "cuda":
                torch.cuda.synchronize()
            n, t0 = 0, time.time()
            while time.time() - t0 < args.seconds:
                model(x)
                n += bs
                if device.type == "cuda":
                    torch.cuda.synchronize()
            rate = n / (time.time() - t0)
        print(
            json.dumps(
                {
                    "bench": "model",
                    "device": describe_device(device),
                    "batch_size": bs,
                    "precision": precision,
                    "images_per_s": round(rate, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
