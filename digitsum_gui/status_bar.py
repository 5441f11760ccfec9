"""The status bar: device, model and its accuracy, rows done / total, images/s and ETA."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


def format_eta(seconds: float) -> str:
    """``0:42`` or ``1:02:03``; empty while unknown (negative)."""
    if seconds < 0:
        return ""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunStatusBar(QStatusBar):
    """Permanent labels on the right, transient messages (``showMessage``) on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.device_label = QLabel("Device: ...")
        self.model_label = QLabel("Model: loading...")
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m rows")
        self.progress_bar.setMinimumWidth(200)
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(170)
        for widget in (self.progress_bar, self.speed_label, self.model_label, self.device_label):
            self.addPermanentWidget(widget)
        self.progress_bar.hide()

    def set_loading(self, path_text: str) -> None:
        self.model_label.setText(f"Model: loading {path_text}...")

    def set_model(self, summary) -> None:
        """Show a ``worker.ModelSummary`` (or None: no model)."""
        if summary is None:
            self.model_label.setText("Model: none")
            self.model_label.setToolTip("")
            return
        accuracy = summary.accuracy_text
        self.model_label.setText(f"Model: {summary.name}" + (f", {accuracy}" if accuracy else ""))
        self.model_label.setToolTip(f"{summary.path}\n{summary.arch} / {summary.head} head")
        self.device_label.setText(f"Device: {summary.device_name}")

    def run_started(self, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.speed_label.setText("starting...")

    def run_progress(self, done: int, total: int, images_per_s: float, eta: float) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        eta_text = format_eta(eta)
        self.speed_label.setText(f"{images_per_s:,.0f} images/s" + (f", ETA {eta_text}" if eta_text and done < total else ""))

    def run_finished(self, message: str) -> None:
        """Keep the final count in the bar; say how it ended on the left."""
        self.showMessage(message)
