"""The model store: one folder per training run, never overwritten, listed newest first.

    root/
      20250101-120000-resnet50-digits/     config.json progress.jsonl checkpoint.pt best.safetensors
      20250101-120000-resnet50-digits-2/   (a second run in the same second)

The GUI keeps ``root`` in the per-user data folder; everything here is plain files, so a
run started by hand (``digitsum train --out ROOT/NAME``) shows up in the list as well.
``core.models.checkpoint`` (and with it torch) is imported only when a model file is read.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core import RESOURCES
from core.errors import DigitsumError, reason

DEFAULT_MODEL = RESOURCES / "models" / "digitsum-resnet50.safetensors"  # the bundled default model
MODEL_NAME = "best.safetensors"
# A file of this name in a run folder asks the training in it to stop at its next step and
# keep its best model: a channel every OS has (Windows has no SIGTERM for a console child).
STOP_NAME = "STOP"


class StoreError(DigitsumError, ValueError):
    """A store operation that is refused or failed; ``str()`` is a one-line reason."""


@dataclass
class StoredModel:
    """One model file the user can pick, with what its metadata says about it."""

    path: Path
    arch: str
    head: str
    created: datetime | None = None
    train_images: int | None = None
    val_acc: float | None = None
    heldout_acc: float | None = None
    epochs: int | None = None
    in_store: bool = True  # False: the bundled default or a file opened from elsewhere
    meta: dict = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def label(self) -> str:
        """A short name, the same as the status bar's (``model_display_name``)."""
        return model_display_name(self.path)


def model_display_name(path: str | os.PathLike) -> str:
    """What to call a model file, the same in every window.

    A run's ``best.safetensors`` goes by its run folder's name, the bundled default model by
    its file name and "(bundled)", any other file by its name.
    """
    path = Path(path)
    if path.name == DEFAULT_MODEL.name and path.resolve() == DEFAULT_MODEL.resolve():
        return f"{path.name} (bundled)"
    return path.parent.name if path.name == MODEL_NAME and path.parent.name else path.name


def run_folder_name(arch: str, head: str, when: float | None = None) -> str:
    """``<YYYYmmdd-HHMMSS>-<arch>-<head>``, the name ``digitsum train`` gives its runs."""
    return f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(when))}-{arch}-{head}"


def numbered_run_folders(base: str | os.PathLike) -> Iterator[Path]:
    """``base``, then ``base-2``, ``base-3``, ...: the names a run takes when the one before is taken.

    The one numbering of run folders, for the store's new runs (``next_run_folder``) and for
    ``digitsum train``'s default ``--out`` (``core.train.run_folder.claim_run_folder``).
    """
    base = Path(base)
    yield base
    for n in itertools.count(2):
        yield base.with_name(f"{base.name}-{n}")


def next_run_folder(root: str | os.PathLike, arch: str, head: str, when: float | None = None) -> Path:
    """A run folder path under ``root`` that does not exist yet (``-2``, ``-3``, ... if taken)."""
    return next(p for p in numbered_run_folders(Path(root) / run_folder_name(arch, head, when)) if not p.exists())


def reserve_run_folder(root: str | os.PathLike, arch: str, head: str, when: float | None = None) -> Path:
    """Create and return a fresh run folder: never one that exists (no run overwrites another)."""
    Path(root).mkdir(parents=True, exist_ok=True)
    while True:
        path = next_run_folder(root, arch, head, when)
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another app instance took it between the check and mkdir
            continue


def describe_model(path: str | os.PathLike, in_store: bool = True) -> StoredModel:
    """Read a model file's metadata into a ``StoredModel`` (raises ``ModelFileError``)."""
    from core.models.info import read_model_info  # (core.models.info imports this module)

    info = read_model_info(path)
    meta = info.meta
    created = None
    if meta.get("created"):
        try:
            created = datetime.strptime(meta["created"], "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            created = None
    if created is None:
        created = datetime.fromtimestamp(Path(path).stat().st_mtime).astimezone()
    epochs = meta.get("epochs_trained")
    return StoredModel(
        # absolute: a Retrain run's child works in the store's folder, and --init, --distill and
        # --compare name this file
        path=Path(path).absolute(),
        arch=info.arch,
        head=info.head,
        created=created,
        train_images=meta.get("train_images_per_epoch"),
        val_acc=info.metric("val_acc"),
        heldout_acc=info.metric("heldout_acc"),
        epochs=epochs if isinstance(epochs, int) else None,
        in_store=in_store,
        meta=meta,
    )


def list_models(root: str | os.PathLike, extra: tuple = ()) -> list[StoredModel]:
    """The models of the store's finished runs, newest first, then ``extra`` model files.

    Folders without a model (a run in progress, one that failed before its first epoch)
    and files whose metadata cannot be read are left out. ``extra`` files (the bundled
    default, the model in use) are listed once each, after the runs, if they are not in it.
    """
    from core.models.info import ModelFileError

    root = Path(root)
    found: list[StoredModel] = []
    if root.is_dir():
        for folder in root.iterdir():
            model = folder / MODEL_NAME
            if folder.is_dir() and not folder.name.startswith(".") and model.is_file():
                try:
                    found.append(describe_model(model))
                except (ModelFileError, OSError):
                    continue
    found.sort(key=lambda m: (m.created.timestamp() if m.created else 0.0, m.folder.name), reverse=True)
    seen = {file_key(m.path) for m in found}
    for path in extra:
        if path is None or file_key(path) in seen or not Path(path).is_file():
            continue
        try:
            found.append(describe_model(path, in_store=False))
        except (ModelFileError, OSError):
            continue
        seen.add(file_key(path))
    return found


def delete_run(root: str | os.PathLike, model_path: str | os.PathLike, in_use: str | os.PathLike | None) -> None:
    """Delete the run folder of ``model_path``; refuses the model in use and anything outside ``root``.

    Raises
    ------
    StoreError
        Refused, or the folder could not be removed (one line, the OS's reason).
    """
    model_path, root = Path(model_path), Path(root)
    if same_file(model_path, in_use):
        raise StoreError(f"{model_path.parent.name} is the model in use: switch to another one first")
    folder = model_path.parent.resolve()
    if folder.parent != root.resolve():
        raise StoreError(f"{model_path} is not a run of this model store; it is left alone")
    try:
        shutil.rmtree(folder)
    except OSError as exc:  # (a file the user cannot remove: some of the folder may be gone already)
        raise StoreError(f"cannot delete {folder.name}: {reason(exc)}") from None


def is_in_store(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """True when ``path`` lies in a run folder directly under ``root``."""
    return Path(path).resolve().parent.parent == Path(root).resolve()


def file_key(path) -> str:
    """What names one file however it is written (links, ``..``, case where the OS ignores it)."""
    return os.path.normcase(str(Path(path).resolve()))


def same_file(a, b) -> bool:
    """True when ``a`` and ``b`` name one file; never for None."""
    return a is not None and b is not None and file_key(a) == file_key(b)
