"""Shared fixtures: real model files (tiny and default), composed image folders."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent


# pytest-qt turns on QStandardPaths' test mode, whose data folders live in ~/.qttest: a suite that
# made that folder takes it away again (one the user already had stays). Done by the process that
# runs the whole session, pytest-xdist's controller when the suite runs in workers (`-n 2`), so no
# worker takes the folder from under another that is still writing settings there.
QTTEST = Path.home() / ".qttest"
_QTTEST_EXISTED = pytest.StashKey[bool]()


def _runs_the_whole_session(config) -> bool:
    return not hasattr(config, "workerinput")  # set on pytest-xdist's workers only


def pytest_sessionstart(session):
    if _runs_the_whole_session(session.config):
        session.config.stash[_QTTEST_EXISTED] = QTTEST.exists()


def pytest_sessionfinish(session):
    if _runs_the_whole_session(session.config) and not session.config.stash.get(_QTTEST_EXISTED, True):
        shutil.rmtree(QTTEST, ignore_errors=True)


@pytest.fixture(scope="session")
def baseline_model(tmp_path_factory) -> Path:
    """A real (untrained, seeded) baseline CNN model file: fast, reads no digits."""
    import torch

    from core.models.checkpoint import save_model
    from core.models.networks import build_model

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "baseline.safetensors"
    save_model(path, build_model("baseline", "sum"), {"metrics": {"val_acc": 0.05}})
    return path


@pytest.fixture
def baseline_onnx(baseline_model) -> None:
    """``baseline_model``'s int8 ONNX file, made beside it unless a run made it already.

    The first CPU run of a model makes that file (~30 s) and says so on stderr: a test that times
    a run, or wants one line on stderr, asks for this first (``@pytest.mark.usefixtures``), so it
    passes alone as it does after the tests that made the file.
    """
    from core.predict.onnx_model import open_onnx

    open_onnx(baseline_model, threads=1)


@pytest.fixture(scope="session")
def digits_model(tmp_path_factory) -> Path:
    """A ResNet-50 digits model file, stored fp16, with its int8 ONNX file beside it: a copy of
    the shipped default's two files, so a test may write beside it. (Making an ONNX file for a
    fresh one would cost ~25 s; test_onnxexport covers that.)"""
    from core.models.onnx_file import onnx_path
    from core.models.store import DEFAULT_MODEL

    path = tmp_path_factory.mktemp("models") / "digits.safetensors"
    shutil.copyfile(DEFAULT_MODEL, path)
    shutil.copyfile(onnx_path(DEFAULT_MODEL), onnx_path(path))
    return path


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The shipped default model."""
    from core.models.store import DEFAULT_MODEL

    return DEFAULT_MODEL


@pytest.fixture(scope="session")
def synth_folder(tmp_path_factory) -> Path:
    """40 composed PNGs with labels.csv (bundled digit bank, seed 3)."""
    from core.synth.bank import load_bank
    from core.synth.folder import write_synthetic_folder

    return write_synthetic_folder(tmp_path_factory.mktemp("synth"), 40, load_bank(), seed=3)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models and batches: on a small, shared CPU one thread beats two fighting for it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def settings(tmp_path):
    """A throwaway QSettings file: GUI tests never touch the user's real preferences."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings, baseline_model):
    """A factory of real MainWindows with throwaway settings, closed (and joined) at teardown.

    ``wait_for_model=True`` returns only once the worker thread has loaded the model.
    """
    from digitsum_gui.main_window import MainWindow

    def make(model=baseline_model, wait_for_model=False, **kwargs):
        window = MainWindow(settings=settings, model_path=model, **kwargs)
        qtbot.addWidget(window)  # closed at teardown: closeEvent stops and joins the worker
        window.show()
        if wait_for_model:
            with qtbot.waitSignal(window.model_changed, timeout=120_000):
                pass
        return window

    return make


@pytest.fixture
def rows_window(qtbot, make_window, settings, tmp_path):
    """A factory of real MainWindows showing ``rows`` (``core.predict.rows.PredictionRow``) as if a run
    had read them from a folder, without running the model: a review of hundreds of rows in a
    second. The folder (``window.source[0]``) holds no images, and ``labels`` (name -> sum), if
    given, as its labels.csv.
    """
    from core.labels.labels_csv import write_labels_csv
    from digitsum_gui.model_store import ModelStore

    def make(rows, labels=None):
        folder = tmp_path / "images"
        folder.mkdir(exist_ok=True)
        if labels is not None:
            write_labels_csv(folder / "labels.csv", {name: (total, None) for name, total in labels.items()})
        settings.setValue("auto_predict", False)  # the rows are these, not the model's
        window = make_window(store=ModelStore(tmp_path / "appdata"))
        window.open_folder(folder)
        window.table_model.set_rows(rows)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # keys go where the focus is
        return window

    return make
