"""The app on a Linux desktop: its menu entry and icon, and naming the library Qt's window lacks."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from digitsum_gui import desktop
from digitsum_gui.app import main

ROOT = Path(__file__).resolve().parent.parent
ENTRY = Path("applications", "digitsum.desktop")
ICON = Path("icons", "hicolor", "scalable", "apps", "digitsum.svg")


def test_install_and_uninstall_under_xdg_data_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    lines = (tmp_path / ENTRY).read_text(encoding="utf-8").splitlines()
    assert f"Exec={desktop.launch_command()} %f" in lines
    assert "Icon=digitsum" in lines and "Type=Application" in lines
    assert (tmp_path / ICON).read_bytes() == (ROOT / "resources" / "icons" / "digitsum.svg").read_bytes()
    assert capsys.readouterr().out.count("wrote ") == 2

    assert main(["--install-desktop-entry"]) == 0  # again: replaced, not doubled
    assert sorted(p.name for p in (tmp_path / "applications").iterdir()) == ["digitsum.desktop"]

    assert main(["--uninstall-desktop-entry"]) == 0
    assert not (tmp_path / ENTRY).exists() and not (tmp_path / ICON).exists()
    assert list(tmp_path.iterdir()) == []  # the folders it made, empty now, went too
    assert main(["--uninstall-desktop-entry"]) == 0
    assert "no desktop entry to remove" in capsys.readouterr().out


def test_data_home_ignores_a_relative_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # the XDG spec: invalid, ignored
    assert desktop.data_home() == tmp_path / ".local" / "share"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert desktop.entry_paths()[0] == tmp_path / ".local" / "share" / ENTRY


def test_exec_words_with_spaces_are_quoted():
    assert desktop._exec_quote("/opt/venv/bin/digitsum-gui") == "/opt/venv/bin/digitsum-gui"
    assert desktop._exec_quote('/home/a b/$x"') == '"/home/a b/\\$x\\""'


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_the_shipped_entry_is_valid(tmp_path):
    desktop.install_desktop_entry(tmp_path)
    proc = subprocess.run(["desktop-file-validate", str(tmp_path / ENTRY)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout


def test_readme_gives_the_apt_line():
    assert desktop.APT_LINE in (ROOT / "README.md").read_text(encoding="utf-8")


def fake_ldd(folder: Path) -> Path:
    """An ``ldd`` that reports two of the xcb plugin's libraries missing, as on a bare Debian 12."""
    script = folder / "ldd"
    script.write_text(
        "#!/bin/sh\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n"
        "echo '\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)'\n"
        "echo '\tlibxcb-keysyms.so.1 => not found'\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_missing_libraries_reads_ldd(tmp_path, monkeypatch):
    fake_ldd(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert desktop.missing_libraries(Path("/any/plugin.so")) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def start_without_x(tmp_path, path) -> subprocess.CompletedProcess:
    """``python -m digitsum_gui`` on Qt's xcb plugin with no X display: Qt gives up and aborts."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", PATH=path)
    return subprocess.run(
        [sys.executable, "-m", "digitsum_gui"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None, reason="ldd: Linux only")
def test_a_window_that_cannot_open_names_the_missing_libraries(tmp_path):
    fake_ldd(tmp_path)
    proc = start_without_x(tmp_path, f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode != 0
    line = next(s for s in proc.stderr.splitlines() if s.startswith("digitsum-gui: "))
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in line and line.endswith(desktop.APT_LINE)

    # the real ldd on the real plugin: names what this machine lacks, or says that nothing is
    proc = start_without_x(tmp_path, os.environ["PATH"])
    assert proc.returncode != 0
    assert any(
        s.startswith(("digitsum-gui: Qt's xcb plugin needs", "digitsum-gui: no library of Qt's xcb plugin"))
        for s in proc.stderr.splitlines()
    ), proc.stderr
