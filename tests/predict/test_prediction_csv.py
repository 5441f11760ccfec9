"""core.predict.prediction_csv: the prediction CSV, its escaping and its atomic writes, on real files."""

from __future__ import annotations

import io
import os
import stat

import pytest

from core.predict.prediction_csv import CSV_COLUMNS, ExportError, read_predictions_csv, write_predictions_csv
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
