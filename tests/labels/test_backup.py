"""core.labels.backup: a copy of a folder's labels files as they were, on real files, put back byte for byte."""

import json
import shutil

import pytest

from core.labels.backup import BackupError, LabelsBackup
from core.labels.folder_labels import FolderLabels
from core.labels.labels_csv import read_labels_csv


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "labels.csv").write_text("filename,sum,note\nb.png,7,kept\na.png,12,\n", encoding="utf-8")
    return folder


def test_a_backup_is_taken_before_the_change_and_puts_the_file_back_byte_for_byte(folder, tmp_path):
    original = (folder / "labels.csv").read_bytes()
    labels = FolderLabels(folder, tmp_path / "corrections")
    backup = LabelsBackup(folder, tmp_path / "backups")
    labels.before_change = backup.take  # FolderLabels calls it before it writes
    assert not backup.exists() and backup.info() is None
    labels.set("a.png", 13)
    labels.set("c.png", 30)
    assert (folder / "labels.csv").read_bytes() != original
    assert sorted(p.name for p in folder.iterdir()) == ["labels.csv"]  # nothing new in the user's folder
    info = backup.info()
    assert info.folder == folder.resolve() and info.sums == 2 and info.files["labels.csv"] == original
    assert info.files["sidecar.csv"] is None  # there was none then

    backup.restore(labels)
    assert (folder / "labels.csv").read_bytes() == original  # the extra column and the row order too
    assert labels.sum_of("a.png") == 12 and labels.sum_of("c.png") is None
    assert not labels.typed("a.png")  # the folder's sum again, not a correction


def test_a_labels_csv_made_by_the_first_sum_is_removed_by_a_restore(tmp_path):
    folder = tmp_path / "unlabelled"
    folder.mkdir()
    labels = FolderLabels(folder, tmp_path / "corrections")
    backup = LabelsBackup(folder, tmp_path / "backups")
    backup.take(labels)
    labels.set("a.png", 5)
    assert (folder / "labels.csv").is_file()
    backup.restore(labels)
    assert not (folder / "labels.csv").exists() and len(labels) == 0


def test_a_folder_whose_labels_go_to_its_corrections_file_gets_that_file_backed_up(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    unreadable = b"filename,sum\n\xff\xfe.png,3\n"  # not UTF-8: never rewritten, sums go to the corrections file
    (folder / "labels.csv").write_bytes(unreadable)
    labels = FolderLabels(folder, tmp_path / "corrections")
    labels.set("a.png", 4)
    backup = LabelsBackup(folder, tmp_path / "backups")
    labels.before_change = backup.take
    labels.set("a.png", 9)
    assert read_labels_csv(backup.path / "sidecar.csv") == {"a.png": (4, None)}  # as it was before the 9
    backup.restore(labels)
    assert labels.sum_of("a.png") == 4 and labels.typed("a.png")  # a corrections file's sums were typed
    assert (folder / "labels.csv").read_bytes() == unreadable


def test_a_backup_whose_files_are_not_the_ones_taken_is_refused(folder, tmp_path):
    labels = FolderLabels(folder, tmp_path / "corrections")
    backup = LabelsBackup(folder, tmp_path / "backups")
    backup.take(labels)
    (backup.path / "labels.csv").write_text("filename,sum\na.png,1\n")  # a take cut short, or edited
    with pytest.raises(BackupError, match="incomplete"):
        backup.info()
    labels.set("a.png", 13)
    with pytest.raises(BackupError):
        backup.restore(labels)
    assert labels.sum_of("a.png") == 13  # nothing put back
    note = json.loads((backup.path / "backup.json").read_text())
    note["folder"] = str(tmp_path / "elsewhere")
    (backup.path / "backup.json").write_text(json.dumps(note))
    with pytest.raises(BackupError, match="belongs to"):
        backup.info()
    shutil.rmtree(backup.path)
    assert backup.info() is None
