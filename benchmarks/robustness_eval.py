"""Accuracy of a model on degraded copies of a labelled folder: noise, JPEG, blur, 2x, inverted, RGB, 16-bit, RGBA.

    digitsum synth /tmp/heldout --count 10000 --seed 1          # held-out writers (bundled bank)
    python benchmarks/robustness_eval.py /tmp/heldout --count 1000 [--model M]

Each variant is written as real image files and scored by `digitsum evaluate`, so the
figures include the reader's own handling (resizing, polarity detection, JPEG decoding).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

VARIANTS = {
    "clean": lambda im, rng: im,
    "noise (sigma 20/255)": lambda im, rng: Image.fromarray(
        np.clip(np.asarray(im, np.float32) + rng.normal(0, 20, (im.height, im.width)), 0, 255).astype(np.uint8)
    ),
    "jpeg (quality 50)": None,  # saved as JPEG instead of PNG
    "blur (gaussian r=1)": lambda im, rng: im.filter(ImageFilter.GaussianBlur(1)),
    "2x size (80x336)": lambda im, rng: im.resize((im.width * 2, im.height * 2), Image.BICUBIC),
    "inverted (dark on light)": lambda im, rng: Image.eval(im, lambda v: 255 - v),
    # a colour scan: white-ish ink with a tint on a dark blue-grey paper, saved as RGB
    "RGB (tinted)": lambda im, rng: Image.merge(
        "RGB", [Image.eval(im, lambda v, a=a, b=b: int(b + v * a)) for a, b in ((0.85, 20), (0.9, 25), (0.8, 40))]
    ),
    # 16-bit greyscale over the full 0..65535 range: the reader must scale it down, not clip it
    "16-bit greyscale": lambda im, rng: Image.fromarray(np.asarray(im, np.uint16) * 257),
    # drawn on a transparent canvas: black ink whose opacity is the stroke, nothing elsewhere
    "RGBA (ink on transparent)": lambda im, rng: Image.merge("RGBA", [Image.new("L", im.size, 0)] * 3 + [im]),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="folder with PNGs and labels.csv")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--model", default=None)
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from core.labels.labels_csv import read_labels_csv, write_labels_csv

    labels = read_labels_csv(Path(args.folder) / "labels.csv")
    names = sorted(labels)[: args.count]
    rng = np.random.default_rng(0)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant, fn in VARIANTS.items():
            out = Path(tmp) / str(len(results))
            out.mkdir()
            new_labels = {}
            for name in names:
                im = Image.open(Path(args.folder) / name).convert("L")
                if fn is None:
                    new = Path(name).with_suffix(".jpg").name
                    im.save(out / new, quality=50)
                else:
                    new = name
                    fn(im, rng).save(out / new)
                new_labels[new] = labels[name]
            write_labels_csv(out / "labels.csv", new_labels)
            cmd = [
                sys.executable,
                "-m",
                "core",
                "evaluate",
                str(out),
                "--labels",
                str(out / "labels.csv"),
                "--json",
                "-q",
            ]
            if args.model:
                cmd += ["--model", args.model]
            res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            results[variant] = res
            print(
                f"{variant:28s} accuracy {res['accuracy']:.4f}  per-digit {res.get('digit_accuracy', float('nan')):.4f}"
                f"  ({res['count']} images)",
                flush=True,
            )
    return results


if __name__ == "__main__":
    main()
