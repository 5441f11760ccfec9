"""What each CPU lever of the Predictor is worth, in one process on one folder.

    python benchmarks/bench_levers.py --count 512 --rounds 3

Adds the levers one at a time to the report's configuration (fp32, NCHW, batch norm as
its own pass, one batch at a time over all cores) and times the Predictor's whole
pipeline (decode + model + rows) on the same PNGs; configurations are interleaved round
by round and the median is printed, so load from other processes hits all alike. Also
times the start-up of `digitsum predict` on a one-image folder (imports + model load).
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from benchlib import digitsum_command, load_average, machine, png_folder

from core.inputs.listing import list_inputs
from core.models.checkpoint import load_model
from core.predict.predictor import Predictor
from core.predict.torch_precision import fold_batch_norms

# name: (channels_last, fold BN, precision, streams, batch size); streams None: one per core
CONFIGS = {
    "report: fp32 NCHW, 1 stream x all threads": (False, False, "fp32", 1, 64),
    "+ channels_last": (True, False, "fp32", 1, 64),
    "+ fold batch norm": (True, True, "fp32", 1, 64),
    "+ bf16": (True, True, "bf16", 1, 64),
    "+ streams (1 batch per core)": (True, True, "bf16", None, 64),
    "int8 on ONNX Runtime (the default)": (True, True, "int8", None, 64),
    "  same, batch 32": (True, True, "int8", None, 32),
    "  same, batch 128": (True, True, "int8", None, 128),
    "fp32 + streams": (True, True, "fp32", None, 64),
}


def predictor(model_path, channels_last, fold, precision, streams, batch_size):
    p = Predictor(model_path, device="cpu", precision=precision, streams=streams, batch_size=batch_size)
    if precision == "int8":
        if p.precision != "int8":
            raise SystemExit(f"int8 is not available here: {p.precision_note or 'no ONNX file for this model'}")
        return p  # the Predictor's own int8 ONNX model
    model, _ = load_model(model_path, "cpu")
    if fold:
        model = fold_batch_norms(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if precision == "bf16":
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.to(torch.bfloat16)
    p.reader.model = model.eval()  # torch's reader, with this configuration's network
    return p


def startup_seconds(repeats: int = 3) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        one.mkdir()
        shutil.copy(next(png_folder(512).glob("*.png")), one / "a.png")
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(
                digitsum_command() + ["predict", str(one), "-q", "--output", str(Path(tmp) / "o.csv")],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--model", default=None)
    args = p.parse_args()
    items = list_inputs([png_folder(args.count)])
    default_threads = torch.get_num_threads()
    predictors = {name: predictor(args.model, *cfg) for name, cfg in CONFIGS.items()}
    rates = {name: [] for name in CONFIGS}
    for r in range(args.rounds):
        for name, pred in predictors.items():
            torch.set_num_threads(default_threads)  # streams change the default for new threads
            load = load_average()
            t0 = time.perf_counter()
            n = sum(len(rows) for rows in pred.predict(items))
            rates[name].append(n / (time.perf_counter() - t0))
            print(f"round {r + 1} {name:45s} {rates[name][-1]:6.1f} images/s (load {load})", flush=True)
    summary = {name: round(statistics.median(v), 1) for name, v in rates.items()}
    start = startup_seconds()
    print(
        json.dumps(
            {
                "bench": "levers",
                "images": len(items),
                "machine": machine(),
                "median_images_per_s": summary,
                "startup_s": round(start, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
