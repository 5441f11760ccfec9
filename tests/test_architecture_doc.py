"""docs/ARCHITECTURE.md stays true: every path it names exists, and the code cites it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"

# A path is a code span with a slash or a file extension we keep in the repository; code
# spans such as `torchrun` or `{"event": ...}` are names and formats, not paths.
_PATH = re.compile(r"`([A-Za-z0-9_.][A-Za-z0-9_./-]*)`")
_FILE_SUFFIXES = (".py", ".md", ".toml", ".npz", ".safetensors")
_RUN_FILES = {"progress.jsonl", "labels.csv"}  # files a run or a data folder has, not the repository


def named_paths(text: str) -> list[str]:
    names = []
    for name in _PATH.findall(text):
        if name in _RUN_FILES or name.startswith("."):
            continue
        if "/" in name or name.endswith(_FILE_SUFFIXES):
            names.append(name)
    return names


def test_every_path_the_page_names_exists():
    names = named_paths(DOC.read_text(encoding="utf-8"))
    assert "core/predict/predictor.py" in names and "digitsum_gui/worker.py" in names  # the pattern still finds them
    missing = [name for name in names if not (ROOT / name.rstrip("/")).exists()]
    assert missing == []


def test_the_ci_script_it_names_exists():
    assert (ROOT / ".ci" / "run").is_file()


def test_no_code_cites_a_design_file_the_repository_lacks():
    cited = [
        p.relative_to(ROOT)
        for folder in ("core", "digitsum_gui", "tests")
        for p in (ROOT / folder).rglob("*.py")
        if p != Path(__file__).resolve() and "DESIGN.md" in p.read_text(encoding="utf-8")
    ]
    assert cited == []


def test_the_package_table_names_every_module_of_every_package():
    """One row per package: its modules as they are, none missing, none gone."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Packages: one row each") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `") and line.count("|") >= 4]
    packages = {}
    for cells in rows:
        folder = re.match(r"\s*`([^`]+)/`", cells[1])[1]
        if folder != "tests":
            packages[folder] = set(re.findall(r"`([a-z_]+)`", cells[3]))
    assert {"core", "core/train", "digitsum_gui", "digitsum_gui/table"} <= set(packages)
    python_packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "core").rglob("__init__.py")}
    python_packages |= {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "digitsum_gui").rglob("__init__.py")}
    assert set(packages) == python_packages
    for folder, named in packages.items():
        actual = {p.stem for p in (ROOT / folder).glob("*.py") if p.stem not in ("__init__", "__main__")}
        assert named == actual, folder
