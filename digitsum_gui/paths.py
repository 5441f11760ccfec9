"""Folders as a person sees them: shortened to ``~``, and a place to look for a saved file."""

from __future__ import annotations

import os
from pathlib import Path


def home_relative(path: str | os.PathLike) -> str:
    """``~/.local/share/digitsum/runs``: shorter, and the same on every account."""
    try:
        return str(Path("~") / Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)


def findable_folder(folder: str | os.PathLike, app_data: str | os.PathLike) -> Path:
    """``folder``, or the home folder where ``folder`` lies inside the app's own data folder
    ``app_data`` (the sample images' copy): no place a person would look for a file they saved."""
    if Path(os.path.abspath(folder)).is_relative_to(os.path.abspath(app_data)):
        return Path.home()
    return Path(folder)
