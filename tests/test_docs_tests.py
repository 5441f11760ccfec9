"""docs/*.md name tests as `tests/<sub>/test_x.py::test_name`: every test so named exists.

A name may follow its file as `::test_name` (the file named last before it, in the same line),
and may end in `*` (every test whose name starts so).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# `file.py::name[...]`, `::name` (of the file named last before it) or `file.py` alone
_REF = re.compile(r"`([A-Za-z0-9_/.]*\.py)?(?:::([A-Za-z0-9_*]+)[^`]*)?`")


def named_tests(text: str) -> list[tuple[int, str | None, str]]:
    """(line, file or None, name) of every test ``text`` names."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        current = None
        for m in _REF.finditer(line):
            current = m.group(1) or current
            if m.group(2):
                found.append((lineno, current, m.group(2)))
    return found


def test_named_tests_reads_files_names_and_continuations():
    line = "`tests/a/test_x.py::test_one[p]`, `::test_two`; `tests/test_y.py` (`::test_three*`); `::test_lost`"
    assert named_tests(line) == [
        (1, "tests/a/test_x.py", "test_one"),
        (1, "tests/a/test_x.py", "test_two"),
        (1, "tests/test_y.py", "test_three*"),
        (1, "tests/test_y.py", "test_lost"),
    ]
    assert named_tests("`::test_orphan`") == [(1, None, "test_orphan")]


def test_every_test_the_docs_name_exists():
    missing = []
    count = 0
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for lineno, file, name in named_tests(doc.read_text(encoding="utf-8")):
            count += 1
            where = f"{doc.name}:{lineno}: {file}::{name}"
            if file is None or not (ROOT / file).is_file():
                missing.append(f"{where} (no such file: write it as tests/<sub-package>/test_x.py)")
                continue
            tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
            pattern = re.compile(re.escape(name).replace(r"\*", ".*") + "$")
            if not any(pattern.match(d) for d in defined):
                missing.append(where)
    assert count > 100  # the pattern still finds them
    assert missing == []
