"""`digitsum evaluate` (core/cli/evaluate_command.py), run for real: its figures as text and JSON, `.npy` input in
the assignment's format, labels of another length refused, labels naming no input counted."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers.clitools import SAMPLES, TINY_TRAIN, read_csv_bytes, run_cli
from helpers.clitools import cli_in_process as in_process
from helpers.clitools import one_line_any_stdout as one_line
from PIL import Image

HEADER = ["file", "predicted_sum", "confidence", "digits", "error"]


def test_evaluate_and_npy_input(synthed, baseline_model, predicted, tmp_path):
    """`evaluate` prints its figures (text, and --json); the same images as the assignment's
    data0.npy (float64, 0..255) with lab0.npy give the same predictions and the same figures."""
    labels = {ln.split(",")[0]: int(ln.split(",")[1]) for ln in (synthed / "labels.csv").read_text().splitlines()[1:]}
    expected = np.mean([int(r["predicted_sum"]) == labels[r["file"]] for r in predicted])
    proc = run_cli("evaluate", synthed, "--labels", synthed / "labels.csv", "--model", baseline_model)
    assert proc.returncode == 0, proc.stderr
    text = dict(line.rsplit(None, 1) for line in proc.stdout.splitlines())
    assert text["images evaluated"] == "12" and text["accuracy (sum)"] == f"{expected:.4f}"
    assert "mean abs. error" in text

    names = [r["file"] for r in predicted]
    images = np.stack([np.asarray(Image.open(synthed / n), dtype=np.float64) for n in names])
    assert images.shape == (12, 40, 168) and images.max() > 1
    np.save(tmp_path / "data0.npy", images)
    np.save(tmp_path / "lab0.npy", np.array([labels[n] for n in names], dtype=np.float64))

    proc = run_cli("predict", "data0.npy", "--model", baseline_model, "--output", "p.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_bytes((tmp_path / "p.csv").read_bytes())
    assert header == HEADER
    assert [r["file"] for r in rows] == [f"data0.npy:{i}" for i in range(12)]

    def sums(table):
        return [(r["predicted_sum"], r["confidence"]) for r in table]

    assert sums(rows) == sums(predicted)

    proc = run_cli("evaluate", "data0.npy", "--labels", "lab0.npy", "--model", baseline_model, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # stdout holds the JSON object alone (progress is on stderr)
    assert result["count"] == 12 and result["errors"] == 0 and result["unlabelled"] == 0
    assert result["accuracy"] == pytest.approx(expected)
    assert f"{result['mae']:.4f}" == text["mean abs. error"]


def test_default_model_reads_the_samples(default_model):
    """The shipped model on resources/samples (24 composed images): at least 95% exact sums."""
    proc = run_cli("evaluate", SAMPLES, "--labels", SAMPLES / "labels.csv", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == 24 and result["errors"] == 0
    assert result["accuracy"] >= 0.95, result
    assert result["digit_accuracy"] >= 0.95, result


@pytest.mark.hardening("issue 14, class 8")
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


def test_a_labels_csv_names_images_from_its_own_folder(tmp_path, capsys):
    """Images given one by one find their folder's labels; labels kept elsewhere match the
    rows' names; two folders holding files of one name are refused (before the model loads:
    here there is none) rather than scored against one folder's labels."""
    folder = shutil.copytree(SAMPLES, tmp_path / "imgs")
    model = SAMPLES.parent / "models" / "digitsum-resnet50.safetensors"

    def evaluate(*inputs, labels, model=model):
        return in_process(capsys, "evaluate", *inputs, "--labels", labels, "--model", model, "--json", "-q")

    status, out, err = evaluate(folder / "synth_00000.png", folder / "synth_00001.png", labels=folder / "labels.csv")
    assert status == 0, err
    assert json.loads(out)["count"] == 2 and json.loads(out)["labels_without_input"] == 22
    shutil.copy(folder / "labels.csv", tmp_path / "truth.csv")
    status, out, err = evaluate(folder, labels=tmp_path / "truth.csv")
    assert status == 0 and json.loads(out)["count"] == 24, err

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(folder / "synth_00001.png", other / "synth_00000.png")  # another image of the same name
    for labels in (folder / "labels.csv", tmp_path / "truth.csv"):
        line = one_line(*evaluate(folder, other, labels=labels, model=tmp_path / "none.safetensors"), "evaluate")
        assert line.endswith(
            f"synth_00000.png in {labels} would score both {folder / 'synth_00000.png'} and "
            f"{other / 'synth_00000.png'}: evaluate them one at a time"
        )
    # labels kept above both folders name each file by its own path: both score, each its own label
    with open(tmp_path / "truth.csv", "a", encoding="utf-8") as f:
        f.write("other/synth_00000.png,0\n")
    status, out, err = evaluate(folder, other, labels=tmp_path / "truth.csv")
    assert status == 0 and json.loads(out)["count"] == 25 and json.loads(out)["accuracy"] < 1, err
    status, out, err = evaluate(folder, folder / "synth_00001.png", labels=folder / "labels.csv")  # one file twice
    assert status == 0 and json.loads(out)["count"] == 25, err
    status, _, err = in_process(capsys, "predict", folder, other, "--model", model, "-q", "-o", tmp_path / "p.csv")
    assert status == 0 and "1 row named as another input's (synth_00000.png, ...)" in err
