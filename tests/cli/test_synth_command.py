"""`digitsum synth` (core/cli/synth_command.py), run for real: the seeded images and labels.csv, a folder in use
refused."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from helpers.clitools import SAMPLES, run_cli, sha256
from PIL import Image


def test_synth_writes_pngs_and_labels(synthed):
    names = sorted(p.name for p in synthed.glob("*.png"))
    assert names == [f"synth_{i:05d}.png" for i in range(12)]
    lines = (synthed / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "filename,sum,digits" and len(lines) == 13
    for line in lines[1:]:
        name, total, digits = line.split(",")
        assert name in names and len(digits) == 4 and sum(map(int, digits)) == int(total)
    # exactly the seeded composition: the same seed and count give the same files
    from core.synth.bank import load_bank
    from core.synth.composer import compose_numpy

    images, digits = compose_numpy(load_bank().subset("holdout"), 12, seed=1)  # synth's default for the bundled bank
    for i, name in enumerate(names):
        np.testing.assert_array_equal(np.asarray(Image.open(synthed / name)), images[i])
        assert lines[i + 1] == f"{name},{digits[i].sum()},{''.join(map(str, digits[i]))}"


@pytest.mark.hardening("issue 14, class 7")
def test_class7_synth_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "labels.csv").write_text("filename,sum\nsynth_00000.png,5\n")
    shutil.copy(SAMPLES / "synth_00007.png", mine / "synth_00000.png")
    before = {p.name: sha256(p) for p in mine.iterdir()}
    proc = run_cli("synth", mine, "--count", "3")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"digitsum synth: error: {mine} is not empty (2 entries, e.g. labels.csv); give a new or empty folder, "
        "or --force to replace images of the same names and labels.csv"
    ]
    assert {p.name: sha256(p) for p in mine.iterdir()} == before
    proc = run_cli("synth", mine, "--count", "3", "--force")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(mine)) == ["labels.csv", "synth_00000.png", "synth_00001.png", "synth_00002.png"]
    assert (mine / "labels.csv").read_text().count("\n") == 4
