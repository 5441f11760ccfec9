"""The Retrain dialog's lower half fed progress events directly: its Log (issue #24 item 15)."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from digitsum_gui.retrain.progress import STEP_LOG_EVERY_S, TrainingProgress

START = {
    "event": "start",
    "epochs": 2,
    "start_epoch": 0,
    "steps_per_epoch": 4,
    "total_steps": 8,
    "train_images": 256,
    "val_images": 64,
    "device": "CPU",
    "arch": "baseline",
    "head": "sum",
}


def step(n: int, loss: float) -> dict:
    return {"event": "step", "epoch": 1, "step": n, "global_step": n, "loss": loss, "lr": 1e-4, "images_per_s": 41.7}


@pytest.fixture
def panel(qtbot):
    panel = TrainingProgress()
    qtbot.addWidget(panel)
    now = [100.0]
    panel.clock.now = lambda: now[0]
    panel.now = now  # the test's clock
    panel.started()
    yield panel
    panel.ended("Done.")


def log_lines(panel) -> list[str]:
    return panel.log.toPlainText().splitlines()


def test_the_log_shows_the_run_as_its_events_arrive(panel):
    panel.add_event(START)
    assert log_lines(panel) == ["Start: baseline/sum on CPU, 2 epochs of 256 images, 64 to validate on"]

    panel.now[0] += 2
    panel.add_event(step(1, 0.01234))
    panel.now[0] += 2
    panel.add_event(step(2, 0.011))  # two seconds on: the chart has it, the log waits
    assert log_lines(panel)[1:] == ["Epoch 1/2 step 1/4: loss 0.01234, lr 0.0001, 42 images/s"]
    panel.now[0] += STEP_LOG_EVERY_S
    panel.add_event(step(3, 0.0098))
    assert log_lines(panel)[-1] == "Epoch 1/2 step 3/4: loss 0.0098, lr 0.0001, 42 images/s"

    panel.add_log("UserWarning: a warning from the child, in pieces ")  # stderr, as it comes
    panel.add_event(
        {
            "event": "epoch",
            "epoch": 1,
            "epochs": 2,
            "train_loss": 0.0105,
            "val_loss": 0.02,
            "val_acc": 0.984375,
            "val_images": 64,
            "best_val_acc": 0.984375,
            "best_epoch": 1,
        }
    )
    assert log_lines(panel)[-2:] == [
        "UserWarning: a warning from the child, in pieces ",  # its line is not run into the next
        "Epoch 1/2 done: train loss 0.0105, val loss 0.02, val accuracy 98.4% of 64 (best 98.4%, epoch 1)",
    ]
    panel.add_event(
        {
            "event": "done",
            "model": str(Path.home() / "runs" / "x" / "best.safetensors"),
            "metrics": {"epoch": 1, "val_acc": 0.984375},
            "stopped_early": True,
        }
    )
    assert log_lines(panel)[-1] == (
        f"Done, stopped early: best epoch 1, val accuracy 98.4%; model {Path('~/runs/x/best.safetensors')}"
    )
    panel.add_event({"event": "error", "message": "out of memory"})  # the child says it on stderr itself
    assert "out of memory" not in panel.log.toPlainText()


def test_the_log_follows_its_end_unless_scrolled_up(panel, qtbot):
    panel.log_toggle.setChecked(True)
    panel.show()
    qtbot.waitExposed(panel)
    panel.add_event(START)
    for n in range(1, 60):
        panel.now[0] += STEP_LOG_EVERY_S
        panel.add_event(step(n, 1.0 / n))
    bar = panel.log.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # the latest line in sight
    bar.setValue(0)  # the user reads the start
    panel.now[0] += STEP_LOG_EVERY_S
    panel.add_event(step(60, 0.01))
    assert bar.value() == 0
