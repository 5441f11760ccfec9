"""core.files.atomic_path, the one way files are written: the umask, read-only files, owners; and
atomic_text_file over it, for the labels files and the prediction CSV."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
from helpers.hostile import AS_ROOT, NOBODY, as_ordinary_user

from core.files import WriteError, atomic_path, atomic_text_file, current_umask


def write(path, text="new\n"):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


@pytest.fixture
def umask_077():
    before = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(before)


def test_a_new_file_gets_what_the_umask_allows(tmp_path, umask_077):
    assert current_umask() == 0o077
    write(tmp_path / "sums.csv")
    assert stat.S_IMODE((tmp_path / "sums.csv").stat().st_mode) == 0o600  # as `> sums.csv` would make it


def test_a_replaced_file_keeps_its_mode(tmp_path, umask_077):
    path = tmp_path / "labels.csv"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    write(path)
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.skipif(not AS_ROOT, reason="giving a file to another user needs root")
def test_root_writing_a_users_file_leaves_it_theirs(tmp_path):
    path = tmp_path / "theirs.csv"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    os.chown(path, NOBODY, NOBODY)
    write(path)
    st = path.stat()
    assert path.read_text() == "new\n" and (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o600)


def _attempt(path: Path) -> str:
    """``write(path)``: "written", or why it was refused."""
    try:
        write(path)
        return "written"
    except PermissionError as exc:
        return f"refused: {exc.strerror}"


def _attempt_as_an_ordinary_user(path: Path) -> str:
    """``_attempt(path)`` as this user or, when root, in a forked child that became nobody."""
    return as_ordinary_user(_attempt, path)


def test_a_read_only_file_is_not_replaced():
    """`chmod 444` means not replaced, for an ordinary user (root: a child that became nobody)."""
    shared = Path(tempfile.mkdtemp(prefix="digitsum-ro-"))  # outside root's 0700 pytest folders
    try:
        os.chmod(shared, 0o777)
        path = shared / "sums.csv"
        path.write_text("old\n")
        os.chmod(path, 0o444)
        if AS_ROOT:
            os.chown(path, NOBODY, NOBODY)
        assert _attempt_as_an_ordinary_user(path) == "refused: read-only: it is not replaced"
        assert path.read_text() == "old\n" and sorted(p.name for p in shared.iterdir()) == ["sums.csv"]
        os.chmod(path, 0o644)  # writable: replaced, the same way
        assert _attempt_as_an_ordinary_user(path) == "written" and path.read_text() == "new\n"
    finally:
        for p in shared.iterdir():
            p.unlink()
        shared.rmdir()


def test_a_file_name_spelled_as_a_folder_is_refused(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,sum\n")
    (tmp_path / "m.safetensors").write_bytes(b"model")
    for spelled in ("labels.csv/", "m.safetensors/.", "new.csv/", "labels.csv/.."):
        with pytest.raises(NotADirectoryError, match="names a folder"):
            write(f"{tmp_path}/{spelled}")
    assert (tmp_path / "labels.csv").read_text() == "filename,sum\n"
    assert (tmp_path / "m.safetensors").read_bytes() == b"model" and not (tmp_path / "new.csv").exists()
    write(f"{tmp_path}/./sums.csv")  # a "." inside the path is only a path
    assert (tmp_path / "sums.csv").read_text() == "new\n"


def test_pipes_the_user_names_are_refused_before_they_are_opened(tmp_path, capsys):
    """A named pipe as labels, array or digit bank: one line at once, never a wait for a writer."""
    from helpers.clitools import ROOT, cli_in_process

    from core.files import require_regular

    pipe = tmp_path / "pipe.npy"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a regular file"):
        require_regular(pipe)
    samples = ROOT / "resources" / "samples"
    for words in (
        ["evaluate", samples, "--labels", pipe, "-q"],
        ["synth", tmp_path / "out", "--count", "2", "--mnist", pipe],
        ["evaluate", pipe, "--labels", samples / "labels.csv", "-q"],
    ):
        status, _, err = cli_in_process(capsys, *words)
        assert status == 1 and len(err.strip().splitlines()) == 1, (words, err)


def test_a_model_that_is_a_pipe_device_folder_or_unreadable_is_named_as_such(tmp_path):
    """``--model`` a named pipe, ``/dev/zero`` or a folder said "no such model file"; a file this
    user may not read said only "Permission denied", naming no file."""
    import safetensors  # noqa: F401  (imported here: the ordinary user's child may not read site-packages)

    from core.models.info import ModelFileError, read_model_info

    pipe = tmp_path / "m.safetensors"
    os.mkfifo(pipe)
    for path, said in ((pipe, "not a regular file"), ("/dev/zero", "not a regular file"), (tmp_path, "a folder")):
        with pytest.raises(ModelFileError, match=f"^{path}: {said}"):
            read_model_info(path)
    if not AS_ROOT:
        return  # (the unreadable file needs another user: as_ordinary_user is root's)
    secret = tmp_path / "secret.safetensors"
    secret.write_bytes(b"\0" * 64)
    os.chmod(secret, 0o600)
    os.chmod(tmp_path, 0o755)

    def attempt():
        try:
            read_model_info(secret)
        except ModelFileError as exc:
            return str(exc)
        return "read"

    assert as_ordinary_user(attempt) == f"{secret}: Permission denied"


def test_a_labels_file_that_is_a_pipe_never_hangs_the_windows_undo(tmp_path):
    """The window takes a snapshot of the labels files before every correction (for undo): a
    ``labels.csv`` that is a named pipe waited there for a writer, and the window froze."""
    import threading

    from core.labels.folder_labels import FolderLabels

    os.mkfifo(tmp_path / "labels.csv")
    labels = FolderLabels(tmp_path, tmp_path / "corrections")
    done = []
    thread = threading.Thread(target=lambda: done.append(labels.snapshot()), daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # (the old code: let it go, so the test ends)
        os.close(os.open(tmp_path / "labels.csv", os.O_WRONLY | os.O_NONBLOCK))
    assert done and done[0].files[tmp_path / "labels.csv"] is None


def test_a_temporary_file_a_killed_writer_left_is_removed_by_the_next_write(tmp_path):
    """SIGKILL leaves ``.NAME.XXXXXXXX.tmp``; the next write of NAME removes it once it is an hour old."""
    dest = tmp_path / "sums.csv"
    stale, fresh = tmp_path / ".sums.csv.k1ll3d_1.tmp", tmp_path / ".sums.csv.wr1t1ng2.tmp"
    other, link = tmp_path / ".other.csv.k1ll3d_1.tmp", tmp_path / ".sums.csv.l1nk0000.tmp"
    for path in (stale, fresh, other):
        path.write_text("half")
    link.symlink_to(other)
    old = time.time() - 2 * 3600
    for path in (stale, other):
        os.utime(path, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)
    write(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([dest.name, fresh.name, other.name, link.name])


def test_a_file_with_other_hard_links_is_written_so_that_all_of_them_see_it(tmp_path):
    dest, twin = tmp_path / "sums.csv", tmp_path / "backup-link.csv"
    dest.write_text("old data, longer than the new\n")
    os.link(dest, twin)
    inode = dest.stat().st_ino
    write(dest, "new\n")
    assert dest.read_text() == twin.read_text() == "new\n"
    assert dest.stat().st_ino == inode and sorted(p.name for p in tmp_path.iterdir()) == [twin.name, dest.name]


def test_every_write_reaches_the_disk_before_its_rename(tmp_path, monkeypatch):
    """Models, checkpoints and ONNX files are written by libraries that close them unsynced: a
    power cut after the rename would leave an empty file where the old model was."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.stat(src).st_ino))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    dest = tmp_path / "model.safetensors"
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as f:  # as safetensors' save_file does: written, closed, never synced
            f.write(b"weights")
        inode = os.stat(tmp).st_ino
    assert events == [("fsync", inode), ("replace", inode)]


def test_a_text_file_is_written_whole_or_not_at_all(tmp_path):
    dest = tmp_path / "labels.csv"
    with atomic_text_file(dest) as f:
        f.write("filename,sum\na.png,3\n")
    assert dest.read_bytes() == b"filename,sum\na.png,3\n"  # \n as written, on every system
    with pytest.raises(LookupError), atomic_text_file(dest) as f:  # the caller's own error, unchanged
        f.write("half")
        raise LookupError("a row generator's")
    assert dest.read_bytes() == b"filename,sum\na.png,3\n" and [p.name for p in tmp_path.iterdir()] == [dest.name]


def test_a_text_file_that_cannot_be_written_is_one_line_naming_it(tmp_path):
    dest = tmp_path / "labels.csv"
    with pytest.raises(WriteError) as info, atomic_text_file(dest, encoding="ascii") as f:
        f.write("caf\u00e9.png,3\n")
    assert str(info.value).startswith(f"cannot write {dest}: ") and "\n" not in str(info.value)
    assert isinstance(info.value, OSError) and not dest.exists()

    class CsvError(WriteError):
        pass

    with pytest.raises(CsvError, match="cannot write .*: Is a directory"), atomic_text_file(tmp_path, error=CsvError):
        pass
