"""Make a run's best model the bundled default, or restate the default's figures: fp16, stranger figures inside.

    digitsum synth /tmp/h-synth --count 10000 --seed 1                    # and --layout grid, touch
    digitsum evaluate /tmp/h-synth --labels /tmp/h-synth/labels.csv --model RUN/best.safetensors --json > synth.json
    python benchmarks/ship_default_model.py RUN/best.safetensors --synth synth.json --grid grid.json --touch touch.json

The three JSON files are `digitsum evaluate --json` on the report half of MNIST's test writers
(the bundled bank's held-out digits, what a fresh clone's `digitsum synth` composes), second
look on: the default setup. The synth layout's figure leads wherever the app shows the model
(``heldout_writers_acc``, "writers it never saw"); grid and touch are kept beside it. Figures
on other digits (the old index split) are dropped: they are not about strangers.
Writes resources/models/digitsum-resnet50.safetensors; make its int8 ONNX file after it
(``digitsum export-onnx resources/models/digitsum-resnet50.safetensors``). Given the bundled
model itself (a copy of it), it writes the same fp16 weights with the new figures: what a
changed held-out set needs without a new model.
"""

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models.checkpoint import load_model, save_model
from core.models.store import DEFAULT_MODEL

SET = (
    "{count:,} images: digitsum synth OUT --count {count} --seed 1{layout} from the bundled bank's held-out "
    "digits (2,512 digits by the 76 report-half MNIST test writers, none of whose digits any model here "
    "trained on), second look on"
)

# a path's folders, absolute or relative: those of the machine that trained it, meaningless anywhere else
FOLDERS = re.compile(r"(?<![\w#])(?:\.{0,2}/)?(?:[\w.-]+/)+(?=[\w.-])")


def without_folders(text: str) -> str:
    """``text`` with every path cut to its file name: ``--out /home/me/runs/ft`` -> ``--out ft``."""
    return FOLDERS.sub("", text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="the run's best.safetensors")
    for layout in ("synth", "grid", "touch"):
        p.add_argument(f"--{layout}", required=True, help=f"digitsum evaluate --json on the {layout} layout")
    p.add_argument("--out", default=str(DEFAULT_MODEL), help="where to write (default: the bundled model)")
    p.add_argument("--init-note", default=None, help="what the model started from, in words (default: as recorded)")
    p.add_argument("--hardware", default=None, help="what it trained on, in words (default: as recorded)")
    args = p.parse_args()
    model, info = load_model(args.model, "cpu")
    metrics = {k: v for k, v in info.meta.get("metrics", {}).items() if not k.startswith("heldout")}
    for layout in ("synth", "grid", "touch"):
        figures = json.loads(Path(getattr(args, layout)).read_text())
        key = "heldout_writers" if layout == "synth" else f"heldout_writers_{layout}"
        metrics[f"{key}_acc"] = figures["accuracy"]
        metrics[f"{key}_digit_acc"] = figures["digit_accuracy"]
        metrics[f"{key}_images"] = figures["count"]
        metrics[key] = SET.format(count=figures["count"], layout="" if layout == "synth" else f" --layout {layout}")
    meta = {k: v for k, v in info.meta.items() if k not in ("format", "created", "version")}
    meta["metrics"] = metrics
    for key, given in (("init", args.init_note), ("hardware", args.hardware)):
        if given:
            meta[key] = given
    for key in ("command", "data", "init"):
        if isinstance(meta.get(key), str):
            meta[key] = without_folders(meta[key])
    save_model(args.out, model, meta, half=True)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k.endswith("_acc")))


if __name__ == "__main__":
    main()
