"""`digitsum-gui [FOLDER]`: the desktop app's entry point.

    digitsum-gui resources/samples
    digitsum-gui photos/ --model runs/2024-05-01/model.safetensors --device cpu
    python -m digitsum_gui resources/samples
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core import __version__

ICON = Path(__file__).resolve().parent.parent / "resources" / "icons" / "digitsum.svg"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digitsum-gui", description="Open a folder of digit images and read their sums.")
    parser.add_argument("folder", nargs="?", help="folder (or image/.npy file) to open and predict (default: none)")
    parser.add_argument("--model", default=None,
                        help="model file (default: the last one used, else the bundled resources/models model)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per forward pass (default: 64 CPU, 1024 CUDA)")
    parser.add_argument("--version", action="version", version=f"digitsum {__version__}")
    return parser


def app_icon() -> QIcon:
    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def main(argv=None) -> int:
    """Start the app; returns its exit status."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else ["digitsum-gui", *argv])
    # QApplication has taken its own options (-platform, -style, ...); the rest are ours.
    args = get_args_parser().parse_args(app.arguments()[1:])
    app.setOrganizationName("digitsum")
    app.setApplicationName("digitsum")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())

    from digitsum_gui.main_window import MainWindow

    window = MainWindow(model_path=args.model, device=args.device, batch_size=args.batch_size)
    window.show()
    if args.folder:
        path = Path(args.folder)
        # after show(): the window is on screen before the folder is read
        QTimer.singleShot(0, lambda: window.open_folder(path) if path.is_dir() else window.open_paths([path]))

    # Ctrl+C in the terminal closes the window properly (Python only sees signals between
    # Qt events, so wake it up now and then).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    waker = QTimer(interval=200)
    waker.timeout.connect(lambda: None)
    waker.start()
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
