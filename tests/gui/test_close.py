"""Closing the window in the middle of a run: the worker stops, its thread is joined, exit 0.

Runs in a child process because what can go wrong ("QThread: Destroyed while thread is still
running", a crash at interpreter exit) only shows when a real application shuts down.
"""

import os
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


def test_closing_during_a_run_exits_cleanly(tmp_path, synth_folder, digits_model):
    script = tmp_path / "close_mid_run.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, str(script), str(synth_folder), str(digits_model), str(tmp_path / "s.ini")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Destroyed while thread" not in proc.stderr
    assert "Traceback" not in proc.stderr
    fields = dict(part.split("=") for part in proc.stdout.split()[-3:])
    assert 0 < int(fields["rows"]) < int(fields["total"]) == 40  # it really was mid-run
