"""Exact-sum accuracy of model files on held-out composed images (digits no training saw).

    python benchmarks/heldout_eval.py MODEL... --count 10000 --seed 1 --mnist mnist-train.npz
    python benchmarks/heldout_eval.py resources/models/digitsum-resnet50.safetensors --hardest 8

``--hardest N`` also lists the N held-out digits read wrong most often (each digit fills
about 16 of the 40,000 digit slots, so a few hard ones move the figure), after a line that says
how many distinct digits all the digit errors come from. The images are the ones
`digitsum synth OUT --count 10000 --seed 1 [--layout L]` writes from the bundled bank (the
report half of MNIST's test writers), or with `--mnist M --split holdout` from M's held-out
side (the same CPU composer and seed), so `digitsum evaluate` on that folder reproduces
these figures (there with the int8 file and the second look; here fp32, second look off).
"""

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from PIL import Image

from core.devices import resolve_device
from core.models.checkpoint import load_model
from core.spec import LAYOUTS
from core.synth.bank import DigitBank, load_bank
from core.synth.composer import compose_numpy


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mnist", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--layout", default="synth", choices=LAYOUTS, help="composer layout (default: synth)")
    p.add_argument("--hardest", type=int, default=0, help="list the N digits read wrong most often")
    p.add_argument("--picture", metavar="PNG", help="with --hardest: also draw those digits, left to right, 4x")
    args = p.parse_args()
    device = resolve_device(args.device)
    # the held-out digits only: the bundled bank's strangers (the report half) or --mnist's held-out
    # side, as `digitsum synth` composes them (the bundled bank's training-writer digits never count)
    bank = load_bank(args.mnist).subset("holdout")
    images, digits = compose_numpy(bank, args.count, args.seed, args.layout)
    # the same images again, labelled with each digit's place in the bank instead of its value
    places = DigitBank(bank.x, np.arange(len(bank.y)), bank.index)
    _, picks = compose_numpy(places, args.count, args.seed, args.layout)
    assert (bank.y[picks] == digits).all()  # the same draws, so the same digits in the same slots
    x = torch.from_numpy(images).unsqueeze(1)
    sums = torch.from_numpy(digits.sum(1))
    for path in args.models:
        model, info = load_model(path, device)
        correct, digit_ok, read = 0, 0, []
        with torch.inference_mode():
            for s in range(0, len(x), 500):
                lp, dl = model(x[s : s + 500].to(device).float() / 255)
                correct += (lp.argmax(1).cpu() == sums[s : s + 500]).sum().item()
                if dl is not None:
                    read.append(dl.argmax(-1).cpu().numpy())
                    digit_ok += (read[-1] == digits[s : s + 500]).sum()
        row = {
            "model": path,
            "arch": info.arch,
            "head": info.head,
            "heldout_acc": correct / len(x),
            "count": len(x),
            "held_out_by": bank.split_by,
        }  # "writer": writers no training saw; "index": digits only
        if info.reads_digits:
            row["heldout_digit_acc"] = int(digit_ok) / (4 * len(x))
        print(json.dumps(row))
        if args.hardest and read:
            wrong = np.concatenate(read) != digits
            misses = collections.Counter(picks[wrong].tolist())
            uses = collections.Counter(picks.ravel().tolist())
            top = sum(n for _, n in misses.most_common(args.hardest))
            print(
                f"  {wrong.sum()} digit errors from {len(misses)} distinct digits of {len(uses)}; "
                f"the {min(args.hardest, len(misses))} below make {top} of them"
            )
            if args.picture:
                _draw_digits(bank.x[[i for i, _ in misses.most_common(args.hardest)]], args.picture)
            for i, n in misses.most_common(args.hardest):
                read_as = collections.Counter(np.concatenate(read)[wrong & (picks == i)].tolist())
                print(
                    f"  MNIST #{bank.index[i]} ({bank.y[i]}): wrong in {n} of {uses[i]} images, read as "
                    + ", ".join(f"{d} x{c}" for d, c in read_as.most_common())
                )


def _draw_digits(x: np.ndarray, path: str, scale: int = 4, gap: int = 4) -> None:
    """Digits (n, 28, 28) side by side on black, each ``scale`` times its size, as a PNG."""
    size = 28 * scale
    strip = np.zeros((size, len(x) * (size + gap) - gap), np.uint8)
    for k, digit in enumerate(x):
        strip[:, k * (size + gap) : k * (size + gap) + size] = digit.repeat(scale, 0).repeat(scale, 1)
    Image.fromarray(strip).save(path)


if __name__ == "__main__":
    main()
