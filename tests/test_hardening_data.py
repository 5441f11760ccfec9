"""Issue 14, classes 8, 3 and 10: the user's data is never dropped in silence, one bad value
spoils only its own row, and a deep tree is walked without recursion.

Real files and real ``digitsum`` processes throughout.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from helpers.clitools import ROOT, run_cli
from PIL import Image

SAMPLES = ROOT / "resources" / "samples"
TINY_TRAIN = ["--arch", "baseline", "--head", "sum", "--epochs", "1", "--batch-size", "16", "--device", "cpu"]


def in_process(capsys, *args) -> tuple[int, str, str]:
    from core.cli.main import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def one_line(status: int, out: str, err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and "Traceback" not in err, (status, err)
    assert lines[0].startswith(f"digitsum {command}: error: "), lines[0]
    return lines[0]


# ================================================================ class 8: never dropped in silence


def test_class8_unreadable_labelled_files_are_counted_and_named_and_all_gone_is_refused(tmp_path):
    data = shutil.copytree(SAMPLES, tmp_path / "data")
    (data / "cut.png").write_bytes((SAMPLES / "synth_00000.png").read_bytes()[:100])
    (data / "empty.png").write_bytes(b"")
    (data / "notes.png").write_text("not an image")
    labels = (data / "labels.csv").read_text() + "cut.png,5\nempty.png,6\nnotes.png,7\ngone.png,8\n"
    (data / "labels.csv").write_text(labels)
    proc = run_cli("train", "--data", data, *TINY_TRAIN, "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "left out" in line]
    assert notes == [
        f"digitsum train: note: {data}: 4 of 28 labelled files could not be read and are left out: "
        "cut.png (truncated image file), empty.png (empty file), notes.png (not an image (or not a "
        "supported format)) and 1 more"
    ]

    # every labelled file unreadable: refused in one line that says why
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("cut.png", "empty.png"):
        shutil.copy(data / name, bad / name)
    (bad / "labels.csv").write_text("filename,sum\ncut.png,5\nempty.png,6\n")
    proc = run_cli("train", "--data", bad, *TINY_TRAIN, "--out", tmp_path / "run2")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"digitsum train: error: {bad}: ")
    assert lines[0].endswith(
        "no readable labelled images (none of 2 could be read: cut.png (truncated image file), empty.png (empty file))"
    )


def test_class8_evaluate_refuses_labels_of_another_length_as_train_does(tmp_path, capsys):
    images = np.stack([np.asarray(Image.open(SAMPLES / f"synth_{i:05d}.png")) for i in range(10)])
    np.save(tmp_path / "data0.npy", images)
    for count in (12, 8):
        np.save(tmp_path / "lab0.npy", np.arange(count) % 37)
        line = one_line(
            *in_process(
                capsys,
                "evaluate",
                tmp_path / "data0.npy",
                "--labels",
                tmp_path / "lab0.npy",
                "--model",
                SAMPLES.parent / "models" / "digitsum-resnet50.safetensors",
                "-q",
            ),
            "evaluate",
        )
        assert line.endswith(f"data0.npy has 10 images but lab0.npy has {count} sums")
        from core.train.script import run_cli as train

        assert train(["--data", str(tmp_path / "data0.npy"), *TINY_TRAIN, "--out", str(tmp_path / "run")]) == 1
        assert capsys.readouterr().err.strip().endswith(f"data0.npy has 10 images but lab0.npy has {count} sums")

    # labels.csv naming files that are not there: said in the figures, not silently left out
    folder = shutil.copytree(SAMPLES, tmp_path / "imgs")
    (folder / "labels.csv").write_text((folder / "labels.csv").read_text() + "absent1.png,3\nabsent2.png,4\n")
    proc = run_cli("evaluate", folder, "--labels", folder / "labels.csv", "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == 24 and result["labels_without_input"] == 2


BANKS = {
    "label 12": (np.arange(60) % 13, "digit labels must be 0..9, got 10 at index 10 (12 of 60 outside)"),
    "label -1": (-(np.arange(60) % 3), "digit labels must be 0..9, got -1 at index 1 (40 of 60 outside)"),
    "label 0.5": (np.arange(60) % 10 + 0.5, "digit labels must be whole numbers 0..9, got dtype float64"),
    "no digits": (np.zeros(0, np.int64), "the digit bank holds no digits"),
}


@pytest.mark.parametrize("case", BANKS)
def test_class8_a_digit_bank_with_bad_labels_or_no_digits_gives_one_line(case, tmp_path, capsys):
    from core.train.script import run_cli as train

    labels, reason = BANKS[case]
    digits = np.random.default_rng(0).integers(0, 255, (len(labels), 28, 28), dtype=np.uint8)
    bank = tmp_path / "bank.npz"
    np.savez(bank, x=digits, y=labels)
    line = one_line(*in_process(capsys, "synth", tmp_path / "out", "--count", 3, "--mnist", bank), "synth")
    assert line == f"digitsum synth: error: {bank}: {reason}"
    status = train(["--data", "synthetic:16", "--mnist", str(bank), *TINY_TRAIN, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err == [f"digitsum train: error: synthetic data: {bank}: {reason}"]
    assert sorted(os.listdir(tmp_path)) == ["bank.npz", "run"] and not (tmp_path / "run" / "best.safetensors").exists()
    if case == "label 12":  # and once as a real process
        proc = run_cli("synth", tmp_path / "out", "--count", 3, "--mnist", bank)
        assert proc.returncode == 1 and proc.stderr.strip() == f"digitsum synth: error: {bank}: {reason}"


# ================================================================ class 3: one bad value, one bad row


def _samples(n: int) -> np.ndarray:
    return np.stack([np.asarray(Image.open(SAMPLES / f"synth_{i:05d}.png")) for i in range(n)])  # uint8 (n, 40, 168)


def test_class3_one_outlier_spoils_only_its_own_row_and_never_the_files_scale(tmp_path, baseline_model):
    """Real .npy files through one real `digitsum predict`: each poisoned file must give the clean
    file's rows everywhere but on the poisoned rows, which are error rows naming the values."""
    from helpers.clitools import read_csv_bytes

    clean = _samples(12)
    cases = {  # name: (array, row, value put at one pixel, the row's error)
        "float01_inf.npy": (clean / 255.0, 3, np.inf, "image contains NaN or infinite values"),
        "float01_two.npy": (clean / 255.0, 5, 2.0, "values from 0 to 2, outside this file's range 0..1"),
        "float255_inf.npy": (clean.astype(np.float64), 3, np.inf, "image contains NaN or infinite values"),
        "uint16_256.npy": (clean.astype(np.uint16), 7, 256, "values from 0 to 256, outside this file's range 0..255"),
        "int16_negative.npy": (
            clean.astype(np.int16),
            2,
            -1,
            "values from -1 to 255, outside this file's range 0..255",
        ),
    }
    np.save(tmp_path / "clean.npy", clean)
    np.save(tmp_path / "uint16_full.npy", clean.astype(np.uint16) * 257)  # real 16-bit data stays 16-bit
    for name, (arr, row, value, _) in cases.items():
        arr = arr.copy()
        arr[row, 20, 80] = value
        np.save(tmp_path / name, arr)
    names = ["clean.npy", "uint16_full.npy", *cases]
    out = tmp_path / "out.csv"
    proc = run_cli(
        "predict", *[tmp_path / n for n in names], "--model", baseline_model, "--device", "cpu", "--output", out, "-q"
    )
    assert proc.returncode == 0, proc.stderr
    rows = read_csv_bytes(out.read_bytes())[1]
    by_file = {n: rows[12 * k : 12 * (k + 1)] for k, n in enumerate(names)}
    reference = [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file["clean.npy"]]
    assert all(r[2] == "" for r in reference)
    assert [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file["uint16_full.npy"]] == reference
    for name, (_, bad, _, reason) in cases.items():
        got = [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file[name]]
        assert got[bad] == ("", "", reason), (name, got[bad])
        assert got[:bad] + got[bad + 1 :] == reference[:bad] + reference[bad + 1 :], name


