"""core.predict.spreadsheet: columns added after the prediction CSV's own, so that a spreadsheet shows the
digits and the confidence as the app's table does, on real files."""

import dataclasses

from core.predict.prediction_csv import CSV_COLUMNS, read_predictions_csv, write_predictions_csv
from core.predict.rows import PredictionRow as Row  # the rows prediction gives the writer
from core.predict.spreadsheet import SPREADSHEET_COLUMNS, digits_text, format_probability

ROWS = [
    Row("a.png", 18, 0.99998, "0459"),
    Row("b.png", 17, 0.9877, "4973"),
    Row("c.png", 3, 0.00001, "0003"),
    Row("d.png", error="truncated image file"),
]


def test_added_columns_are_text_a_spreadsheet_keeps_and_the_contract_columns_are_unchanged(tmp_path):
    plain, sheet = tmp_path / "plain.csv", tmp_path / "sheet.csv"
    write_predictions_csv(ROWS, plain)
    # mappings too, as write_predictions_csv takes them
    mappings = [dataclasses.asdict(r) for r in ROWS[:2]] + ROWS[2:]
    write_predictions_csv(mappings, sheet, extra_columns=SPREADSHEET_COLUMNS)
    lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join([*CSV_COLUMNS, "confidence_text", "digits_text"])
    # the contract's cells first, exactly as digitsum predict writes them (0459 stays 0459, 1.0000 stays)
    assert [line.rsplit(",", 2)[0] for line in lines] == plain.read_text(encoding="utf-8-sig").splitlines()
    rows = read_predictions_csv(sheet)
    assert [(r["confidence"], r["confidence_text"]) for r in rows] == [
        ("1.0000", ">99.99%"),
        ("0.9877", "98.77%"),
        ("0.0000", "<0.01%"),
        ("", ""),
    ]
    assert [(r["digits"], r["digits_text"]) for r in rows] == [
        ("0459", "0 4 5 9"),  # a spreadsheet reads "0459" as 459; "0 4 5 9" is text, its 0 kept
        ("4973", "4 9 7 3"),
        ("0003", "0 0 0 3"),
        ("", ""),
    ]


def test_the_table_and_the_export_share_one_format():
    from digitsum_gui.table.columns import format_probability as table_format

    assert table_format is format_probability
    assert digits_text("") == "" and digits_text("1234") == "1 2 3 4"
