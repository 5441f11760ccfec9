"""The host side of the CUDA pipeline on any machine: what the main process spends per image.

    python benchmarks/bench_host.py                      # 10,000 PNGs, 2 workers, batch 1024
    python benchmarks/bench_host.py --count 20000 --workers 4

On a GPU the model takes a batch of 1,024 in ~12 ms (84k images/s, RESULTS.md), so the
main process, which hands work to the decoding processes, collects their errors (the
images come through shared batch slots), builds rows and writes the CSV, sets the ceiling
of `digitsum predict`. This runs that path
(``Predictor.predict`` with decoding processes, the CUDA branch, the CLI's CSV writer and
its ``gc.freeze``) with the model replaced by precomputed outputs, and prints the main
process's CPU time per image and the ceiling it implies (1 / that time), next to the wall
rate, which on a small machine is bound by its decoding cores instead.

Not a measurement of the model or of a GPU: those are bench_model.py and gpu_predict.sh.
"""

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, png_folder


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=10000, help="PNGs (default: 10000)")
    p.add_argument("--workers", type=int, default=2, help="decoding processes (default: 2)")
    p.add_argument("--batch-size", type=int, default=1024, help="images per batch (default: 1024, the CUDA default)")
    p.add_argument("--rounds", type=int, default=3, help="runs over the folder, each timed (default: 3)")
    args = p.parse_args()
    folder = png_folder(args.count)

    import numpy as np

    from core.inputs.listing import list_inputs
    from core.predict.prediction_csv import write_predictions_csv
    from core.predict.predictor import Predictor
    from core.predict.readers import LaunchedBatch

    items = list_inputs([folder])
    predictor = Predictor(None, device="cpu", batch_size=args.batch_size, workers=args.workers, processes=True)
    gc.freeze()  # as `digitsum predict` does once its model is loaded
    # The CUDA branch of predict(), with the model's outputs made up (probabilities that sum to one).
    rng = np.random.default_rng(0)
    probs = rng.random((args.batch_size, 37), dtype=np.float32)
    probs /= probs.sum(1, keepdims=True)
    digit_probs = rng.random((args.batch_size, 4, 10), dtype=np.float32)
    digit_probs /= digit_probs.sum(2, keepdims=True)

    class MadeUpGpu:
        """A reader that says CUDA and answers at once: only the host's work is left to time."""

        cuda, streams = True, 1

        @staticmethod
        def launch(images):
            return LaunchedBatch(probs[: len(images)], digit_probs[: len(images)], None, images)

        @staticmethod
        def collect(launched):
            return launched.probs, launched.digit_probs

    predictor.reader = MadeUpGpu()
    predictor.second_look_below = 0  # the made-up rows are all doubtful

    out = Path(folder).parent / "bench-host.csv"
    runs = []
    for _ in range(args.rounds):
        wall, cpu = time.perf_counter(), time.process_time()  # process_time: this process's threads only
        count = write_predictions_csv((row for batch in predictor.predict(items) for row in batch), out)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs.append({"images_per_s": round(count / wall), "main_process_us_per_image": round(cpu / count * 1e6, 2)})
    best = min(r["main_process_us_per_image"] for r in runs)
    result = {
        "bench": "host_pipeline",
        "images": len(items),
        "workers": args.workers,
        "batch_size": args.batch_size,
        "machine": machine(),
        "runs": runs,
        "ceiling_images_per_s": round(1e6 / best),
    }
    print(
        f"main process: {best} us per image at best (ceiling {result['ceiling_images_per_s']:,} images/s); "
        f"wall {max(r['images_per_s'] for r in runs):,} images/s with {args.workers} decoding processes"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
