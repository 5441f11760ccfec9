"""core.labels.folder_labels: whose labels a window's inputs have (``labels_of``), and corrections saved
from two processes at once that lose nothing, on real files."""

import json
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers.clitools import child_env, python_json

from core.labels.folder_labels import FolderLabels, labels_of
from core.labels.labels_csv import read_labels_csv, write_labels_csv


def test_an_image_opened_alone_has_its_folders_labels_by_the_name_it_was_given(synth_folder, tmp_path, monkeypatch):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    before = read_labels_csv(folder / "labels.csv")
    image = folder / "synth_00003.png"
    monkeypatch.chdir(folder.parent)
    for given in (str(image), "images/synth_00003.png"):  # a full path, or relative as typed in a shell
        labels = labels_of([given], tmp_path / "corrections")
        assert labels.folder == folder.resolve() and labels.sum_of(given) == before["synth_00003.png"][0]
    labels.set("images/synth_00003.png", 36)  # saved as opening its folder would save it
    after = read_labels_csv(folder / "labels.csv")
    assert after["synth_00003.png"] == (36, None) and len(after) == len(before)
    assert labels.typed("images/synth_00003.png") and not labels.typed("images/synth_00004.png")
    assert FolderLabels(folder, tmp_path / "corrections").sum_of("synth_00003.png") == 36

    two = labels_of([image, folder / "synth_00004.png"], tmp_path / "corrections")  # several from one folder
    assert two.sum_of(str(folder / "synth_00004.png")) == before["synth_00004.png"][0]


def test_a_sum_typed_for_an_installed_sample_goes_to_the_corrections_file(tmp_path, monkeypatch):
    """The installed samples' labels.csv is never written, however they were opened (here one
    image alone, by a name through a link to the folder). The installation is a copy here, so
    that a failure never writes into the checkout's own."""
    from core.inputs import samples

    installed = shutil.copytree(samples.SAMPLES, tmp_path / "installed")
    monkeypatch.setattr(samples, "SAMPLES", installed)
    before = (installed / "labels.csv").read_bytes()
    (tmp_path / "link").symlink_to(installed)
    name = sorted(installed.glob("*.png"))[0].name
    labels = labels_of([tmp_path / "link" / name], tmp_path / "corrections")
    written = labels.set(str(tmp_path / "link" / name), 36)
    assert written == labels.corrections_path and written.parent == tmp_path / "corrections"
    assert labels.sum_of(name) == 36 and FolderLabels(installed, tmp_path / "corrections").sum_of(name) == 36
    assert (installed / "labels.csv").read_bytes() == before


def test_inputs_without_one_folders_labels_have_none(synth_folder, tmp_path):
    other = shutil.copytree(synth_folder, tmp_path / "other")
    arrays = tmp_path / "data0.npy"
    np.save(arrays, np.zeros((2, 40, 168), np.uint8))
    corrections = tmp_path / "corrections"
    assert labels_of([synth_folder, other], corrections) is None  # two folders
    assert labels_of([synth_folder / "synth_00000.png", other / "synth_00000.png"], corrections) is None
    assert labels_of([arrays], corrections) is None  # an array's sums are its lab*.npy
    assert labels_of([], corrections) is None
    assert labels_of([synth_folder], corrections).folder == synth_folder.resolve()


def test_the_labels_code_needs_nothing_of_the_prediction_csv():
    """Labels are written with ``core.files.atomic_text_file`` and ``core.csv_cells`` and fail as
    ``core.files.WriteError``: the prediction CSV's module and its ``ExportError`` are not theirs."""
    code = (
        "import json, sys\n"
        "import core.labels.backup, core.labels.folder_labels\n"
        "print(json.dumps('core.predict.prediction_csv' in sys.modules))\n"
    )
    assert python_json(code, timeout=120) is False


# ================================================================ hardening cases (docs/RELIABILITY.md)


