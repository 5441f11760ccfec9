"""Help > Sample Images opens a copy in the data folder and says where (issue #24 item 18), with real widgets."""

from core.inputs.samples import SAMPLES
from core.labels.labels_csv import read_labels_csv
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table.columns import Column

RUN_TIMEOUT_MS = 60_000


def test_sample_images_open_a_copy_and_a_sum_typed_there_leaves_the_installed_ones_alone(qtbot, make_window, tmp_path):
    installed = (SAMPLES / "labels.csv").read_bytes()
    store = ModelStore(tmp_path / "appdata")
    window = make_window(store=store)
    action = window.samples.action
    assert action in window.menus["help"].actions()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        action.trigger()
    copy = store.samples_dir
    assert window.source == [str(copy)] and len(window.table_model.rows) == 24
    said = window.status.currentMessage()
    assert said.startswith("Done: 24 rows") and f"a copy in {copy}" in said  # after the run's own message

    proxy = window.proxy
    name = proxy.source_row(0).file
    assert proxy.setData(proxy.index(0, Column.TRUE_SUM), "36")
    assert read_labels_csv(copy / "labels.csv")[name] == (36, None)
    assert (SAMPLES / "labels.csv").read_bytes() == installed


def test_the_installed_samples_opened_by_name_open_as_their_copy(qtbot, make_window, tmp_path):
    """`digitsum-gui resources/samples` (README's first command) and File > Open of that folder
    go through ``open_folder``: the window shows the copy and says where it is."""
    store = ModelStore(tmp_path / "appdata")
    window = make_window(store=store)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        assert window.open_folder(SAMPLES)
    assert window.source == [str(store.samples_dir)] and len(window.table_model.rows) == 24
    assert f"a copy in {store.samples_dir}" in window.status.currentMessage()
