"""The read-only windows: About, Model info (Markdown in a text browser) and the frame that
Help > Keyboard Shortcuts shares with them (``fill_with_close_button``).

Message boxes are ``digitsum_gui.message_boxes``.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from importlib import metadata
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from core import RESOURCES, __version__
from core.models.store import DEFAULT_MODEL, same_file
from digitsum_gui.model_figures import COMPARE_NOTE, model_figures

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from digitsum_gui.worker import ModelSummary

MODEL_CARD = RESOURCES / "models" / "MODEL_CARD.md"  # in a wheel too (core.RESOURCES: importlib.resources)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)  # no import: torch takes seconds to import
    except metadata.PackageNotFoundError:
        return "not installed"


def about_markdown(summary: ModelSummary | None) -> str:
    """Versions, device and the model card, as Markdown."""
    lines = [
        f"# digitsum {__version__}",
        "Reads the sum of four handwritten digits in 40x168 images.",
        "",
        f"- Python {sys.version.split()[0]}",
        f"- PyTorch {_package_version('torch')}",
        f"- PySide6 {PySide6.__version__} (Qt {qVersion()})",
        f"- Device: {summary.device_name if summary else 'no model loaded yet'}",
        f"- Model: {summary.path if summary else 'none'}",
        "",
    ]
    if MODEL_CARD.is_file():
        lines += ["---", "", MODEL_CARD.read_text(encoding="utf-8", errors="replace")]
    else:
        lines.append("(No model card: resources/models/MODEL_CARD.md is missing.)")
    return "\n".join(lines)


def model_info_markdown(summary: ModelSummary | None) -> str:
    """What the model file says about itself, as Markdown."""
    if summary is None:
        return "# No model loaded\n\nOpen one with File > Open Model..."
    meta = dict(summary.meta)
    metrics = meta.pop("metrics", None) or {}
    is_bundled = same_file(summary.path, DEFAULT_MODEL)
    lines = [
        f"# {summary.name}",
        f"`{summary.path}`",
        "",
        f"- Architecture: **{summary.arch}**, head: **{summary.head}**"
        + (" (reads the four digits)" if summary.head == "digits" else " (sum only)"),
        f"- Running on: {summary.device_name}",
    ]
    for key, label in (
        ("created", "Created"),
        ("version", "digitsum version"),
        ("data", "Training data"),
        ("init", "Started from"),
    ):
        if meta.get(key) not in (None, ""):
            lines.append(f"- {label}: {meta.pop(key)}")
    if epochs := epochs_text(summary.meta):
        lines.append(f"- Epochs: {epochs}")
    if figures := model_figures(metrics, meta.get("digit_split")):
        # written into the file when it was made: the app that reads it (its second look) may
        # have changed since; the bundled model's card has the figures as this version reads
        card = "; Help > About shows its card, with the figures as this version reads" if is_bundled else ""
        lines += ["", "## Accuracy", "", f"As measured when the model was made (Created, above){card}:", ""]
        lines += [f"- {f.long_text()}" for f in figures]
        if len(figures) > 1:
            lines.append("\n" + COMPARE_NOTE)
    if metrics:
        lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
        for key, value in metrics.items():
            lines.append(f"| {key} | {_metric_text(value)} |")
    if meta.get("command"):
        lines += ["", "## Training command", "", f"    {meta.pop('command')}"]
    lines += ["", "## All metadata", "", "```", json.dumps(summary.meta, indent=2, default=str), "```"]
    return "\n".join(lines)


def _metric_text(value: object) -> str:
    """A metric as Model Info's table shows it: a figure to 4 places, a mapping (``val_acc_by_part``) as its pairs."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {_metric_text(v)}" for k, v in value.items())
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def planned_epochs(command: object) -> int | None:
    """The ``--epochs N`` of a ``digitsum train`` command line, or None."""
    try:
        words = shlex.split(str(command or ""))
    except ValueError:
        return None
    for flag, value in itertools.pairwise(words):
        if flag == "--epochs" and value.isdigit():
            return int(value)
    return None


def epochs_text(meta: dict) -> str:
    """``best epoch 5 of 6``: the run keeps its best epoch, which need not be its last."""
    metrics = meta.get("metrics") or {}
    best = metrics.get("epoch", meta.get("epochs_trained"))
    if not isinstance(best, int) or isinstance(best, bool):
        return ""
    total = planned_epochs(meta.get("command"))
    text = f"best epoch {best}" + (f" of {total}" if total and total >= best else "")
    return text + (" (kept from an epoch cut short)" if metrics.get("partial") else "")


class MarkdownDialog(QDialog):
    """A resizable read-only text window with a Close button."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 560)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        fill_with_close_button(self, self.browser)


def fill_with_close_button(dialog: QDialog, content: QWidget) -> None:
    """Lay out a read-only window: ``content`` over a Close button; the window deletes itself when closed."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(content)
    layout.addWidget(buttons)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
