"""The window opens before torch is imported: the GUI's modules never import it at start-up.

``import torch`` takes seconds on a cold disk; the predict worker pays for it on its own
thread after the window is on screen (``digitsum_gui/worker.py``). Facts the GUI needs at
start-up (image size, the largest sum, the models and their heads) come from ``core.spec``.
"""

from __future__ import annotations

from helpers.clitools import python_json

HEAVY = ("torch", "torchvision", "safetensors")


def test_importing_the_main_window_leaves_torch_out():
    code = (
        "import json, sys\n"
        "import digitsum_gui.app, digitsum_gui.main_window, digitsum_gui.retrain.controller\n"
        "import digitsum_gui.labels_controller, digitsum_gui.review, core.spec\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    assert python_json(code, timeout=120) == []


def test_the_readers_of_images_and_labels_need_no_torch():
    code = (
        "import json, sys\n"
        "import core.inputs.images, core.inputs.listing, core.labels.folder_labels, core.train.command\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    assert python_json(code, timeout=120) == []
