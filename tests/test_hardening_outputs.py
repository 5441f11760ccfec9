"""Issue 14, classes 1 and 7: what an output may replace, and runs that never clobber each other.

Real files, real device nodes (the tests run as root: ``mknod`` works), a real named pipe
with a reader, a real socket, real child processes and real signals.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import threading
from pathlib import Path

import pytest

from clitools import ROOT, read_csv_bytes, sha256
from core.export import ExportError, write_predictions_csv
from core.images import read_image
from core.predict import PredictionRow
from hostile import failing_on

SAMPLES = ROOT / "resources" / "samples"
ROWS = [PredictionRow("a.png", 3, 0.5)]


def cli(capsys, *args) -> tuple[int, str, str]:
    from core.cli import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *args) -> str:
    """Run ``digitsum ARGS`` in this process; assert exit 1 with one line, no CSV; return the line."""
    status, out, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 1 and out == "" and len(lines) == 1 and "Traceback" not in err, (status, err)
    assert lines[0].startswith("digitsum predict: error: cannot write "), lines[0]
    return lines[0]


@pytest.fixture
def imgs(tmp_path) -> Path:
    """A copy of the bundled samples: 24 PNGs and their labels.csv."""
    return Path(shutil.copytree(SAMPLES, tmp_path / "imgs"))


# ================================================================ class 1: what an output may replace


def test_class1_an_output_never_replaces_an_input_a_labels_file_or_a_file_that_is_not_text(
        imgs, tmp_path, baseline_model, capsys):
    model = tmp_path / "model.safetensors"
    shutil.copy(baseline_model, model)
    np_labels = tmp_path / "lab0.npy"
    np_labels.write_bytes(b"\x93NUMPY fake")
    outside_png = tmp_path / "photo.png"
    shutil.copy(imgs / "synth_00003.png", outside_png)
    link = tmp_path / "link.csv"
    link.symlink_to(imgs / "synth_00001.png")
    guarded = [imgs / "synth_00000.png", imgs / "labels.csv", model, np_labels, outside_png, imgs / "synth_00001.png"]
    before = {p: sha256(p) for p in guarded}
    run = ["predict", imgs, "--model", model, "-q", "--output"]
    assert "it is an input of this run" in refused(capsys, *run, imgs / "synth_00000.png")
    assert "it is an input of this run" in refused(capsys, *run, imgs / ".." / "imgs" / "synth_00000.png")
    assert "it is an input of this run" in refused(capsys, *run, link)  # a link to an input
    assert "it is an input of this run" in refused(capsys, *run, model)
    assert "labels file" in refused(capsys, *run, imgs / "labels.csv")
    assert "labels file" in refused(capsys, *run, np_labels)
    assert "not a CSV" in refused(capsys, *run, outside_png)
    # a labels file by its content, whatever its name
    truth = tmp_path / "truth.csv"
    truth.write_text("filename,sum\na.png,3\n")
    assert "labels file" in refused(capsys, *run, truth)
    assert truth.read_text() == "filename,sum\na.png,3\n"
    assert {p: sha256(p) for p in guarded} == before and link.is_symlink()
    assert not [p for p in tmp_path.rglob(".*.tmp")]
    # an old CSV of predictions is replaced as before, and a link to one is written through
    old = tmp_path / "sums.csv"
    old.write_text("file,predicted_sum\nx.png,1\n")
    alias = tmp_path / "latest.csv"
    alias.symlink_to(old)
    status, _, err = cli(capsys, *run, alias)
    assert status == 0, err
    assert alias.is_symlink() and len(read_csv_bytes(old.read_bytes())[1]) == 24


def test_class1_the_guis_export_writer_follows_the_same_rules(imgs):
    """``write_predictions_csv`` is what the window's Export calls: labels and images stay."""
    for dest, reason in [(imgs / "labels.csv", "labels file"), (imgs / "synth_00002.png", "not a CSV")]:
        before = sha256(dest)
        with pytest.raises(ExportError, match=reason):
            write_predictions_csv(ROWS, dest)
        assert sha256(dest) == before


def test_class1_devices_and_pipes_are_written_through_disks_and_sockets_refused(tmp_path, baseline_model, capsys):
    # a character device: a private twin of /dev/null (major 1, minor 3)
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    status, _, err = cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", null)
    assert status == 0, err
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)

    # a named pipe with a reader: the reader gets the whole CSV, the pipe stays a pipe
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    status, _, err = cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", fifo)
    reader.join(30)
    assert status == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and len(read_csv_bytes(got[0])[1]) == 24

    # a block device (a loop disk's node) and a socket: refused, never opened, still there
    disk = tmp_path / "disk"
    os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        for dest in (disk, tmp_path / "sock"):
            assert "not a regular file" in refused(capsys, "predict", SAMPLES, "--model", baseline_model, "-q",
                                                   "--output", dest)
    finally:
        server.close()
    assert stat.S_ISBLK(os.lstat(disk).st_mode) and stat.S_ISSOCK(os.lstat(tmp_path / "sock").st_mode)

    # models and labels go through the same atomic writer, which never replaces a device node
    from core.checkpoint import load_model, save_model

    with pytest.raises(OSError, match="not a regular file"):
        save_model(null, load_model(baseline_model)[0])
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_class1_a_run_failing_before_its_first_row_keeps_the_old_csv(
        synth_folder, baseline_model, tmp_path, capsys, monkeypatch):
    out = tmp_path / "sums.csv"
    out.write_bytes(b"\xef\xbb\xbffile,predicted_sum,confidence,digits,error\nold.png,7,0.9000,,\n")
    before = sha256(out)
    monkeypatch.setattr("core.predict.Predictor", failing_on(read_image(synth_folder / "synth_00000.png")))
    status, stdout, stderr = cli(capsys, "predict", synth_folder, "--model", baseline_model, "--batch-size", "8",
                                 "--device", "cpu", "--output", out, "-q")
    assert status == 1 and stdout == "" and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("digitsum predict: error: prediction stopped after 0 rows")
    assert sha256(out) == before and os.listdir(tmp_path) == ["sums.csv"]
