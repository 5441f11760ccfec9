"""Whole-process CPU throughput of `digitsum predict` against the report's notebook, same run.

    python benchmarks/bench_predict.py                  # 2000 PNGs, 2 rounds, accuracy check
    python benchmarks/bench_predict.py --count 10000 --rounds 1 --no-accuracy
    python benchmarks/bench_predict.py --second-look-cost --folder DIR   # also --no-second-look, same rounds
    git worktree add /tmp/before COMMIT && python benchmarks/bench_predict.py --before /tmp/before --one-image 5

Both sides are timed as fresh processes from launch to exit, imports and model loading
included, on the same folder of composed PNGs (the bundled bank's held-out writers, seed 1):

- baseline: benchmarks/baseline_predict.py (Pillow, float arrays, batches of 64, torchvision
  ResNet-50 with the report's head, fp32, eager, NCHW, no_grad);
- ours: `digitsum predict FOLDER --output X.csv` with the default model and its defaults;
- with ``--second-look-cost``, ours again with ``--no-second-look``: what the second look at
  doubtful rows costs on this folder (``core.predict.second_look``; goal: at most 15%);
- with ``--before DIR``, `digitsum predict` of another checkout (an earlier commit) with the
  same packages: before and after in one run;
- with ``--one-image N``: N times, one PNG from command to CSV, ours (and before), the median
  (goal: under 0.6 s).

Rounds alternate baseline and ours so that load from other processes hits both alike; the
ratio is of medians (goal >= 5.0). Then, in this process, the default model's accuracy on
the folder's labels in the Predictor's chosen precision against fp32 (goal: within 0.1 point).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, checkout_command, checkout_model, digitsum_command, load_average, machine, png_folder


def timed(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of ``cmd`` as a fresh process (working directory: the temp folder); raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=tempfile.gettempdir()
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def accuracy_check(folder: Path, model) -> dict:
    """Exact-sum accuracy of the model in fp32 and in the Predictor's automatic precision."""
    from core.inputs.listing import list_inputs
    from core.labels.labels_csv import read_labels_csv
    from core.predict.predictor import Predictor
    from core.predict.rows import score

    truth = read_labels_csv(folder / "labels.csv")
    items = [i for i in list_inputs([folder]) if i.name in truth]
    out = {}
    preds = {}
    for precision in ("fp32", "auto"):
        p = Predictor(model, device="cpu", precision=precision)
        t0 = time.perf_counter()
        rows = [r for batch in p.predict(items) for r in batch]
        rate = len(rows) / (time.perf_counter() - t0)
        key = "fp32" if precision == "fp32" else f"auto={p.precision}"
        accuracy = score(rows, [truth.get(r.file) for r in rows])["accuracy"]
        out[key] = {"accuracy": accuracy, "in_process_images_per_s": round(rate, 1)}
        preds[key] = [r.predicted_sum for r in rows]
    a, b = preds.values()
    auto_key = list(out)[1]
    out["count"] = len(items)
    out["agreement"] = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    out["delta_points"] = round(100 * (out[auto_key]["accuracy"] - out["fp32"]["accuracy"]), 3)
    out["within_0.1_point"] = abs(out["delta_points"]) <= 0.1
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000, help="PNGs in the folder (default: 2000)")
    p.add_argument("--folder", default=None, help="folder to make or reuse (default: a temp folder per count)")
    p.add_argument("--rounds", type=int, default=2, help="baseline/ours pairs, alternating (default: 2)")
    p.add_argument("--model", default=None, help="model for `digitsum predict` (default: the bundled model)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the fp32 vs chosen-precision check")
    p.add_argument(
        "--second-look-cost", action="store_true", help="also time ours with --no-second-look (default: off)"
    )
    p.add_argument("--before", default=None, metavar="DIR", help="also time this checkout's digitsum predict")
    p.add_argument("--one-image", type=int, default=0, metavar="N", help="also time N one-image runs (default: 0)")
    args = p.parse_args()

    folder = png_folder(args.count, args.folder)
    baseline = [sys.executable, str(ROOT / "benchmarks" / "baseline_predict.py"), str(folder)]
    runs = {"baseline": [], "digitsum": []} | ({"no_second_look": []} if args.second_look_cost else {})
    runs |= {"before": []} if args.before else {}
    with tempfile.TemporaryDirectory() as tmp:
        csv = ["--output", str(Path(tmp) / "out.csv")] + (["--model", args.model] if args.model else [])
        ours = digitsum_command() + ["predict", str(folder), *csv]
        before, before_env = checkout_command(args.before) if args.before else ([], None)
        before_csv = ["--output", str(Path(tmp) / "before.csv"), "--model", str(checkout_model(args.before))]
        sides = {
            "baseline": (baseline, None),
            "digitsum": (ours, None),
            "no_second_look": (ours + ["--no-second-look"], None),
            "before": (before + ["predict", str(folder), *before_csv], before_env),
        }
        for r in range(args.rounds):
            for name in runs:
                load = load_average()
                seconds = timed(*sides[name])
                runs[name].append(seconds)
                print(
                    f"round {r + 1} {name:14s} {seconds:6.1f} s  {args.count / seconds:6.1f} images/s  "
                    f"(load before: {load})",
                    flush=True,
                )
        one = sorted(folder.glob("*.png"))[0]
        single = {"digitsum": (digitsum_command(), None, csv)}
        single |= {"before": (before, before_env, before_csv)} if args.before else {}
        one_image = {name: [] for name in single} if args.one_image else {}
        for _ in range(args.one_image):
            for name, (cmd, env, output) in single.items():
                one_image[name].append(timed(cmd + ["predict", str(one), *output], env))
    rate = {k: args.count / statistics.median(v) for k, v in runs.items()}
    best = {k: args.count / min(v) for k, v in runs.items()}
    result = {
        "bench": "predict_cpu_whole_process",
        "images": args.count,
        "machine": machine(),
        "baseline_images_per_s": round(rate["baseline"], 1),
        "digitsum_images_per_s": round(rate["digitsum"], 1),
        "ratio": round(rate["digitsum"] / rate["baseline"], 2),
        "ratio_best_runs": round(best["digitsum"] / best["baseline"], 2),
        "seconds": {k: [round(s, 1) for s in v] for k, v in runs.items()},
    }
    if args.before:
        result["before_images_per_s"] = round(rate["before"], 1)
        result["before_ratio"] = round(rate["before"] / rate["baseline"], 2)
    if one_image:
        result["one_image_s"] = {name: round(statistics.median(v), 3) for name, v in one_image.items()}
    if args.second_look_cost:
        result["no_second_look_images_per_s"] = round(rate["no_second_look"], 1)
        result["second_look_cost"] = round(1 - rate["digitsum"] / rate["no_second_look"], 3)
    print(
        f"baseline {result['baseline_images_per_s']} images/s, digitsum {result['digitsum_images_per_s']} images/s: "
        f"{result['ratio']:.2f}x (goal >= 5.0x; best runs {result['ratio_best_runs']:.2f}x)"
    )
    if args.before:
        print(f"before ({args.before}): {result['before_images_per_s']} images/s, {result['before_ratio']:.2f}x")
    if one_image:
        times = ", ".join(f"{k} {v} s" for k, v in result["one_image_s"].items())
        print(f"one image, command to CSV (median of {args.one_image}): {times} (goal under 0.6 s)")
    if args.second_look_cost:
        print(
            f"without the second look {result['no_second_look_images_per_s']} images/s: the second look costs "
            f"{result['second_look_cost']:.1%} (goal at most 15%)"
        )
    if not args.no_accuracy:
        acc = result["accuracy"] = accuracy_check(folder, args.model)
        print(
            f"accuracy on {acc['count']} labelled images: "
            + ", ".join(f"{k} {v['accuracy']:.4f}" for k, v in acc.items() if isinstance(v, dict))
            + f"; delta {acc['delta_points']:+.2f} points (goal within 0.1), agreement {acc['agreement']:.4f}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
