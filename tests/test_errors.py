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
    expected = {
        "InputError",
        "ModelFileError",
        "ExportError",
        "OnnxExportError",
        "DeviceError",
        "TrainingError",
        "CommandError",
    }
    assert expected <= names
    assert [cls.__name__ for cls in classes if not issubclass(cls, DigitsumError)] == []


def test_built_in_bases_are_kept():
    from core.errors import TrainingError
    from core.inputs.listing import InputError
    from core.predict.prediction_csv import ExportError

    assert issubclass(InputError, ValueError) and issubclass(ExportError, OSError)
    assert issubclass(TrainingError, RuntimeError)
    assert str(ExportError("cannot write x: disk full")) == "cannot write x: disk full"


def test_a_command_ended_by_a_signal_exits_as_a_shell_reports_it():
    import signal

    from core.errors import signal_exit_status

    assert signal_exit_status(signal.SIGTERM) == 143 and signal_exit_status(signal.SIGINT) == 130


def test_an_exception_is_one_line_and_never_empty():
    from core.errors import exception_line

    assert exception_line(RuntimeError("CUDA error: out of memory\n  at  kernel\n")) == (
        "CUDA error: out of memory at kernel"
    )
    assert exception_line(EOFError()) == "EOFError" and exception_line(ValueError("  \n ")) == "ValueError"
    assert exception_line(ValueError("x" * 50), 10) == "xxxxxxx..."


def test_first_line_only_drops_the_advice_a_library_adds():
    from core.errors import exception_line

    cuda = RuntimeError("\nCUDA error: device-side assert\nCUDA kernel errors might be asynchronously reported")
    assert exception_line(cuda, first_line=True) == "CUDA error: device-side assert"
    assert exception_line(KeyError(), first_line=True) == "KeyError"


def test_reason_gives_the_os_words_without_the_path():
    import errno

    from core.errors import reason

    denied = PermissionError(errno.EACCES, "Permission denied", "/a/long/path/out.csv")
    assert reason(denied) == "Permission denied"
    assert reason(OSError("no errno here")) == "no errno here" and reason(TimeoutError()) == "TimeoutError"
