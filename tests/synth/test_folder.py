"""core.synth.folder: a folder of composed PNGs and their labels.csv, and the names it writes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.labels.labels_csv import read_labels_csv
from core.synth.bank import DigitBank, load_bank
from core.synth.composer import compose_numpy
from core.synth.folder import synth_names, write_synthetic_folder


@pytest.fixture(scope="module")
def bank() -> DigitBank:
    return load_bank()


def test_synthetic_folder_matches_its_labels(tmp_path, bank):
    out = write_synthetic_folder(tmp_path / "s", 12, bank, seed=4)
    images, digits = compose_numpy(bank, 12, seed=4)
    text = (out / "labels.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "filename,sum,digits"
    labels = read_labels_csv(out / "labels.csv")
    assert list(labels) == [f"synth_{i:05d}.png" for i in range(12)]
    for i, (name, (total, dig)) in enumerate(labels.items()):
        assert dig == "".join(map(str, digits[i])) and total == int(digits[i].sum())
        with Image.open(out / name) as im:
            assert (im.mode, im.size) == ("L", (168, 40))
            np.testing.assert_array_equal(np.asarray(im), images[i])


def test_synth_names_are_the_files_a_folder_of_that_count_gets(tmp_path, bank):
    writes = synth_names(3)
    out = write_synthetic_folder(tmp_path / "s", 3, bank, seed=0)
    assert all(writes(p.name) for p in out.iterdir())
    assert not writes("synth_00003.png") and not writes("synth_0000.png") and not writes("notes.txt")
    assert synth_names(123456)("synth_123455.png") and not synth_names(123456)("synth_00001.png")
