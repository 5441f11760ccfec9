"""core.predict.prediction_csv: the prediction CSV, its escaping and its atomic writes, on real files."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers.clitools import SAMPLES, child_env, one_line, read_csv_bytes, sha256
from helpers.clitools import cli_in_process as cli

from core.predict.prediction_csv import CSV_COLUMNS, ExportError, read_predictions_csv, write_predictions_csv
from core.predict.rows import PredictionRow
from core.predict.rows import PredictionRow as Row  # the rows prediction gives the writer

ROWS = [
    Row("img1.png", 17, 0.912345, "4973"),
    Row("sub/img2.png", 0, 1.0, ""),
    Row("broken.png", None, None, "", "not an image"),
]


def test_file_layout_bom_header_numbers(tmp_path):
    dest = tmp_path / "out.csv"
    assert write_predictions_csv(ROWS, dest) == 3
    raw = dest.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    assert raw.decode("utf-8-sig").splitlines() == [
        ",".join(CSV_COLUMNS),
        "img1.png,17,0.9123,4973,",
        "sub/img2.png,0,1.0000,,",
        "broken.png,,,,not an image",
    ]
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o644


def test_formula_cells_are_escaped_numbers_are_not(tmp_path):
    odd = ["=HYPERLINK(1)", "+1", "-dash.png", "@SUM(A1)", "\tx.png", "\rx.png", "plain.png", "a'=b"]
    rows = [Row(name, 5, 0.5, "=1+1" if i == 0 else "", "-oops" if i == 1 else "") for i, name in enumerate(odd)]
    dest = tmp_path / "out.csv"
    write_predictions_csv(rows, dest)
    raw = read_predictions_csv(dest, unescape=False)
    assert [r["file"] for r in raw] == ["'" + n for n in odd[:6]] + odd[6:]
    assert raw[0]["digits"] == "'=1+1" and raw[1]["error"] == "'-oops"
    assert all(r["predicted_sum"] == "5" and r["confidence"] == "0.5000" for r in raw)
    back = read_predictions_csv(dest)
    assert [r["file"] for r in back] == odd and back[0]["digits"] == "=1+1"


def test_unicode_commas_quotes_newlines_round_trip(tmp_path):
    names = ["ünï cødé.png", "a,b.png", 'say "hi".png', "two\nlines.png", "cr\rmid.png", "日本語.png"]
    dest = tmp_path / "out.csv"
    write_predictions_csv([Row(n, 1, 0.25) for n in names], dest)
    assert [r["file"] for r in read_predictions_csv(dest)] == names


def test_error_is_kept_on_one_line(tmp_path):
    dest = tmp_path / "out.csv"
    write_predictions_csv([Row("a.png", error="bad\nthing\r\nhere")], dest)
    assert read_predictions_csv(dest)[0]["error"] == "bad thing here"


def test_generator_mappings_and_extra_columns(tmp_path):
    def rows():
        yield Row("a.png", 3, 0.1)
        yield {"file": "b.png", "predicted_sum": 4, "confidence": 0.2, "digits": "", "error": ""}

    corrected = {"a.png": 5}
    extra = {
        "corrected_sum": lambda r: corrected.get(r["file"] if isinstance(r, dict) else r.file),
        "note": lambda r: "-check",
    }
    dest = tmp_path / "out.csv"
    assert write_predictions_csv(rows(), dest, extra_columns=extra) == 2
    lines = dest.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "file,predicted_sum,confidence,digits,error,corrected_sum,note"
    assert lines[1:] == ["a.png,3,0.1000,,,5,'-check", "b.png,4,0.2000,,,,'-check"]


def test_stdout_dash(capsys):
    write_predictions_csv(ROWS[:1], "-")
    out = capsys.readouterr().out
    assert out.startswith("\ufeff" + ",".join(CSV_COLUMNS) + "\n")
    assert out.endswith("img1.png,17,0.9123,4973,\n")


def test_text_stream():
    buf = io.StringIO()
    write_predictions_csv(iter(ROWS), buf)
    assert buf.getvalue().startswith("\ufeff" + "file,")
    assert len(buf.getvalue().splitlines()) == 4


def test_stream_that_cannot_be_written(tmp_path):
    (tmp_path / "ro.csv").write_text("")
    with open(tmp_path / "ro.csv") as read_only, pytest.raises(ExportError):
        write_predictions_csv(ROWS, read_only)


# ---------------------------------------------------------------- atomic writes


def only(folder):
    return sorted(os.listdir(folder))


def test_overwrite_keeps_mode(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    os.chmod(dest, 0o600)
    write_predictions_csv(ROWS, dest)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert only(tmp_path) == ["out.csv"]


def test_rename_onto_directory_fails_cleanly(tmp_path):
    dest = tmp_path / "out.csv"
    dest.mkdir()
    (dest / "inside.txt").write_text("keep")
    with pytest.raises(ExportError) as info:
        write_predictions_csv(ROWS, dest)
    assert isinstance(info.value, OSError) and "\n" not in str(info.value)
    assert only(tmp_path) == ["out.csv"] and only(dest) == ["inside.txt"]


def test_failure_mid_stream_leaves_old_file_identical(tmp_path):
    dest = tmp_path / "out.csv"
    write_predictions_csv(ROWS, dest)
    before = dest.read_bytes()

    def rows():
        yield from ROWS
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):  # the caller's error, not ours
        write_predictions_csv(rows(), dest)
    assert dest.read_bytes() == before and only(tmp_path) == ["out.csv"]


def test_parent_is_a_file_or_missing(tmp_path):
    (tmp_path / "afile").write_text("x")
    for dest in [tmp_path / "afile" / "out.csv", tmp_path / "absent" / "out.csv"]:
        with pytest.raises(ExportError, match="cannot write"):
            write_predictions_csv(ROWS, dest)
    assert only(tmp_path) == ["afile"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "out.csv").write_text("old")
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(ExportError):
            write_predictions_csv(ROWS, folder / "out.csv")
        assert (folder / "out.csv").read_text() == "old" and only(folder) == ["out.csv"]
    finally:
        os.chmod(folder, 0o755)


def test_unencodable_text_fails_cleanly(tmp_path):
    # A lone surrogate (from a badly decoded file name) cannot be written as UTF-8.
    dest = tmp_path / "out.csv"
    dest.write_bytes(b"old")
    with pytest.raises(ExportError):
        write_predictions_csv([Row("bad\udcff.png", 1, 0.5)], dest)
    assert dest.read_bytes() == b"old" and only(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("spelled", ["labels.csv/", "labels.csv/.", "synth_00000.png/."])
def test_predict_refuses_an_output_spelled_as_a_folder(capsys, tmp_path, spelled):
    import shutil

    from helpers.clitools import ROOT, cli_in_process

    folder = shutil.copytree(ROOT / "resources" / "samples", tmp_path / "imgs")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    status, _, err = cli_in_process(capsys, "predict", folder, "--output", f"{folder}/{spelled}", "-q")
    assert status == 1 and err.strip().endswith(
        "names a folder (a trailing / or /.), and there is none: write to the file's own name"
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_predict_refuses_an_empty_output_name_before_any_work(capsys):
    from helpers.clitools import ROOT, cli_in_process

    status, out, err = cli_in_process(capsys, "predict", ROOT / "resources" / "samples", "--output", "", "-q")
    assert status == 1 and out == ""
    said = "no output file named (an empty name); name a CSV file, or - for stdout"
    assert err.strip() == f"digitsum predict: error: {said}"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
def test_an_output_naming_an_open_descriptor_is_written_into_it_never_over_its_file(tmp_path):
    """``--output /dev/stdout >> log.txt`` appends to the log: the file behind the descriptor is
    neither replaced (it was, through the link) nor opened again (that would cut or overwrite it)."""
    log = tmp_path / "log.txt"
    log.write_text("my log line\n")
    with open(log, "a") as f:
        inode = os.stat(log).st_ino
        for spelled in (f"/dev/fd/{f.fileno()}", f"/proc/self/fd/{f.fileno()}"):
            assert write_predictions_csv(ROWS[:1], spelled) == 1
    text = log.read_text(encoding="utf-8")
    assert text.startswith("my log line\n") and text.count("img1.png,17") == 2
    assert os.stat(log).st_ino == inode and sorted(os.listdir(tmp_path)) == ["log.txt"]


# ================================================================ hardening cases (docs/RELIABILITY.md)


def rows_for(n: int) -> list[PredictionRow]:
    return [PredictionRow(f"img{i}.png", i % 37, 0.5) for i in range(n)]


@pytest.mark.hardening("issue 6, case 10")
@pytest.mark.skipif(
    subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0
    if shutil.which("unshare")
    else True,
    reason="needs unshare (user and mount namespaces)",
)
def test_case10_a_read_only_filesystem_keeps_the_previous_csv(tmp_path):
    """A real read-only mount (tmpfs remounted ro in a private mount namespace): chmod would not
    stop root, who runs these tests. The previous CSV must be byte-identical, no temporary left."""
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (
        "import hashlib, json, os, sys\n"
        "from core.predict.prediction_csv import ExportError, write_predictions_csv\n"
        "from core.predict.rows import PredictionRow\n"
        "dest = sys.argv[1]\n"
        "before = hashlib.sha256(open(dest, 'rb').read()).hexdigest()\n"
        "try:\n"
        "    write_predictions_csv([PredictionRow('a.png', 3, 0.5)], dest)\n"
        "    error = None\n"
        "except ExportError as exc:\n"
        "    error = str(exc)\n"
        "after = hashlib.sha256(open(dest, 'rb').read()).hexdigest()\n"
        "print(json.dumps({'error': error, 'same': before == after, 'files': os.listdir(os.path.dirname(dest))}))\n"
    )
    shell = (
        f'mount -t tmpfs tmpfs "{mount}" && printf "old,csv\\n" > "{mount}/sums.csv" && '
        f'mount -o remount,ro "{mount}" && exec "{sys.executable}" -c "$0" "{mount}/sums.csv"'
    )
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", shell, script], capture_output=True, text=True, env=child_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["error"] and "Read-only file system" in result["error"] and "\n" not in result["error"]
    assert result["same"] and result["files"] == ["sums.csv"]


@pytest.mark.hardening("issue 6, case 10")
def test_case10_the_disk_failing_midway_keeps_the_previous_csv(tmp_path):
    """A real write failure in the middle of the file: a 4 KiB file-size limit (RLIMIT_FSIZE) makes
    write(2) fail with EFBIG once the temporary file reaches it, as a full disk fails with ENOSPC."""
    dest = tmp_path / "sums.csv"
    write_predictions_csv(rows_for(3), dest)
    before = dest.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death by SIGXFSZ
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(ExportError) as info:
            write_predictions_csv(rows_for(5000), dest)  # ~100 KB: fails after the first 4 KiB
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "File too large" in str(info.value) and "\n" not in str(info.value)
    assert dest.read_bytes() == before and os.listdir(tmp_path) == ["sums.csv"]


@pytest.mark.hardening("issue 6, case 10")
@pytest.mark.usefixtures("baseline_onnx")
def test_case10_cli_output_onto_a_directory_or_under_a_file_fails_cleanly(tmp_path, baseline_model, capsys):
    """The rename fails for real (the destination is a directory); the parent is a file (ENOTDIR).
    Either way: exit 1 with one line, the directory and the previous CSV beside it untouched."""
    (tmp_path / "previous.csv").write_bytes(b"\xef\xbb\xbfold\n")
    (tmp_path / "taken.csv").mkdir()
    (tmp_path / "taken.csv" / "inside.txt").write_text("keep")
    (tmp_path / "afile").write_text("x")
    line = one_line(
        *cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", tmp_path / "taken.csv"), "predict"
    )
    assert "cannot write" in line and "directory" in line.lower()
    line = one_line(
        *cli(capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", tmp_path / "afile" / "out.csv"),
        "predict",
    )
    assert "cannot write" in line and "Not a directory" in line
    assert sorted(os.listdir(tmp_path)) == ["afile", "previous.csv", "taken.csv"]
    assert os.listdir(tmp_path / "taken.csv") == ["inside.txt"]
    assert (tmp_path / "previous.csv").read_bytes() == b"\xef\xbb\xbfold\n"


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


@pytest.mark.hardening("issue 14, class 1")
def test_class1_an_output_never_replaces_an_input_a_labels_file_or_a_file_that_is_not_text(
    imgs, tmp_path, baseline_model, capsys
):
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


@pytest.mark.hardening("issue 14, class 1")
def test_class1_the_guis_export_writer_follows_the_same_rules(imgs):
    """``write_predictions_csv`` is what the window's Export calls: labels and images stay."""
    for dest, reason in [(imgs / "labels.csv", "labels file"), (imgs / "synth_00002.png", "not a CSV")]:
        before = sha256(dest)
        with pytest.raises(ExportError, match=reason):
            write_predictions_csv(ROWS, dest)
        assert sha256(dest) == before


@pytest.mark.hardening("issue 14, class 1")
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
            assert "not a regular file" in refused(
                capsys, "predict", SAMPLES, "--model", baseline_model, "-q", "--output", dest
            )
    finally:
        server.close()
    assert stat.S_ISBLK(os.lstat(disk).st_mode) and stat.S_ISSOCK(os.lstat(tmp_path / "sock").st_mode)

    # models and labels go through the same atomic writer, which never replaces a device node
    from core.models.checkpoint import load_model, save_model

    with pytest.raises(OSError, match="not a regular file"):
        save_model(null, load_model(baseline_model)[0])
    assert stat.S_ISCHR(os.lstat(null).st_mode)
