"""benchmarks/ship_default_model.py: a run's model made the default, with the report half's figures and
no folder of the machine that trained it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors import safe_open

from core.models.checkpoint import load_model, save_model

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ship_default_model.py"


def test_ships_fp16_with_the_figures_and_without_folders(default_model, tmp_path):
    model, info = load_model(default_model)
    run_model = tmp_path / "best.safetensors"
    save_model(run_model, model, {
        "command": "digitsum train --init .data/shipped.safetensors --mnist ../shared/data/mnist-train.npz "
                   "--lr 5e-5 --out /home/someone/runs/ft-touch --progress json",
        "data": "synthetic:9600 from /home/someone/data/mnist-train.npz#8caa25a3",
        "init": "/home/someone/.data/shipped.safetensors",
        "metrics": {"val_acc": 0.97, "heldout_writers_acc": 0.5},
    })  # fmt: skip
    figures = []
    for layout, acc in (("synth", 0.9835), ("grid", 0.9871), ("touch", 0.9347)):
        path = tmp_path / f"{layout}.json"
        path.write_text(json.dumps({"accuracy": acc, "digit_accuracy": 0.99, "count": 10000}))
        figures += [f"--{layout}", str(path)]
    out = tmp_path / "shipped.safetensors"
    subprocess.run([sys.executable, str(SCRIPT), str(run_model), *figures, "--out", str(out),
                    "--hardware", "2 CPU cores"], check=True, capture_output=True)  # fmt: skip

    with safe_open(str(out), "pt") as f:
        meta = json.loads(f.metadata()["digitsum"])
        dtypes = {f.get_tensor(k).dtype for k in f.keys()}
    assert torch.float16 in dtypes and torch.float32 not in dtypes
    assert meta["command"] == (
        "digitsum train --init shipped.safetensors --mnist mnist-train.npz --lr 5e-5 --out ft-touch --progress json"
    )
    assert meta["data"] == "synthetic:9600 from mnist-train.npz#8caa25a3"
    assert meta["init"] == "shipped.safetensors" and meta["hardware"] == "2 CPU cores"
    metrics = meta["metrics"]
    assert metrics["val_acc"] == 0.97  # the run's own figures stay; the stale held-out one is replaced
    assert (metrics["heldout_writers_acc"], metrics["heldout_writers_grid_acc"]) == (0.9835, 0.9871)
    assert metrics["heldout_writers_touch_images"] == 10000
