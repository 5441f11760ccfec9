"""Exact-sum accuracy of model files on held-out composed images (digits no training saw).

    python benchmarks/heldout_eval.py MODEL... --count 10000 --seed 1 --mnist mnist-train.npz

The images are the ones `digitsum synth OUT --count 10000 --seed 1 --split holdout --mnist
mnist-train.npz` writes (the same CPU composer and seed), so `digitsum evaluate` on that
folder reproduces these figures.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from core.checkpoint import load_model  # noqa: E402
from core.runtime import resolve_device  # noqa: E402
from core.synth import compose_numpy, load_bank  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mnist", default=None)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    device = resolve_device(args.device)
    bank = load_bank(args.mnist).subset("holdout") if args.mnist else load_bank()
    images, digits = compose_numpy(bank, args.count, args.seed)
    x = torch.from_numpy(images).unsqueeze(1)
    sums = torch.from_numpy(digits.sum(1))
    for path in args.models:
        model, info = load_model(path, device)
        correct, digit_ok = 0, 0
        with torch.inference_mode():
            for s in range(0, len(x), 500):
                lp, dl = model(x[s:s + 500].to(device).float() / 255)
                correct += (lp.argmax(1).cpu() == sums[s:s + 500]).sum().item()
                if dl is not None:
                    digit_ok += (dl.argmax(-1).cpu() == torch.from_numpy(digits[s:s + 500])).sum().item()
        row = {"model": path, "arch": info.arch, "head": info.head, "heldout_acc": correct / len(x), "count": len(x)}
        if info.reads_digits:
            row["heldout_digit_acc"] = digit_ok / (4 * len(x))
        print(json.dumps(row))


if __name__ == "__main__":
    main()
