"""The default model on the CPU with next to nothing else: images/s of ``Predictor.predict`` on an array.

    python benchmarks/bench_cpu_model.py                      # this checkout: auto (int8) and fp32
    git worktree add /tmp/before COMMIT && python benchmarks/bench_cpu_model.py --before /tmp/before

Each side runs in a fresh process (that checkout's code, these packages): its default model in
the Predictor's automatic precision and in fp32, on 1,024 composed images (the bundled bank's
held-out writers) in one uint8 .npy array, so that reading an image is a memory copy: the
model's threads (the Predictor's own, batches of 64) with the second look off, after one
warm-up pass; the best of ``--rounds`` passes is reported. The sides alternate, so load from
other processes hits them alike. Goal: int8 at least as fast as before.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, checkout_command, checkout_model, load_average, machine

CHILD = r"""
import json, sys, tempfile, time
import numpy as np
from core.inputs.listing import list_inputs
from core.predict.predictor import Predictor
from core.synth.bank import load_bank
from core.synth.composer import compose_numpy

model, precision, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
images, _ = compose_numpy(load_bank().subset("holdout"), 1024, seed=3)
array = tempfile.mkdtemp() + "/images.npy"
np.save(array, images)
items = list_inputs([array])
p = Predictor(model, device="cpu", precision=precision, second_look_below=0)
best = 0.0
for r in range(rounds + 1):  # the first pass warms up
    t0 = time.perf_counter()
    rows = sum(len(batch) for batch in p.predict(items))
    best = max(best, rows / (time.perf_counter() - t0)) if r else 0.0
print(json.dumps({"precision": p.precision, "images_per_s": round(best, 1)}))
"""


def side(env: dict, model: Path, precision: str, rounds: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(model), precision, str(rounds)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", default=None, metavar="DIR", help="also run this checkout (an earlier commit)")
    p.add_argument("--rounds", type=int, default=3, help="passes over the images per side (default: 3)")
    args = p.parse_args()
    sides = {"digitsum": (dict(os.environ, PYTHONPATH=str(ROOT)), checkout_model(None))}
    if args.before:
        sides["before"] = (checkout_command(args.before)[1], checkout_model(args.before))
    result = {"bench": "cpu_model", "machine": machine(), "images": 1024, "batch_size": 64}
    for precision in ("auto", "fp32"):
        for name, (env, model) in sides.items():
            load = load_average()
            got = side(env, model, precision, args.rounds)
            result[f"{name}_{precision}"] = got
            rate = got["images_per_s"]
            print(f"{name:9s} {precision:5s} -> {got['precision']:5s} {rate:7.1f} images/s (load {load})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
