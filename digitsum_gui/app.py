"""`digitsum-gui [FOLDER]`: the desktop app's entry point.

digitsum-gui resources/samples
digitsum-gui photos/ --model runs/2024-05-01/model.safetensors --device cpu
python -m digitsum_gui resources/samples
digitsum-gui --install-desktop-entry     # into the desktop's menu (--uninstall-desktop-entry)
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core import __version__
from core.argtypes import add_device_arguments
from digitsum_gui import desktop

ICON = desktop.ICON
DESKTOP_FLAGS = {"--install-desktop-entry", "--uninstall-desktop-entry"}


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitsum-gui", description="Open a folder of digit images and read their sums."
    )
    parser.add_argument("folder", nargs="?", help="folder (or image/.npy file) to open and predict (default: none)")
    parser.add_argument(
        "--model", default=None, help="model file (default: the last one used, else the bundled resources/models model)"
    )
    add_device_arguments(parser)
    parser.add_argument("--version", action="version", version=f"digitsum {__version__}")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add the app and its icon to the desktop's menu (under $XDG_DATA_HOME, default ~/.local/share) and exit",
    )
    entry.add_argument(
        "--uninstall-desktop-entry", action="store_true", help="remove what --install-desktop-entry wrote and exit"
    )
    return parser


def app_icon() -> QIcon:
    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def desktop_entry_command(args: argparse.Namespace) -> int:
    """``--install-desktop-entry`` / ``--uninstall-desktop-entry``: no window, no display needed."""
    if args.install_desktop_entry:
        for path in desktop.install_desktop_entry():
            print(f"wrote {path}")
    else:
        removed = desktop.uninstall_desktop_entry()
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print(f"no desktop entry to remove under {desktop.data_home()}")
    return 0


def create_application(argv: list[str]) -> QApplication:
    """A QApplication that, when Qt cannot open its window, says which system library is missing.

    Qt aborts the process in its constructor then, after a message that names only
    libxcb-cursor0; its fatal message reaches this handler first, so one ``ldd`` runs then, and
    never on a start that works.
    """

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        category = context.category if context.category and context.category != "default" else ""
        print(f"{category}: {message}" if category else message, file=sys.stderr, flush=True)
        if kind == QtMsgType.QtFatalMsg and "platform plugin" in message:
            note = desktop.explain_platform_failure()
            if note:
                print(note, file=sys.stderr, flush=True)

    previous = qInstallMessageHandler(handler)
    try:
        return QApplication(argv)
    finally:
        qInstallMessageHandler(previous)


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns its exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    if DESKTOP_FLAGS & set(words):
        return desktop_entry_command(get_args_parser().parse_args(words))
    # before Qt starts: without a display QApplication aborts the process, and --help, --version
    # or a bad value (--batch-size -5) need none (parse_known_args: Qt's own options, -platform
    # and the like, may stand beside ours); those print and exit here
    get_args_parser().parse_known_args(words)
    app = QApplication.instance() or create_application(sys.argv if argv is None else ["digitsum-gui", *argv])
    # QApplication has taken its own options (-platform, -style, ...); the rest are ours.
    args = get_args_parser().parse_args(app.arguments()[1:])
    app.setOrganizationName("digitsum")
    app.setApplicationName("digitsum")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(desktop.APP_ID)  # ties the window to digitsum.desktop (Wayland app id, task bars)
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