SAVER = """
import json, os, sys, time
from core.labels.folder_labels import FolderLabels

folder, corrections_dir, prefix, go, count, forget = sys.argv[1:]
labels = FolderLabels(folder, corrections_dir)  # opened before anyone saves: a copy the other process makes stale
open(go + "." + prefix, "w").close()  # ready
while not os.path.exists(go):
    time.sleep(0.001)
labels.set(forget, None)
for i in range(int(count)):
    labels.set(f"{prefix}{i:03d}.png", i % 37)
print(json.dumps(str(labels.saved_to)))
"""


ORIGINAL = {f"orig{i}.png": (i, None) for i in range(5)}


def _two_savers(folder, corrections_dir, tmp_path, count=40) -> list[str]:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(folder), str(corrections_dir), prefix, str(go), str(count), forget],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix, forget in (("a", "orig0.png"), ("b", "orig1.png"))
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"go.{p}").exists() for p in "ab"):
            alive = all(p.poll() is None for p in procs)
            assert time.monotonic() < deadline and alive, [p.stderr.read() for p in procs]
            time.sleep(0.01)
        go.touch()  # both start saving at once
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    return [json.loads(out) for out, _ in results]


def _expected(count=40) -> dict:
    want = {name: value for name, value in ORIGINAL.items() if name not in ("orig0.png", "orig1.png")}
    for prefix in "ab":
        want.update({f"{prefix}{i:03d}.png": (i % 37, None) for i in range(count)})
    return want


@pytest.mark.hardening("issue 14, class 9")
def test_class9_two_processes_saving_into_labels_csv_lose_no_correction(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    write_labels_csv(folder / "labels.csv", ORIGINAL)
    saved_to = _two_savers(folder, tmp_path / "sidecars", tmp_path)
    assert saved_to == [str(folder.resolve() / "labels.csv")] * 2
    assert read_labels_csv(folder / "labels.csv") == _expected()  # 83 labels, none lost
    assert sorted(p.name for p in folder.iterdir()) == ["labels.csv"]  # no lock file, no temporary left


@pytest.mark.hardening("issue 14, class 9")
def test_class9_two_processes_saving_into_the_sidecar_lose_no_correction(tmp_path):
    """A labels.csv that cannot be read is never overwritten: both processes save to the sidecar."""
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "labels.csv").write_text("this is not,a labels file\n")
    sidecars = tmp_path / "sidecars"
    from core.labels.folder_labels import FolderLabels

    FolderLabels(folder, sidecars).set("orig0.png", 0)  # the sidecar as a first session left it
    FolderLabels(folder, sidecars).set("orig1.png", 1)
    saved_to = _two_savers(folder, sidecars, tmp_path)
    sidecar = FolderLabels(folder, sidecars).corrections_path
    assert saved_to == [str(sidecar)] * 2
    want = {name: value for name, value in _expected().items() if not name.startswith("orig")}
    assert read_labels_csv(sidecar) == want  # 80 corrections, the two forgotten ones gone
    assert (folder / "labels.csv").read_text() == "this is not,a labels file\n"


@pytest.mark.hardening("issue 23")
def test_a_sidecar_note_that_cannot_be_written_never_fails_the_saved_correction(tmp_path):
    """The sidecar's ``.folder`` note was written by hand, past ``atomic_path``: where it could not
    be (a folder of that name) the correction was saved but ``set`` raised IsADirectoryError, and
    the window said "not saved" and kept showing the old sum."""
    from core.labels.folder_labels import FolderLabels, folder_key
    from core.labels.labels_csv import read_labels_csv

    folder, sidecars = tmp_path / "scans", tmp_path / "sidecars"
    folder.mkdir()
    (folder / "labels.csv").write_bytes(b"filename,sum\n\xff.png,3\n")  # unreadable: corrections go to the sidecar
    (sidecars / f"{folder_key(folder)}.folder").mkdir(parents=True)
    labels = FolderLabels(folder, sidecars)
    saved = labels.set("a.png", 7)
    assert saved == sidecars / f"{folder_key(folder)}.csv" and read_labels_csv(saved) == {"a.png": (7, None)}
    assert labels.sum_of("a.png") == 7 and "a.png" in labels.corrected
