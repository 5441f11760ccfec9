"""core.limits: counts beyond what memory or disk can take are one line, before any work."""

from __future__ import annotations

import os

import pytest
from helpers.clitools import one_line_error, run_cli


@pytest.mark.hardening("issue 14, class 2")
def test_class2_counts_beyond_memory_or_disk_are_one_line_before_any_work(tmp_path):
    """``synth --count`` is checked against the disk and ``--val-size`` against memory, in one line,
    before a folder is made (they used to compose for minutes, then end in a traceback)."""
    proc = run_cli("synth", tmp_path / "s", "--count", str(10**12))
    line = one_line_error(proc, "synth")
    assert "--count: 1,000,000,000,000 files need about" in line and "GB of disk" in line
    proc = run_cli("train", "--data", "synthetic:64", "--val-size", str(10**12), "--out", tmp_path / "run")
    line = one_line_error(proc, "train")
    assert "--val-size: 1,000,000,000,000 images need about" in line and "GB of memory" in line
    assert os.listdir(tmp_path) == ["run"] and os.listdir(tmp_path / "run") == ["progress.jsonl"]  # its error event


@pytest.mark.hardening("issue 14, class 2")
def test_class2_a_nearly_full_disk_is_said_in_units_that_show_it(tmp_path, monkeypatch):
    """``synth --count 3`` onto a full 1 MB disk said 'need about 0.0 GB of disk; 0.0 GB is free there'."""
    import collections
    import shutil

    from core.errors import InputError
    from core.limits import require_disk

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda place: usage(1 << 20, (1 << 20) - 2048, 2048))
    with pytest.raises(InputError) as caught:
        require_disk("--count", tmp_path / "out", 3, 1400)
    said = str(caught.value)
    assert "0.0 GB" not in said and "KB of disk" in said and "2 KB is free there" in said, said
