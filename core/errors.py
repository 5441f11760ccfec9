"""One base for every error digitsum reports to a user as a line of text.

A command catches ``DigitsumError`` and prints ``str(exc)``: each subclass (a bad input, a
model file that does not fit, a device that is not there, ...) is raised with a one-line
reason. Each subclass also keeps the built-in base it always had (``ValueError``, ``OSError``,
``RuntimeError``), so code that caught those still does.
"""


def one_line(text: object, limit: int | None = None) -> str:
    """``text`` with its whitespace (newlines too) folded to single spaces, cut to ``limit`` with "...".

    How text from elsewhere (a tensor's ``str()``, a value quoted from a file, a composed
    message) becomes the one line that an error, a CSV cell or a note may hold; an exception
    goes through ``exception_line``, which also names it when its message is empty.
    """
    line = " ".join(str(text).split())
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."


def exception_line(exc: BaseException, limit: int | None = None, *, first_line: bool = False) -> str:
    """``exc``'s message as one line (``one_line``), or its type's name where it says nothing.

    The one way an exception raised elsewhere (torch, ONNX Runtime, safetensors, numpy, PIL)
    becomes the line that an error, a CSV cell or a note may hold. A bare ``EOFError()`` says
    nothing, so its name stands in: a reason is never empty.

    Parameters
    ----------
    exc : BaseException
        The exception to describe.
    limit : int, optional
        At most this many characters, the last three ``...`` (as ``one_line``).
    first_line : bool
        Only the message's first line: CUDA's and safetensors' errors follow theirs with lines
        of advice ("CUDA kernel errors might be asynchronously reported...") that bury it.

    Returns
    -------
    str
        One line, never empty.
    """
    text = str(exc).strip()
    if first_line:
        text = (text.splitlines() or [""])[0]
    return one_line(text, limit) or type(exc).__name__


def reason(exc: BaseException) -> str:
    """Why ``exc`` happened, in one line: the OS's own words for an ``OSError`` ("Permission
    denied", not "[Errno 13] Permission denied: '/long/path'"), else ``exception_line(exc)``.

    For a message that names the file itself (``cannot write out.csv: Permission denied``):
    the OS's text would name it a second time, with its whole path.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return one_line(exc.strerror)
    return exception_line(exc)


def signal_exit_status(signum: int) -> int:
    """The exit status a shell reports for a command ended by signal ``signum``: 128 + its number.

    A command that a signal stops unwinds first, then exits with this (SIGTERM: 143), so a
    script, and the app reading a training child (``digitsum_gui.retrain.process``), can tell.
    """
    return 128 + int(signum)


class DigitsumError(Exception):
    """A reason why an input, a file, a device or a run cannot be used; ``str()`` is one line."""


class InputError(DigitsumError, ValueError):
    """An input that cannot be used at all; ``str()`` is a one-line reason.

    Defined here, not in ``core.inputs.listing`` or ``core.labels.labels_csv`` where most are
    raised, so ``core.inputs.arrays`` (which ``core.inputs.listing`` and
    ``core.predict.prediction_csv`` import) can raise it without an import cycle.
    """


class TrainingError(DigitsumError, RuntimeError):
    """A training run that cannot go on (bad data, non-finite loss, unreadable --init or --resume).

    Here beside the base rather than in ``core.train``: the run's steps in several modules of
    ``core.train`` raise it, and the CLI catches it as any ``DigitsumError``.
    """


class CommandError(DigitsumError):
    """A reason why a ``digitsum`` command cannot run at all (exit status 1).

    Here beside the base rather than in ``core.cli``: the run and each command, in modules of
    their own, raise it, and ``core.cli.main`` catches it as any ``DigitsumError``.
    """
