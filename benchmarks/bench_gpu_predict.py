"""Where the time of `digitsum predict` goes on a folder, stage by stage, in one process.

    python benchmarks/bench_gpu_predict.py FOLDER... --device cuda [--no-cudnn-benchmark]

Prints one JSON line: seconds for the imports, listing the files, loading the model (CUDA
start-up included), the first batch (cuDNN's kernel search included) and the rest, and the
images/s of the pipeline from the first file read to the last CSV row written. The CSV is
the CLI's own writer on the Predictor's rows, so the figure is what `digitsum predict`
gets once it runs. Compare with timing the CLI itself for the whole process.
"""

import argparse
import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from core.inputs.listing import list_inputs  # noqa: E402
from core.predict.prediction_csv import write_predictions_csv  # noqa: E402
from core.predict.predictor import Predictor  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("inputs", nargs="+")
    p.add_argument("--device", default="auto")
    p.add_argument("--model", default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--output", default="/tmp/bench-gpu-predict.csv")
    p.add_argument("--no-cudnn-benchmark", action="store_true", help="let cuDNN pick kernels by heuristics")
    args = p.parse_args()
    t = {"imports": time.perf_counter() - T0}

    s = time.perf_counter()
    items = list_inputs(args.inputs)
    t["list_files"] = time.perf_counter() - s

    s = time.perf_counter()
    predictor = Predictor(args.model, device=args.device, batch_size=args.batch_size, workers=args.workers)
    if predictor.cuda:
        torch.cuda.synchronize()
    torch.backends.cudnn.benchmark = not args.no_cudnn_benchmark
    t["load_model"] = time.perf_counter() - s

    marks = {}

    def rows():
        for batch in predictor.predict(items):
            marks.setdefault("first_batch", time.perf_counter())
            yield from batch

    s = time.perf_counter()
    count = write_predictions_csv(rows(), args.output)
    end = time.perf_counter()
    t["first_batch"] = marks["first_batch"] - s
    t["rest"] = end - marks["first_batch"]
    t["pipeline"] = end - s
    print(
        json.dumps(
            {
                "bench": "predict-stages",
                "device": predictor.device_name,
                "precision": predictor.precision,
                "images": count,
                "batch_size": predictor.batch_size,
                "workers": predictor.workers,
                "cudnn_benchmark": not args.no_cudnn_benchmark,
                "seconds": {k: round(v, 3) for k, v in t.items()},
                "pipeline_images_per_s": round(count / t["pipeline"]),
                "after_first_batch_images_per_s": round((count - predictor.batch_size) / max(t["rest"], 1e-9)),
                "in_process_total_s": round(end - T0, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
