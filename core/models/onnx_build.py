"""Making a model's int8 ONNX file in a child process, so that whoever waits for it can stop.

The export (``core.models.onnx_export``: torch's exporter, then quantization, ~20-30 s) runs
in C++ most of that time and cannot be interrupted inside a thread: a window closed during the
first use of a new model would hang until it ended. Here it runs in a child process, which is
killed when the caller's ``cancel`` event is set; the file is written atomically, so nothing
half made is left behind. The caller needs neither torch nor ``onnx`` imported.

    python -m core.models.onnx_build MODEL DEST SHA256 [FALLBACK]

The child prints its note (``NOTE`` first) once the model has loaded, then the path written;
or its one-line reason on stderr, and exits 1.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from core.errors import DigitsumError, exception_line, one_line
from core.models.onnx_file import OnnxExportError

POLL_S = 0.1  # how soon a cancel is noticed
NOTE = "note: "


class OnnxBuildCancelled(DigitsumError, RuntimeError):
    """The caller set ``cancel`` while the ONNX file was being made; nothing was written."""


def build_onnx_file(
    model_path, dest, sha256: str, fallback=None, announce=None, cancel: threading.Event | None = None
) -> Path:
    """Make ``dest``, the int8 ONNX file of ``model_path``, in a child process; the path written.

    Parameters
    ----------
    model_path : str or Path
        A ``.safetensors`` model file.
    dest : str or Path
        Where to write it.
    sha256 : str
        The model file's SHA-256, as read before (see ``core.models.onnx_export.export_onnx``).
    fallback : str or Path, optional
        Where to write instead when ``dest`` cannot be written.
    announce : callable, optional
        Told ``announce(text)``, in this thread, once the child has loaded the model.
    cancel : threading.Event, optional
        Set from another thread to stop waiting: the child is killed within ``POLL_S``.

    Raises
    ------
    OnnxExportError
        The child's one-line reason (a broken model file, a missing package, a step that
        failed, a folder that cannot be written), or how it ended where it said none.
    OnnxBuildCancelled
        ``cancel`` was set first.
    """
    command = [sys.executable, "-m", __name__, str(model_path), str(dest), sha256]
    command += [str(fallback)] if fallback else []
    child = subprocess.Popen(  # (UTF-8 both ways: a model's name may be any text, on any OS's console encoding)
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        errors="replace",
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
    )
    lines: queue.Queue[str | None] = queue.Queue()  # stdout, read in a thread so a cancel is seen at once
    errors: list[str] = []
    threading.Thread(target=_read_into, args=(child.stdout, lines.put), daemon=True).start()
    stderr_reader = threading.Thread(target=_read_into, args=(child.stderr, errors.append), daemon=True)
    stderr_reader.start()  # (read as it comes: a full pipe would stall the child)
    made = []
    try:
        while (line := _next_line(lines, cancel, dest)) is not None:
            if line.startswith(NOTE):
                if announce is not None:
                    announce(line[len(NOTE) :])
            elif line:
                made.append(line)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr_reader.join()
    if child.returncode != 0 or not made:
        said = [line for line in errors if line and line.strip()]
        why = said[-1] if said else f"the exporting process ended with code {child.returncode}"
        raise OnnxExportError(one_line(why, 300))
    return Path(made[-1])


def _read_into(stream, put) -> None:
    """Every line of ``stream`` (its newline cut) to ``put``, then None."""
    for line in stream:
        put(line.rstrip("\n"))
    put(None)


def _next_line(lines: queue.Queue, cancel: threading.Event | None, dest) -> str | None:
    """The child's next line (None: it closed stdout); ``OnnxBuildCancelled`` once ``cancel`` is set."""
    while True:
        if cancel is not None and cancel.is_set():
            raise OnnxBuildCancelled(f"making {Path(dest).name} was cancelled")
        try:
            return lines.get(timeout=POLL_S)
        except queue.Empty:
            pass


def main(argv: list[str] | None = None) -> int:
    """The child: make the file and print its path; or print the one-line reason and return 1."""
    from core.models.onnx_export import export_onnx  # (torch: in the child only)

    model_path, dest, sha256, *fallback = sys.argv[1:] if argv is None else argv
    try:
        made = export_onnx(
            model_path,
            dest,
            announce=lambda text: print(NOTE + text, flush=True),
            sha256=sha256,
            fallback=fallback[0] if fallback else None,
        )
    except (DigitsumError, OSError) as exc:  # a broken model file, a failed step, a folder not writable
        print(exception_line(exc), file=sys.stderr)
        return 1
    print(made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
