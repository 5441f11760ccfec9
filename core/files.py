"""Writing files so that a reader never sees half of one: the one mechanism for models,
checkpoints, CSVs, labels, ONNX files and desktop entries."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import DigitsumError, reason

NOT_REGULAR = "not a regular file (a device, pipe or socket): it is never replaced"
FOLDER_SPELLING = "names a folder (a trailing / or /.), and there is none: write to the file's own name"
TEMPORARY_SUFFIX = ".tmp"  # atomic_path writes .NAME.XXXXXXXX.tmp beside NAME
STALE_AFTER_S = 3600  # a temporary file older than this was left by a writer that died
_CLEANED: set[tuple[str, str]] = set()  # (folder, name) already cleared of stale temporaries


class WriteError(DigitsumError, OSError):
    """A file that could not be written, and is as it was; ``str()`` is a one-line reason.

    What ``atomic_text_file`` raises: a labels file or a note that could not be saved. The
    prediction CSV's ``core.predict.prediction_csv.ExportError`` is one.
    """


def require_regular(path: str | os.PathLike, max_bytes: int | None = None) -> None:
    """Refuse, before opening it, a file the user named that is a pipe, device or socket.

    Opening a named pipe waits for a writer forever, and ``/dev/zero`` reads until memory runs
    out: every reader of a file the user names (labels, arrays, digit banks) calls this first.
    A reader that takes the whole file into memory (``labels.csv``) also names ``max_bytes``.

    Raises
    ------
    OSError
        Missing (``FileNotFoundError``), not a regular file (``errno.EINVAL``), or larger
        than ``max_bytes`` (``errno.EFBIG``).
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a pipe, device or socket): not read", os.fspath(path))
    if max_bytes is not None and st.st_size > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes >> 20} MB, more than this file can hold: not read")


def descriptor_named(path: str | os.PathLike) -> int | None:
    """The descriptor of this process that ``path`` names (``/dev/stdout``, ``/dev/fd/3``,
    ``/proc/self/fd/1``, through any links), or None for any other path.

    Such a path is a window onto an open descriptor: ``--output /dev/stdout >> log.txt``
    means "append to the log". Following the link and renaming a file over its target would
    replace the log, and opening it again would truncate it or write over its start; a writer
    writes into the descriptor itself (``os.dup``), as the shell set it up.
    """
    spelled = os.fspath(path)
    own = rf"/proc/(?:self|thread-self|{os.getpid()})(?:/task/\d+)?/fd/(\d+)"
    for _ in range(40):  # the kernel's own limit on links followed is 40
        parent = os.path.realpath(os.path.dirname(os.path.abspath(spelled)))
        full = os.path.join(parent, os.path.basename(spelled))
        match = re.fullmatch(own, full)
        if match:
            return int(match[1])
        try:
            spelled = os.path.join(parent, os.readlink(full))
        except OSError:  # not a link (or not there): a path like any other
            return None
    return None


