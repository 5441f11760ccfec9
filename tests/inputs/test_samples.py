"""core.inputs.samples: the sample images are copied where a person may change them; the installed ones never are."""

import os

from core.inputs.samples import SAMPLES, copy_samples
from core.labels.labels_csv import read_labels_csv


def test_the_copy_is_whole_keeps_the_sums_typed_into_it_and_the_installed_samples_stay(tmp_path):
    installed = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in SAMPLES.iterdir()}
    dest = copy_samples(tmp_path / "data" / "samples")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == {n: b for n, (b, _) in installed.items()}
    assert len([n for n in installed if n.endswith(".png")]) == 24
    assert os.access(dest / "labels.csv", os.W_OK)  # the copy is the user's, whatever the install's mode

    labels = read_labels_csv(dest / "labels.csv")
    name = next(iter(labels))
    (dest / "labels.csv").write_text(f"filename,sum\n{name},36\n", encoding="utf-8")  # sums typed into the copy
    (dest / "synth_00001.png").unlink()
    (dest / "synth_00002.png").write_bytes(b"spoilt")
    assert copy_samples(dest) == dest
    assert read_labels_csv(dest / "labels.csv") == {name: (36, None)}  # kept
    assert (dest / "synth_00001.png").read_bytes() == installed["synth_00001.png"][0]  # put back
    assert (dest / "synth_00002.png").read_bytes() == installed["synth_00002.png"][0]
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in SAMPLES.iterdir()} == installed
