"""How soon the app shows predicted sums: from launch to the first rows of the sample images.

    python benchmarks/bench_first_rows.py                       # this checkout, 5 rounds
    git worktree add /tmp/before COMMIT && python benchmarks/bench_first_rows.py --before /tmp/before

Each round starts a fresh process per side (offscreen Qt, throwaway settings and model store)
that does what `digitsum-gui resources/samples` does: the main window, shown, opening the
samples folder, with that checkout's default model (named by path: the installed resources
are this checkout's). The time is from launching the process to the first predicted rows in the
window's table (its ``rowsInserted``, on the GUI thread), read by this script;
the median over the rounds is reported. Sides alternate within a round, so load from other
processes hits both alike. Goal: the first rows at least 1 s sooner than before.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ROOT, checkout_command, checkout_model, load_average, machine

CHILD = r"""
import sys, tempfile
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from digitsum_gui.main_window import MainWindow
from digitsum_gui.model_store import ModelStore

app = QApplication([sys.argv[0]])
tmp = Path(tempfile.mkdtemp())
settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
window = MainWindow(settings=settings, model_path=sys.argv[2], store=ModelStore(tmp / "store"))
window.show()

def first_rows(*_):
    print(f"rows {len(window.table_model.rows)}", flush=True)
    app.exit(0)

window.table_model.rowsInserted.connect(first_rows)  # on the GUI thread: the rows are in the table
window.model_failed.connect(lambda reason: (print("failed", reason, flush=True), app.exit(1)))
QTimer.singleShot(0, lambda: window.open_folder(Path(sys.argv[1])))
QTimer.singleShot(120_000, lambda: app.exit(2))
app.exec()
import os
os._exit(0)  # the time that matters is up: no teardown
"""


def first_rows_seconds(env: dict, model: Path) -> float:
    """Launch one side; seconds until it prints its first rows."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "resources" / "samples"), str(model)],
        env=env,
        cwd=tempfile.gettempdir(),  # -c puts the working directory first on the path
        capture_output=True,
        text=True,
        timeout=180,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode or not proc.stdout.startswith("rows"):
        raise SystemExit(f"the app showed no rows ({proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-2000:]}")
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", default=None, metavar="DIR", help="also time this checkout (an earlier commit)")
    p.add_argument("--rounds", type=int, default=5, help="launches per side (default: 5)")
    args = p.parse_args()
    base_env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    sides = {"digitsum": (dict(base_env, PYTHONPATH=str(ROOT)), checkout_model(None))}
    if args.before:
        before_env = dict(checkout_command(args.before)[1], QT_QPA_PLATFORM="offscreen")
        sides["before"] = (before_env, checkout_model(args.before))
    seconds = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, (env, model) in sides.items():
            load = load_average()
            seconds[name].append(first_rows_seconds(env, model))
            print(f"round {r + 1} {name:9s} {seconds[name][-1]:5.2f} s to the first rows (load before: {load})")
    result = {
        "bench": "gui_first_rows",
        "machine": machine(),
        "rounds": args.rounds,
        "median_s": {name: round(statistics.median(v), 2) for name, v in seconds.items()},
        "seconds": {name: [round(s, 2) for s in v] for name, v in seconds.items()},
    }
    if args.before:
        result["sooner_s"] = round(result["median_s"]["before"] - result["median_s"]["digitsum"], 2)
        print(f"first rows {result['sooner_s']} s sooner than before (goal: at least 1 s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
