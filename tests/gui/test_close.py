"""Closing the window in the middle of a run, or while a new model's ONNX file is made: the
worker stops, its thread is joined, exit 0.

Runs in a child process because what can go wrong ("QThread: Destroyed while thread is still
running", a crash at interpreter exit) only shows when a real application shuts down.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from digitsum_gui.main_window import MainWindow

folder, model, ini = sys.argv[1:4]
app = QApplication([])
window = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat), model_path=model, batch_size=4)
window.show()
seen = []

def first_rows(*_):
    if not seen:
        seen.append(1)
        QTimer.singleShot(0, window.close)  # close from the event loop, as a click on X would

# the table model lives in the GUI thread, so this runs there (unlike a worker signal)
window.table_model.rowsInserted.connect(first_rows)
window.open_folder(folder)
status = app.exec()
print(f"rows={len(window.table_model.rows)} total={len(window.table_model.items)} running={window.running}")
sys.exit(status)
"""


def run_window(tmp_path, script: str, *args, **env) -> subprocess.CompletedProcess:
    """``script`` run by this Python offscreen with ``args`` and a fresh settings file last; it
    must exit 0 with no traceback and no thread left running."""
    path = tmp_path / "window_script.py"
    path.write_text(script)
    proc = subprocess.run(
        [sys.executable, str(path), *map(str, args), str(tmp_path / "s.ini")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", **env),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Destroyed while thread" not in proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_closing_during_a_run_exits_cleanly(tmp_path, synth_folder, digits_model):
    proc = run_window(tmp_path, SCRIPT, synth_folder, digits_model)
    fields = dict(part.split("=") for part in proc.stdout.split()[-3:])
    assert 0 < int(fields["rows"]) < int(fields["total"]) == 40  # it really was mid-run


CLOSE_WHILE_MAKING = r"""
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from digitsum_gui.main_window import MainWindow

model, ini = sys.argv[1:3]
app = QApplication([])
window = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat), model_path=model)
window.show()

def close_once_making():  # the worker's note "making ...int8.onnx" is in the status bar: close then
    if window.status.currentMessage().startswith("making "):
        print("closing while making", flush=True)
        window.close()
    else:
        QTimer.singleShot(50, close_once_making)

QTimer.singleShot(0, close_once_making)
sys.exit(app.exec())
"""


def test_closing_while_a_models_onnx_file_is_made_stops_making_it(tmp_path, baseline_model):
    """The first use of a model on the CPU makes its int8 ONNX file (~20-30 s, in a child process:
    core.models.onnx_build); closing the window meanwhile kills that child instead of waiting."""
    model = tmp_path / "new" / baseline_model.name
    model.parent.mkdir()
    shutil.copyfile(baseline_model, model)  # no ONNX file beside it, and an empty cache below
    proc = run_window(tmp_path, CLOSE_WHILE_MAKING, model, XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert proc.stdout.strip() == "closing while making"
    # no ONNX file anywhere: the export was stopped, not waited for (it would have written one)
    assert sorted(p.name for p in model.parent.iterdir()) == [model.name]
    assert list(tmp_path.rglob("*.onnx")) == []
