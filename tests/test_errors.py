"""Every error core reports as a line derives from one base, and keeps its built-in base."""

import importlib
import inspect
import pkgutil

import core
from core.errors import DigitsumError


def core_error_classes() -> list[type]:
    found = []
    # every module below core/, sub-packages included (iter_modules alone sees only the top level)
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        module = importlib.import_module(info.name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Exception) and not issubclass(cls, Warning) and cls.__module__ == module.__name__
        ]
    return found


def test_every_core_error_is_a_digitsum_error():
    classes = core_error_classes()
    names = {cls.__name__ for cls in classes}
    assert {"InputError", "ModelFileError", "ExportError", "DeviceError", "TrainingError", "CommandError"} <= names
    assert [cls.__name__ for cls in classes if not issubclass(cls, DigitsumError)] == []


def test_built_in_bases_are_kept():
    from core.inputs.listing import InputError
    from core.predict.prediction_csv import ExportError
    from core.train.errors import TrainingError

    assert issubclass(InputError, ValueError) and issubclass(ExportError, OSError)
    assert issubclass(TrainingError, RuntimeError)
    assert str(ExportError("cannot write x: disk full")) == "cannot write x: disk full"


def test_a_command_ended_by_a_signal_exits_as_a_shell_reports_it():
    import signal

    from core.errors import signal_exit_status

    assert signal_exit_status(signal.SIGTERM) == 143 and signal_exit_status(signal.SIGINT) == 130
