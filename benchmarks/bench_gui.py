"""GUI responsiveness: the longest stall of the main thread while the app predicts a folder.

    python benchmarks/bench_gui.py                 # 2000 PNGs, offscreen
    python benchmarks/bench_gui.py --count 500 --model resources/models/x.safetensors
    python benchmarks/bench_gui.py --doubtful-first   # the table sorted while rows come in

Opens the real MainWindow (offscreen, throwaway settings and model store), waits for its
model, then runs a 10 ms QTimer on the GUI thread and opens the folder; between the
open_folder call and the window's run_finished signal it records the gap between timer
ticks. Goal: the longest gap under 100 ms (decoding and the model run in the worker
thread; the GUI thread only appends rows, draws and updates progress).
"""

import argparse
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import load_average, machine, png_folder

GOAL_MS = 100.0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000, help="PNGs to predict (default: 2000)")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--workers", type=int, default=None, help="decoding threads (default: the app's)")
    p.add_argument(
        "--doubtful-first",
        action="store_true",
        help="sort the table by confidence before the run (each new row goes into place)",
    )
    p.add_argument("--interval-ms", type=int, default=10)
    p.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = p.parse_args()
    folder = png_folder(args.count)

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from digitsum_gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "settings.ini"), QSettings.Format.IniFormat)
    kwargs = {"settings": settings, "model_path": args.model, "workers": args.workers}
    if "store" in inspect.signature(MainWindow).parameters:  # keep the user's model store out of it
        from digitsum_gui.model_store import ModelStore

        kwargs["store"] = ModelStore(Path(tmp.name) / "store")
    window = MainWindow(**kwargs)
    window.show()
    if args.doubtful_first:
        window.results.sort_doubtful_first()

    state = {"phase": "loading", "last": None, "gaps": [], "t_open": None, "t_done": None, "cancelled": None}

    def tick():
        # CPU time over each gap says what a long one was: the GUI thread's own work
        # (gui_cpu close to the gap) or waiting for the GIL or a core (gui_cpu near 0).
        now, gui_cpu, all_cpu = time.perf_counter(), time.thread_time(), time.process_time()
        if state["phase"] == "running" and state["last"] is not None:
            last, last_gui, last_all = state["last"], state["gui_cpu"], state["all_cpu"]
            state["gaps"].append((now - last, now - state["t_open"], gui_cpu - last_gui, all_cpu - last_all))
        state["last"], state["gui_cpu"], state["all_cpu"] = now, gui_cpu, all_cpu

    def start_run():
        state["phase"] = "running"
        state["last"], state["gui_cpu"], state["all_cpu"] = time.perf_counter(), time.thread_time(), time.process_time()
        state["t_open"] = state["last"]
        window.open_folder(folder)

    def on_model(*_):
        if state["phase"] == "loading":
            state["phase"] = "ready"
            QTimer.singleShot(200, start_run)  # let the window settle first

    def on_finished(cancelled):
        if state["phase"] == "running":
            tick()  # the gap up to the end counts too
            state["t_done"], state["cancelled"], state["phase"] = time.perf_counter(), cancelled, "done"
            app.quit()

    def on_failed(reason):
        state["phase"] = "done"
        state["error"] = reason
        app.quit()

    window.model_changed.connect(on_model)
    window.model_failed.connect(on_failed)
    window.run_finished.connect(on_finished)
    if window.summary is not None:  # loaded before we connected
        on_model()
    timer = QTimer()
    timer.setInterval(args.interval_ms)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    load = load_average()
    app.exec()
    timer.stop()

    rows = len(window.table_model.rows)
    window.close()
    if state.get("error") or state["t_done"] is None:
        raise SystemExit(f"the run did not finish: {state.get('error') or 'timed out'}")
    gaps_ms = sorted(g[0] * 1000 for g in state["gaps"])
    worst = sorted(state["gaps"], reverse=True)[:5]
    elapsed = state["t_done"] - state["t_open"]
    result = {
        "bench": "gui_responsiveness",
        "images": args.count,
        "rows": rows,
        "machine": machine(),
        "device": window.summary.device_name if window.summary else None,
        "timer_interval_ms": args.interval_ms,
        "ticks": len(gaps_ms),
        "max_gap_ms": round(gaps_ms[-1], 1),
        "p99_gap_ms": round(gaps_ms[int(0.99 * (len(gaps_ms) - 1))], 1),
        "median_gap_ms": round(statistics.median(gaps_ms), 1),
        "gaps_over_100ms": sum(g > GOAL_MS for g in gaps_ms),
        "worst_gaps": [
            {
                "ms": round(g * 1000, 1),
                "at_s": round(t, 2),
                "gui_cpu_ms": round(gui * 1000, 1),
                "process_cpu_ms": round(cpu * 1000, 1),
            }
            for g, t, gui, cpu in worst
        ],
        "images_per_s": round(rows / elapsed, 1),
        "load_before": load,
        "goal_met": gaps_ms[-1] < GOAL_MS,
    }
    print(
        f"{rows} rows in {elapsed:.1f} s ({result['images_per_s']} images/s); longest GUI-thread gap "
        f"{result['max_gap_ms']} ms (goal < {GOAL_MS:.0f} ms), p99 {result['p99_gap_ms']} ms, "
        f"{result['gaps_over_100ms']} gaps over {GOAL_MS:.0f} ms"
    )
    print(json.dumps(result))
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
