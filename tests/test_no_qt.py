"""`core` never imports Qt (docs/ARCHITECTURE.md): the CLI, training and torchrun run on machines without it."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.clitools import python_json

CORE = Path(__file__).resolve().parent.parent / "core"
QT_PACKAGES = ("PySide6", "PySide2", "shiboken6", "shiboken2", "PyQt5", "PyQt6", "qtpy", "pyqtgraph")


def core_modules() -> list[str]:
    # every file below core/, sub-packages included: a new folder is covered without a word here
    names = (p.relative_to(CORE.parent).with_suffix("").parts for p in CORE.rglob("*.py") if p.stem != "__main__")
    return sorted(".".join(parts[:-1] if parts[-1] == "__init__" else parts) for parts in names)


def test_importing_every_core_module_loads_no_qt():
    modules = core_modules()
    assert {
        "core.cli.main",
        "core.train.script",
        "core.predict.predictor",
        "core.models.networks",
        "core.models.checkpoint",
        "core.synth.composer",
    } <= set(modules)
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "from core.cli.main import build_parser\n"
        "build_parser()  # pulls in core.train.script's parser too\n"
        f"qt = sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r})\n"
        "print(json.dumps(qt))\n"
    )
    assert python_json(code, timeout=120) == []


def test_no_file_in_core_imports_qt():
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module",
                "__import__",
            ):
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in QT_PACKAGES, f"{path.name}:{node.lineno} imports {name}"
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("digitsum_gui"), f"{path.name}:{node.lineno}"
