"""The report's inference notebook, as a script: the baseline that bench_predict.py times.

    python benchmarks/baseline_predict.py FOLDER [--output preds.csv]

Pillow opens each PNG, it becomes a float array, arrays are stacked 64 at a time and run
through torchvision's ResNet-50 with the report's 128-d head, fp32, eager, NCHW, under
torch.no_grad, on the CPU. Nothing is overlapped or tuned: that is the point. Weights are
random (a fresh report model): speed does not depend on them, and the report shipped no file.
bench_predict.py times the whole process, imports included, from start to last prediction.
"""

import argparse
import os
import sys
import time
from pathlib import Path

T0 = time.time()

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

from core.models.networks import IMAGENET_MEAN, IMAGENET_STD, report_head  # noqa: E402

BATCH = 64


def report_model() -> nn.Module:
    """torchvision's ResNet-50 with the report's head: Linear(2048, 128), ReLU, Dropout(0.3), Linear(128, 37)."""
    model = torchvision.models.resnet50()
    model.fc = report_head()
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--output", default=None, help="write file,predicted_sum lines here (default: none)")
    args = p.parse_args()
    files = sorted(f for f in os.listdir(args.folder) if f.lower().endswith(".png"))
    model = report_model().eval()  # fp32, NCHW, CPU
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    preds = []
    with torch.no_grad():
        for s in range(0, len(files), BATCH):
            batch = [
                np.array(Image.open(os.path.join(args.folder, f)), dtype=np.float32) / 255.0
                for f in files[s : s + BATCH]
            ]
            x = torch.tensor(np.stack(batch)).unsqueeze(1).expand(-1, 3, -1, -1)  # (B, 3, 40, 168), grey to RGB
            preds.extend(model((x - mean) / std).argmax(1).tolist())
    if args.output:
        with open(args.output, "w") as f:
            f.writelines(f"{name},{p}\n" for name, p in zip(files, preds, strict=True))
    elapsed = time.time() - T0
    print(
        f"baseline: {len(preds)} images in {elapsed:.1f} s in-process ({len(preds) / elapsed:.1f} images/s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
