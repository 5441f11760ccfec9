"""digitsum_gui.collector: reference cycles are freed on the GUI thread, never on a worker's."""

import gc
import threading

from digitsum_gui.collector import collect_on_gui_thread


class Cycle:
    """Garbage that only the cycle collector can free; records the thread that freed it."""

    freed_on: list = []

    def __init__(self):
        self.me = self

    def __del__(self):
        Cycle.freed_on.append(threading.current_thread().name)


def test_cycles_are_collected_by_the_gui_threads_timer(qtbot):
    collector = collect_on_gui_thread()
    assert collect_on_gui_thread() is collector and not gc.isenabled()
    gc.collect()
    Cycle.freed_on.clear()
    for _ in range(gc.get_threshold()[0] + 100):
        Cycle()  # past the first generation's threshold: Python would collect at the next allocation

    def allocate():  # where the automatic collector would have freed them (it did, and Qt crashed)
        [[i] for i in range(10_000)]

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert Cycle.freed_on == []
    qtbot.waitUntil(lambda: len(Cycle.freed_on) > gc.get_threshold()[0], timeout=5000)
    assert set(Cycle.freed_on) == {threading.main_thread().name}
