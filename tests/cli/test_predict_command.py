"""`digitsum predict` (core/cli/predict_command.py), run for real: the prediction CSV, error rows for bad files,
an old CSV kept when a run fails before its first row, the array rule in its help."""

from __future__ import annotations

import os
import shutil
import struct
import time
import zlib

import pytest
from helpers.clitools import ROOT, read_csv_bytes, run_cli, sha256
from helpers.clitools import cli_in_process as cli
from helpers.hostile import failing_on, good_images, write_bad_files
from PIL import Image

from core.inputs.images import ImageReadError, read_image


def test_predict_csv_contract(synthed, predicted):
    assert [r["file"] for r in predicted] == [f"synth_{i:05d}.png" for i in range(12)]  # one row each, in order
    for row in predicted:
        assert 0 <= int(row["predicted_sum"]) <= 36
        assert 0 < float(row["confidence"]) <= 1 and len(row["confidence"].split(".")[1]) == 4
        assert row["digits"] == "" and row["error"] == ""  # the baseline reads no digits


def test_predict_to_stdout_is_the_same_csv(synthed, baseline_model):
    """With the progress bar on: progress and messages go to stderr, stdout holds the CSV alone."""
    proc = run_cli("predict", synthed, "--model", baseline_model)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.encode() == (synthed.parent / "p.csv").read_bytes()
    assert "12 inputs: 12 predicted, 0 unreadable" in proc.stderr


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG signature and IHDR for a huge image, with one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_bad_files_become_error_rows_quickly(synth_folder, baseline_model, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = sorted(synth_folder.glob("*.png"))[:5]
    for i, src in enumerate(good):
        shutil.copy(src, folder / f"good{i}.png")
    data = good[0].read_bytes()
    (folder / "bad1-truncated.png").write_bytes(data[: len(data) // 2])
    (folder / "bad2-empty.png").write_bytes(b"")
    (folder / "bad3-text.png").write_text("this is not an image\n")
    (folder / "bad4-huge.png").write_bytes(png_claiming(30000, 30000))
    t0 = time.time()
    proc = run_cli("predict", folder, "--model", baseline_model, "--output", tmp_path / "p.csv")
    elapsed = time.time() - t0
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 30, elapsed  # seconds, not minutes: the huge PNG is refused from its header
    _, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    bad = [f"bad{i}-{kind}.png" for i, kind in enumerate(["truncated", "empty", "text", "huge"], 1)]
    assert [r["file"] for r in rows] == bad + [f"good{i}.png" for i in range(5)]
    errors = {r["file"]: r["error"] for r in rows if r["error"]}
    assert sorted(errors) == ["bad1-truncated.png", "bad2-empty.png", "bad3-text.png", "bad4-huge.png"]
    for name, reason in errors.items():
        assert reason.strip() and "\n" not in reason and "Traceback" not in reason, (name, reason)
        row = next(r for r in rows if r["file"] == name)
        assert row["predicted_sum"] == "" and row["confidence"] == ""
    assert "large" in errors["bad4-huge.png"].lower() or "pixels" in errors["bad4-huge.png"].lower()
    assert sum(1 for r in rows if r["predicted_sum"]) == 5
    assert "9 inputs: 5 predicted, 4 unreadable" in proc.stderr


@pytest.mark.hardening("issue 6, case 1")
@pytest.mark.usefixtures("baseline_onnx")
def test_case01_bad_files_in_a_folder_are_error_rows_and_the_run_goes_on_in_seconds(tmp_path, baseline_model, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    goods = good_images(6)
    for i, img in enumerate(goods):
        Image.fromarray(img).save(folder / f"good{i}.png")
    bad = write_bad_files(folder, goods[0])
    # the core reader: each bad file is its own typed, one-line reason
    for name, words in bad.items():
        with pytest.raises(ImageReadError) as info:
            read_image(folder / name)
        assert words in str(info.value) and "\n" not in str(info.value), (name, str(info.value))

    t0 = time.monotonic()
    status, _, err = cli(
        capsys, "predict", folder, "--model", baseline_model, "--output", tmp_path / "p.csv", "--batch-size", "4"
    )
    elapsed = time.monotonic() - t0
    assert status == 0, err
    assert elapsed < 30, elapsed  # the 30000x30000 PNG is refused from its header, never decoded
    _, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    assert [r["file"] for r in rows] == sorted(bad) + [f"good{i}.png" for i in range(6)]
    for r in rows:
        if r["file"] in bad:
            assert bad[r["file"]] in r["error"] and r["predicted_sum"] == r["confidence"] == "", r
        else:
            assert r["error"] == "" and 0 <= int(r["predicted_sum"]) <= 36, r
    assert "11 inputs: 6 predicted, 5 unreadable" in err


@pytest.mark.hardening("issue 14, class 1")
def test_class1_a_run_failing_before_its_first_row_keeps_the_old_csv(
    synth_folder, baseline_model, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "sums.csv"
    out.write_bytes(b"\xef\xbb\xbffile,predicted_sum,confidence,digits,error\nold.png,7,0.9000,,\n")
    before = sha256(out)
    monkeypatch.setattr("core.predict.predictor.Predictor", failing_on(read_image(synth_folder / "synth_00000.png")))
    status, stdout, stderr = cli(
        capsys,
        "predict",
        synth_folder,
        "--model",
        baseline_model,
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--output",
        out,
        "-q",
    )
    assert status == 1 and stdout == "" and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("digitsum predict: error: prediction stopped after 0 rows")
    assert sha256(out) == before and os.listdir(tmp_path) == ["sums.csv"]


@pytest.mark.hardening("issue 14, class 3")
def test_class3_the_rule_is_in_the_help_and_the_readme(capsys):
    from core.cli.main import main

    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "floats are 0..1 unless over 1% of their non-zero values exceed 1" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "unless more than 1% of their non-zero values exceed 1" in readme