def test_class3_the_rule_is_in_the_help_and_the_readme(capsys):
    from core.cli.main import main

    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "floats are 0..1 unless over 1% of their non-zero values exceed 1" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "unless more than 1% of their non-zero values exceed 1" in readme


# ================================================================ class 10: deep trees


def test_class10_a_tree_1500_folders_deep_is_walked_without_recursion(tmp_path, baseline_model):
    """A real tree 1,500 folders deep (a 3,000-character path) through a real `digitsum predict
    --recursive`: the images at its top, middle and bottom are all found, in order, with their paths."""
    from helpers.clitools import read_csv_bytes

    root = tmp_path / "deep"
    depth = 1500
    png = (SAMPLES / "synth_00000.png").read_bytes()
    levels = {1: "top.png", 750: "middle.png", depth: "bottom.png"}
    folder = root
    try:
        for level in range(1, depth + 1):
            folder = folder / "d"
            folder.mkdir(parents=level == 1)
            if level in levels:
                (folder / levels[level]).write_bytes(png)
        out = tmp_path / "deep.csv"
        proc = run_cli(
            "predict", root, "--recursive", "--model", baseline_model, "--device", "cpu", "--output", out, "-q"
        )
        assert proc.returncode == 0 and "RecursionError" not in proc.stderr, proc.stderr[-2000:]
        rows = read_csv_bytes(out.read_bytes())[1]
        # natural order by path parts: a folder "d" sorts before the file "top.png" beside it
        assert [r["file"] for r in rows] == ["d/" * level + name for level, name in reversed(levels.items())]
        assert all(r["error"] == "" and r["predicted_sum"].isdigit() for r in rows)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses: remove the tree bottom-up here
        while folder != tmp_path:
            for child in folder.iterdir() if folder.is_dir() else ():
                child.unlink()
            if folder.is_dir():
                folder.rmdir()
            folder = folder.parent
