"""What the user points us at: folders, image files and arrays (``.npy``), listed and read.

``list_inputs`` turns command-line or GUI inputs into a flat, ordered list of ``InputItem``
without reading any pixels; ``load_item`` reads one of them (through ``core.inputs.images``, the
one preprocessing path). ``display_name`` and ``named_file`` turn file names into the names
rows show and back. The array formats themselves (names, reading, checks) are
``core.inputs.arrays``: this module never names one. Labels files and labelled sets are
``core.labels.labels_csv``, which reads its images through this module.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError, exception_line, reason
from core.inputs.arrays import array_format, array_rows, open_array
from core.inputs.images import ImageReadError, out_of_range, read_image, to_model_input
from core.inputs.no_digits import no_digits_reason

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".pgm", ".ppm"})


def skipped_names(skipped: list[str], shown: int = 3) -> str:
    """The first few of ``["name: reason", ...]`` as ``a.png (reason), b.png (reason) and 7 more``."""
    named = ", ".join(f"{name} ({reason})" for name, _, reason in (s.partition(": ") for s in skipped[:shown]))
    return named + (f" and {len(skipped) - shown} more" if len(skipped) > shown else "")


def left_out_note(left_out: list[str]) -> str:
    """What a recursive listing left out (``list_inputs(skipped=...)``), as one line."""
    return f"left out {len(left_out)} sub-folder{'s' * (len(left_out) != 1)}: {skipped_names(left_out)}"


def shared_names_note(items: Sequence[InputItem]) -> str:
    """One line where inputs of different folders have rows of one name (``a/x.png``, ``b/x.png``:
    both ``x.png``), which a CSV's ``file`` column cannot tell apart; else ``""``."""
    seen: dict[str, Path] = {}
    shared = []
    for item in items:
        if item.name in seen and seen[item.name] != item.path:
            shared.append(item.name)
        seen.setdefault(item.name, item.path)
    if not shared:
        return ""
    return (
        f"{len(shared)} row{'s' * (len(shared) != 1)} named as another input's ({shared[0]}, ...): "
        "the file column cannot tell them apart (one folder at a time keeps them apart)"
    )


@dataclass(frozen=True)
class InputItem:
    """One image to read: a file, or row ``index`` of an array file (``core.inputs.arrays``).

    ``name`` is what the CSV's ``file`` column shows: the path relative to the input folder,
    the path as given for single files, ``NAME.npy:INDEX`` for array rows.
    """

    name: str
    path: Path
    index: int | None = None


def natural_key(text: str) -> list:
    """Sort key that puts ``img2`` before ``img10`` (digit runs compare as numbers)."""
    # re.split with a group alternates text, number, text, ... so types line up position-wise
    return [int(part) if i % 2 else part.casefold() for i, part in enumerate(re.split(r"(\d+)", text))]


def _relative_key(rel: str) -> tuple:
    return tuple(natural_key(part) for part in rel.split("/")), rel


def _scan_folder(root: Path, recursive: bool, skipped: list[str]) -> list[str]:
    """Image files under ``root`` as relative POSIX paths; symlinked folders inside it are entered once,
    after the real folders, so that a file reached both ways is named by its real place.

    Plain strings and ``scandir``'s cached entry types, no ``Path`` per file: a GPU reads a
    folder of 100,000 images in a few seconds, and listing it must not take as long. The walk
    is depth-first with a stack of its own, not recursion (a tree 1,500 folders deep overflows
    Python's stack), and each folder is read whole and closed before going deeper (an open
    ``scandir`` per level would run out of file descriptors at about 1,000).

    A sub-folder that cannot be listed (``lost+found``), or a link to a folder outside ``root``
    (to ``/``, which would list the whole disk), is left out and named in ``skipped``: one bad
    entry never loses the rest of the tree. ``root`` itself failing raises ``OSError``.
    """
    found: list[str] = []
    seen: set[tuple[int, int]] = set()
    inside = os.path.join(os.path.realpath(root), "")

    def listing(folder: str) -> list | None:
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:  # a symlink back up the tree, or two links to one folder
            return None
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as entries:
            return list(entries)

    def enter(folder: str, prefix: str) -> None:
        try:
            inner = listing(folder)
        except OSError as exc:
            skipped.append(f"{display_name(prefix)}: {reason(exc)}")
            return
        if inner is not None:
            stack.append((iter(inner), prefix))

    stack = [(iter(listing(os.fspath(root))), "")]
    links: list[tuple[tuple, str, str]] = []  # (heap) links to folders in the tree, entered after every real folder
    while stack or links:
        if not stack:  # a folder is named by its real place, whatever order scandir gives
            _, folder, prefix = heapq.heappop(links)
            enter(folder, prefix)
            continue
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        if name.startswith("."):  # .DS_Store, macOS ._img.png, .git, ...
            continue
        try:
            is_dir, is_file = entry.is_dir(), entry.is_file()
            broken = not is_dir and not is_file and entry.is_symlink() and not os.path.exists(entry.path)
        except OSError:  # a symlink loop (ELOOP): one bad entry must not hide the folder
            is_dir, is_file, broken = False, False, True
        if is_dir:
            if not recursive:
                continue
            if not entry.is_symlink():
                enter(entry.path, prefix + name + "/")
            elif os.path.join(os.path.realpath(entry.path), "").startswith(inside):
                heapq.heappush(links, (_relative_key(prefix + name + "/"), entry.path, prefix + name + "/"))
            else:
                skipped.append(f"{display_name(prefix + name + '/')}: a link out of the folder")
        elif (is_file or broken) and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
            # a broken link named like an image is listed: its error row says why, nothing
            # vanishes silently (pipes and devices named .png are never opened)
            found.append(prefix + name)
    return sorted(found, key=_relative_key)


