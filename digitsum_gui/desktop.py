"""The app on a Linux desktop: its menu entry and icon, and the system libraries Qt's window needs.

    digitsum-gui --install-desktop-entry     # the app appears in the desktop's menu
    digitsum-gui --uninstall-desktop-entry

Nothing here imports Qt's widgets or needs a display: installing the entry works over ssh, and
``explain_platform_failure`` runs while Qt is failing to open its window.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from core import RESOURCES
from core.files import atomic_path

APP_ID = "digitsum"
DESKTOP_ENTRY = RESOURCES / f"{APP_ID}.desktop"
ICON = RESOURCES / "icons" / f"{APP_ID}.svg"

# Debian/Ubuntu packages of every library that Qt's xcb plugin (libqxcb.so with libQt6XcbQpa,
# libQt6Gui and its GLX/EGL integrations) links against and PySide6 does not bundle: `objdump -p`
# for the NEEDED names, `dpkg -S` for their packages (PySide6 6.11, Debian 12). Packages that every
# system has (libc6, libstdc++6, zlib1g, libzstd1) are left out; apt brings the libraries these
# need in turn. README.md gives the same line (a test keeps them equal).
XCB_PACKAGES = (
    "libdbus-1-3",
    "libegl1",
    "libfontconfig1",
    "libfreetype6",
    "libgl1",
    "libglib2.0-0",
    "libx11-6",
    "libx11-xcb1",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-glx0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-util1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
)
APT_LINE = "sudo apt-get install " + " ".join(XCB_PACKAGES)


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` where it is unset or relative (the XDG spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def entry_paths(base: Path | None = None) -> tuple[Path, Path]:
    """Where the desktop entry and the icon go: ``(applications/digitsum.desktop, hicolor icon)``."""
    base = data_home() if base is None else base
    return (
        base / "applications" / f"{APP_ID}.desktop",
        base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
    )


def launch_command() -> str:
    """The ``Exec`` command that starts this very installation, whatever PATH the menu has.

    The script pip wrote beside this Python when it is there (a venv or pipx keeps its bin/ off
    the menu's PATH), else this Python with ``-m digitsum_gui``.
    """
    script = Path(sys.executable).with_name("digitsum-gui")
    words = [str(script)] if script.is_file() else [sys.executable, "-m", "digitsum_gui"]
    return " ".join(_exec_quote(w) for w in words)


def _exec_quote(word: str) -> str:
    # the Desktop Entry spec's quoting: double quotes round a word with reserved characters,
    # backslash before " ` $ and \ inside them
    if not re.search(r"[\s\"'\\><~|&;$*?#()`]", word):
        return word
    return '"' + re.sub(r'(["`$\\])', r"\\\1", word) + '"'


def install_desktop_entry(base: Path | None = None) -> list[Path]:
    """Write the desktop entry (its ``Exec`` pointing at this installation) and the icon.

    Parameters
    ----------
    base : Path, optional
        The data folder to write under (default: ``data_home()``).

    Returns
    -------
    list of Path
        The two files written.
    """
    entry, icon = entry_paths(base)
    text = DESKTOP_ENTRY.read_text(encoding="utf-8")
    text = re.sub(r"^Exec=digitsum-gui", lambda _: f"Exec={launch_command()}", text, count=1, flags=re.MULTILINE)
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    for path, data in ((entry, text.encode("utf-8")), (icon, ICON.read_bytes())):
        with atomic_path(path) as tmp:  # a menu watching the folder never reads half an entry
            Path(tmp).write_bytes(data)
    return [entry, icon]


def uninstall_desktop_entry(base: Path | None = None) -> list[Path]:
    """Remove the desktop entry and the icon, then the folders above them left empty; returns the files removed.

    Only empty folders go (another app's icon keeps ``icons/hicolor``), and never the data home itself.
    """
    base = data_home() if base is None else base
    removed = []
    for path in entry_paths(base):
        if path.is_file():
            path.unlink()
            removed.append(path)
        for folder in path.parents:
            if folder == base or base not in folder.parents:
                break
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
    return removed


def missing_libraries(binary: Path) -> list[str]:
    """The shared libraries ``ldd`` reports as "not found" for ``binary``, each once, in its order."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(binary)], check=False, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    names = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.MULTILINE)
    return list(dict.fromkeys(names))


def xcb_plugin() -> Path:
    """The installed Qt's xcb platform plugin (it may be absent, e.g. off Linux)."""
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"


def explain_platform_failure() -> str | None:
    """One line on why Qt's xcb plugin could not open a window, or None off Linux.

    Qt names only ``libxcb-cursor0`` whatever is missing (even when nothing is, and the X display
    is what cannot be reached); ``ldd`` on the plugin names every library that is not there.
    """
    if not sys.platform.startswith("linux"):
        return None
    plugin = xcb_plugin()
    missing = missing_libraries(plugin) if plugin.is_file() else []
    if missing:
        return (
            f"digitsum-gui: Qt's xcb plugin needs {', '.join(missing)}, not installed here. "
            f"On Debian/Ubuntu: {APT_LINE}"
        )
    display = os.environ.get("DISPLAY", "")
    return (
        f"digitsum-gui: no library of Qt's xcb plugin is missing (ldd); the X display could not be "
        f"opened (DISPLAY={display!r})"
    )