def refuse_folder_spelling(dest: str | os.PathLike) -> None:
    """Refuse a file name spelled as a folder (``out.csv/``, ``m.safetensors/.``) that is no folder.

    ``pathlib`` and ``os.path.normpath`` drop the trailing ``/`` or ``/.``, so such a name
    would slip past every check made on its spelling (an input, a labels file) and then
    replace the file it names. Every writer goes through ``atomic_path``, which calls this.

    Raises
    ------
    NotADirectoryError
    """
    spelled = os.fspath(dest)
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    if (spelled.endswith(seps) or os.path.basename(spelled) in (".", "..")) and not os.path.isdir(spelled):
        raise NotADirectoryError(errno.ENOTDIR, FOLDER_SPELLING, spelled)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    On any failure (an exception, Ctrl-C) the temporary file is removed and ``dest`` is
    untouched. An existing ``dest`` keeps its permissions and, where we may set it (root),
    its owner; a new one gets what the umask allows of 0666, as the shell's ``>`` would
    give it. A symbolic link is written through: the file it points at is replaced and the
    link stays a link. A file with other hard links is written in place (``_copy_into``),
    so that every link sees the new data.

    Raises
    ------
    OSError
        Among others when ``dest`` exists and is a device, pipe or socket: a rename would
        put a regular file in place of the device node (``/dev/null`` gone for everyone);
        (PermissionError) when ``dest`` exists and this user could not write it with the
        shell (``chmod 444``): a rename in its folder would replace it anyway; and
        (NotADirectoryError) for a name spelled as a folder that is none (``refuse_folder_spelling``).
    """
    refuse_folder_spelling(dest)
    dest = Path(dest)
    if dest.is_symlink():
        dest = Path(os.path.realpath(dest))
    existing = None
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        existing = os.stat(dest)
        if not stat.S_ISREG(existing.st_mode) and not stat.S_ISDIR(existing.st_mode):
            raise OSError(errno.EINVAL, NOT_REGULAR, str(dest))  # (a directory fails in os.replace, as it says)
        if stat.S_ISREG(existing.st_mode):
            try:  # opened for writing, not truncated: what `>` would be allowed (os.access would
                os.close(os.open(dest, os.O_WRONLY))  # also say no for a read-only filesystem)
            except PermissionError:
                raise PermissionError(errno.EACCES, "read-only: it is not replaced", str(dest)) from None
            except OSError:
                pass  # (a read-only filesystem, a busy file: the write below says why)
    remove_stale_temporaries(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=TEMPORARY_SUFFIX, dir=dest.parent)
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)  # the rename must not reach the disk before the data does (a power cut: an empty model)
        if existing is not None and stat.S_ISREG(existing.st_mode):
            os.chmod(tmp, existing.st_mode & 0o777)
            if hasattr(os, "geteuid") and os.geteuid() == 0 and (existing.st_uid, existing.st_gid) != (0, 0):
                os.chown(tmp, existing.st_uid, existing.st_gid)  # root writing a user's file: it stays theirs
        else:
            os.chmod(tmp, 0o666 & ~current_umask())
        if existing is not None and stat.S_ISREG(existing.st_mode) and existing.st_nlink > 1:
            _copy_into(tmp, dest)  # a file with other hard links: they all see the new data, as with `>`
            os.unlink(tmp)
        else:
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(dest: str | os.PathLike, content: bytes) -> None:
    """Make ``dest`` hold ``content``, through ``atomic_path`` (synced, then renamed into place).

    Raises
    ------
    OSError
        As ``atomic_path``; ``dest`` is then as it was.
    """
    with atomic_path(dest) as tmp, open(tmp, "wb") as f:
        f.write(content)


@contextlib.contextmanager
def atomic_text_file(
    dest: str | os.PathLike, encoding: str = "utf-8", error: type[WriteError] = WriteError
) -> Iterator[IO[str]]:
    """Open a temporary text file beside ``dest``; rename it onto ``dest`` if the block succeeds.

    On any failure the temporary file is removed and ``dest`` is untouched (``atomic_path``).
    Lines end as written (``newline=""``): a CSV writer's ``\\n`` stays ``\\n`` on Windows too.

    Parameters
    ----------
    dest : str or path
        The file to write.
    encoding : str
        Its encoding (``utf-8-sig`` writes a BOM first).
    error : type
        The ``WriteError`` subclass a failure is raised as (the prediction CSV's ``ExportError``).

    Raises
    ------
    WriteError
        (as ``error``) for an ``OSError`` or an encoding error: ``cannot write DEST: REASON``,
        one line. Other exceptions, e.g. from the caller's row generator, come out unchanged.
    """
    dest = Path(dest)
    try:
        with atomic_path(dest) as tmp, open(tmp, "w", encoding=encoding, newline="") as f:
            yield f  # (atomic_path syncs it to the disk before the rename)
    except (OSError, UnicodeError) as exc:
        raise error(f"cannot write {dest}: {reason(exc)}") from exc


def _fsync(path: str) -> None:
    """Flush ``path``'s data to the disk, whoever wrote it (safetensors, torch.save and ONNX do not)."""
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # (Windows syncs writable handles only)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_into(src: str, dest: Path) -> None:
    """Write ``src``'s bytes into the existing file ``dest`` in place (its inode, owner and mode kept).

    A rename would give ``dest`` a new inode and leave its other hard links holding the old
    data. In place is not atomic: a crash midway leaves the file cut short, as the shell's
    ``>`` would; the whole content is ready in ``src`` first, so that window is one copy.
    """
    with open(src, "rb") as fin, open(dest, "r+b") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.truncate()
        fout.flush()
        os.fsync(fout.fileno())


def remove_stale_temporaries(dest: Path) -> None:
    """Remove what a killed writer of ``dest`` left: ``.NAME.XXXXXXXX.tmp`` beside it, over an hour old.

    ``atomic_path`` removes its temporary file on any failure it sees, but a SIGKILL or a
    power cut leaves it (a model's is 50 MB). The next write of the same file clears them;
    an hour spares a temporary file another process is writing now. Only regular files of
    this user, never links, are removed. Once per file and process: a folder of 100,000 images
    is not listed again for every sum typed into its labels.csv.
    """
    key = (os.path.abspath(dest.parent), dest.name)
    if key in _CLEANED:
        return
    _CLEANED.add(key)
    prefix, now = f".{dest.name}.", time.time()
    uid = os.geteuid() if hasattr(os, "geteuid") else None  # (Windows: no owners to compare)
    with contextlib.suppress(OSError), os.scandir(dest.parent) as entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
                continue
            if len(name) != len(prefix) + 8 + len(TEMPORARY_SUFFIX):  # mkstemp's 8 characters
                continue
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                ours = uid is None or st.st_uid == uid
                if stat.S_ISREG(st.st_mode) and ours and now - st.st_mtime > STALE_AFTER_S:
                    os.unlink(entry.path)


def current_umask() -> int:
    """This process's umask, read without changing it (``os.umask`` sets it, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022  # (off Linux: the usual one)
