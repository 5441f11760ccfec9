"""The columns' texts: one format for the table and the export."""

from digitsum_gui.table.columns import format_probability


def test_probability_text_never_rounds_to_certainty():
    assert format_probability(0.99998) == ">99.99%"
    assert format_probability(1.0) == "100.00%"
    assert format_probability(1e-7) == "<0.01%"
    assert format_probability(0.9877) == "98.77%"


def test_the_model_asks_each_column_spec_and_names_no_column(qtbot, monkeypatch):
    """An editable column is its ``ColumnSpec`` alone: text, font, tooltip, value, flags and the
    save of an edit all come from it (here the Digits column, made editable for the test)."""
    from dataclasses import replace

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFont

    from core.predict.rows import PredictionRow
    from digitsum_gui.table.columns import COLUMNS, Column
    from digitsum_gui.table.model import PredictionTableModel

    saved = []
    font = QFont("Serif")

    def save(row, labels, value):
        saved.append((row.file, value))
        return "" if value != "no" else "not saved: no"

    spec = replace(
        COLUMNS[Column.DIGITS],
        text=lambda row, labels: f"<{row.digits}>",
        tooltip=lambda row, item, labels: "a tip",
        font=lambda row, labels: font,
        value=lambda row, labels: len(saved),
        editable=lambda row, labels: row.predicted_sum == 1,
        save=save,
        edit_name="Digits",
    )
    monkeypatch.setitem(COLUMNS, Column.DIGITS, spec)
    model = PredictionTableModel()
    steps = []  # the undo steps' names (with no labels open, nothing is recorded)
    recording = model.undo_stack.recording
    monkeypatch.setattr(model.undo_stack, "recording", lambda text: steps.append(text) or recording(text))
    model.set_rows([PredictionRow("a.png", 1, 0.9, "0001"), PredictionRow("b.png", 2, 0.9, "0002")])
    cell, other = model.index(0, Column.DIGITS), model.index(1, Column.DIGITS)
    assert model.data(cell) == "<0001>" and model.data(cell, Qt.ItemDataRole.ToolTipRole) == "a tip"
    assert model.data(cell, Qt.ItemDataRole.FontRole) is font
    assert model.flags(cell) & Qt.ItemFlag.ItemIsEditable and not model.flags(other) & Qt.ItemFlag.ItemIsEditable

    with qtbot.waitSignal(model.true_sum_saved) as told:
        assert model.setData(cell, "7")
    assert saved == [("a.png", "7")] and told.args == ["a.png", 1]  # the value the cell holds now
    assert steps == ["Digits of a.png"]
    with qtbot.waitSignal(model.labels_failed) as failed:
        assert not model.setData(cell, "no")
    assert failed.args == ["not saved: no"]
    assert not model.setData(other, "7") and len(saved) == 2 and len(steps) == 2  # not editable: never saved
