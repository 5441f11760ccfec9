"""core.labels.labels_csv: reading and writing labels.csv, on real files in tmp_path."""

from __future__ import annotations

import os

import pytest
from helpers.digit_images import write_png

from core.inputs.listing import InputError
from core.labels.labelled_set import load_labelled
from core.labels.labels_csv import read_labels_csv, write_labels_csv

# ---------------------------------------------------------------- labels.csv


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_read_labels_with_or_without_bom(tmp_path, bom):
    text = "filename,sum,digits\r\na.png,7,0124\nb c.png,36,\n\n=x.png,0,0000\n"
    (tmp_path / "labels.csv").write_bytes(bom + text.encode())
    assert read_labels_csv(tmp_path / "labels.csv") == {
        "a.png": (7, "0124"),
        "b c.png": (36, None),
        "=x.png": (0, "0000"),
    }


@pytest.mark.parametrize(
    "body, words",
    [
        ("name,sum\na.png,3\n", "header"),
        ("", "header"),
        ("filename,sum\na.png,37\n", "line 2: sum must be"),
        ("filename,sum\na.png,-1\n", "sum must be"),
        ("filename,sum\na.png,three\n", "sum must be"),
        ("filename,sum\na.png\n", "expected filename and sum"),
        ("filename,sum\n,3\n", "empty filename"),
        ("filename,sum\na.png,3\na.png,4\n", "twice"),
        ("filename,sum,digits\na.png,3,123\n", "four digits"),
        ("filename,sum,digits\na.png,3,1111\n", "do not add up"),
    ],
)
def test_bad_labels(tmp_path, body, words):
    (tmp_path / "labels.csv").write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=words) as info:
        read_labels_csv(tmp_path / "labels.csv")
    assert "\n" not in str(info.value)


def test_labels_not_utf8_or_missing(tmp_path):
    (tmp_path / "labels.csv").write_bytes("filename,sum\nä.png,3\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_labels_csv(tmp_path / "labels.csv")
    with pytest.raises(InputError):
        read_labels_csv(tmp_path / "absent.csv")


def test_a_labels_header_that_names_a_column_twice_is_refused_to_read_and_to_rewrite(tmp_path):
    """``filename,sum,sum``: which sum is meant is anyone's guess; reading says so in one line,
    and a correction leaves the file as it was rather than change one of them."""
    from core.files import WriteError

    labels = tmp_path / "labels.csv"
    labels.write_text("filename,sum,Sum \na.png,3,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="the header names 'sum' 2 times; keep one"):
        read_labels_csv(labels)
    with pytest.raises(WriteError, match="it is left as it was"):
        write_labels_csv(labels, {"a.png": (5, None)})
    assert labels.read_text(encoding="utf-8") == "filename,sum,Sum \na.png,3,4\n"


@pytest.mark.parametrize(
    "labels",
    [
        {"a.png": (3, None), "ü b.png": (0, None), 'cr\rlf\n,q".png': (1, None)},
        {"a.png": (3, "0012"), "b.png": (9, None)},
    ],
)
def test_write_labels_round_trip(tmp_path, labels):
    path = tmp_path / "labels.csv"
    path.write_text("old")
    write_labels_csv(path, labels)
    assert read_labels_csv(path) == labels
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ("filename,sum,digits" if any(d for _, d in labels.values()) else "filename,sum")
    assert os.listdir(tmp_path) == ["labels.csv"]


def test_writing_labels_keeps_the_users_columns_and_row_order(tmp_path):
    from core.labels.folder_labels import FolderLabels

    path = tmp_path / "labels.csv"
    original = "\ufeffFilename,writer,Sum,digits,note\nb.png,w7,18,9117,checked twice\na.png,w2,5,,\nc.png,w9,3,0102,\n"
    path.write_text(original, encoding="utf-8")
    labels = FolderLabels(tmp_path, tmp_path / "corrections")
    labels.set("a.png", 6)  # a correction typed in the app
    labels.set("c.png", None)  # a sum forgotten
    labels.set("d.png", 12)  # a file the labels did not have
    assert path.read_text(encoding="utf-8") == (
        "Filename,writer,Sum,digits,note\nb.png,w7,18,9117,checked twice\na.png,w2,6,,\nd.png,,12,,\n"
    )
    assert read_labels_csv(path) == {"b.png": (18, "9117"), "a.png": (6, None), "d.png": (12, None)}
    labels.set("b.png", 18)  # the same sum again: its digits stay
    assert "b.png,w7,18,9117,checked twice" in path.read_text(encoding="utf-8")


def test_labels_named_like_formulas_are_escaped_in_the_file_and_read_back(tmp_path):
    from core.labels.folder_labels import FolderLabels

    # the last three really start with ' : they read back as they are spelled
    names = ['=HYPERLINK("x").png', "@SUM(1+1).png", "+1.png", "plain.png", "'=quoted.png", "''@two.png", "'x.png"]
    for name in names:
        write_png(tmp_path / name)
    labels = FolderLabels(tmp_path, tmp_path / "corrections")
    for i, name in enumerate(names):
        labels.set(name, i)
    text = (tmp_path / "labels.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n'@SUM(1+1).png," in text and "\n'+1.png," in text
    assert "\nplain.png,3" in text and "\n''=quoted.png,4" in text and "\n'x.png,6" in text
    assert read_labels_csv(tmp_path / "labels.csv") == {name: (i, None) for i, name in enumerate(names)}
    labels.set("plain.png", 4)  # rewriting keeps the escaped rows, once each
    assert read_labels_csv(tmp_path / "labels.csv")["@SUM(1+1).png"] == (1, None)
    assert load_labelled(tmp_path).names == names


def test_a_labels_file_that_cannot_be_read_whole_is_refused_and_kept(tmp_path, monkeypatch):
    import core.labels.labels_csv
    from core.files import WriteError

    path = tmp_path / "labels.csv"
    latin1 = "filename,sum,note\na.png,3,caf\xe9\n".encode("latin-1")
    path.write_bytes(latin1)
    with pytest.raises(WriteError, match="cannot update .*labels.csv.*left as it was"):
        write_labels_csv(path, {"a.png": (4, None)})
    assert path.read_bytes() == latin1
    path.write_text("filename,sum\n" + "a.png,3\n" * 40)
    monkeypatch.setattr(core.labels.labels_csv, "LABELS_MAX_BYTES", 100)
    with pytest.raises(InputError, match="larger than"):
        read_labels_csv(path)
