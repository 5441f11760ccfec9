"""The main window's state is plain data: controllers are handed it, and it needs no Qt."""

import threading

from helpers.clitools import python_json

from digitsum_gui.window_state import WindowState


def test_a_run_goes_on_while_it_has_a_cancel_flag():
    state = WindowState()
    assert not state.running and state.source == [] and state.summary is None
    state.stop = threading.Event()
    assert state.running
    state.stop = None
    assert not state.running
    assert WindowState().source is not state.source  # each window its own list


def test_the_state_imports_no_qt():
    code = (
        "import json, sys\n"
        "import digitsum_gui.window_state\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))))\n"
    )
    assert python_json(code, timeout=120) == []