# What ``display_name`` writes for a byte that is not UTF-8 (\x80-\xff), and for a backslash
# that would otherwise read as one (\x5c): ``named_file`` reads back exactly these.
_ESCAPE = re.compile(r"\\x(5c|[89a-f][0-9a-f])")


def display_name(text: str) -> str:
    """``text`` as it can be shown and written to a UTF-8 CSV, one-to-one.

    A file name that is not valid UTF-8 (bytes from an old Latin-1 archive) reaches
    Python with surrogate escapes, which no UTF-8 writer accepts: one such name would make
    the whole CSV unwritable. Its undecodable bytes are shown as ``\\xNN`` instead. So that
    no two files get one name (``caf\\xe9.png`` spelled with a real backslash beside the
    Latin-1 ``café.png``), a backslash that would read as such an escape is itself written
    ``\\x5c``; any other name is left as it is.
    """
    text = _ESCAPE.sub(lambda m: "\\x5c" + m[0][1:], text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _undo_escape(match: re.Match) -> str:
    code = int(match[1], 16)
    return "\\" if code == 0x5C else chr(0xDC00 + code)  # the undecodable byte, surrogate-escaped


def named_file(folder: Path, name: str) -> Path:
    """The file in ``folder`` that ``name``, as ``display_name`` wrote it, stands for.

    The inverse of ``display_name``: ``\\xNN`` gives back the byte it stands for, so a label
    saved for ``caf\\xe9.png`` finds the Latin-1 file it was typed for, and ``\\x5c`` a
    backslash.
    """
    return folder / _ESCAPE.sub(_undo_escape, name) if "\\x" in name else folder / name


def list_inputs(
    inputs: Sequence[str | os.PathLike], recursive: bool = False, skipped: list[str] | None = None
) -> list[InputItem]:
    """Expand folders, image files and arrays (``core.inputs.arrays``) into items, in order.

    Parameters
    ----------
    inputs : sequence of str or path
        Folders (their image files, by extension, in natural order), single files (tried
        whatever their extension) and array files (``.npy``) of shape (N, 40, 168).
    recursive : bool
        Also list images in sub-folders.
    skipped : list, optional
        Gets the sub-folders left out of a recursive listing, each ``"NAME/: why"``: those
        that cannot be listed, and links to folders outside the folder given.

    Returns
    -------
    list of InputItem
        Possibly empty: a folder without images is the caller's to report.

    Raises
    ------
    InputError
        If an input does not exist, a folder cannot be listed or an array has the wrong shape.
    """
    items: list[InputItem] = []
    for given in inputs:
        shown = display_name(os.fspath(given))
        path = Path(given)
        if path.is_dir():
            try:
                left_out: list[str] = []
                files = _scan_folder(path, recursive, left_out)
            except OSError as exc:
                raise InputError(f"{shown}: cannot list folder ({reason(exc)})") from None
            if skipped is not None:
                skipped.extend(os.path.join(shown, entry) for entry in sorted(left_out))
            items.extend(InputItem(display_name(rel), path / rel) for rel in files)
        elif not path.exists():
            raise InputError(f"{shown}: no such file or folder")
        elif array_format(path):
            items.extend(InputItem(f"{shown}:{i}", path, i) for i in range(array_rows(path)))
        else:
            items.append(InputItem(shown, path))
    return items


def load_item(item: InputItem, require_digits: bool = True) -> np.ndarray:
    """Read one item as uint8 (40, 168), white on black.

    Parameters
    ----------
    item : InputItem
    require_digits : bool
        Refuse an image with no digits in it (blank, uniform, noise, specks, stripes:
        ``core.inputs.no_digits``), which a model would read as some sum, often with confidence.
        On for prediction (the decoders call this); training data and thumbnails pass False.

    Raises
    ------
    ImageReadError
        For anything unreadable or without digits; ``str()`` is a one-line reason for the error row.
    """
    if item.index is None:
        image = read_image(item.path)
    else:
        try:
            arr, scale = open_array(item.path)
            row = np.array(arr[item.index])  # copy: the result must not pin the memory map
        except Exception as exc:  # any failure of one row is that row's error, as for an image file
            raise ImageReadError(f"cannot read row {item.index}: {exception_line(exc)}") from None
        reason = out_of_range(row, scale)  # an inf or a 256 spoils its own row, not the file's scale
        if reason:
            raise ImageReadError(reason)
        image = to_model_input(row, scale=scale)
    reason = no_digits_reason(image) if require_digits else ""
    if reason:
        raise ImageReadError(reason)
    return image
