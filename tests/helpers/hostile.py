"""Hostile files for the hardening tests (issue 6): real bytes, written to a folder the test owns.

Kept out of conftest.py so that test modules import the functions directly, like clitools.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from core.predict.predictor import Predictor
from helpers.clitools import SAMPLES

MODEL_SUFFIXES = (".pt", ".pth", ".ckpt", ".safetensors")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534


def as_ordinary_user(attempt, *args) -> str:
    """``attempt(*args)``, a string, as this user or, when root, in a forked child that became nobody.

    Root reads and writes past every permission, so a test of what an ordinary user meets
    runs its attempt in a child process (this process's code, no exec) as ``nobody``.
    """
    if not AS_ROOT:
        return attempt(*args)
    read, send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(send, attempt(*args).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(send)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        said = f.read()
    assert os.waitstatus_to_exitcode(status) == 0
    return said


class Marker:
    """Unpickling this opens ``path`` for writing, i.e. creates it: proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, "w")


def marker_pickles(folder: Path, marker: Path) -> dict[str, Path]:
    """One live pickle per suffix, in the forms people pass around.

    ``.pt``: torch.save's zip format; ``.pth``: torch.save's legacy format; ``.ckpt``: a raw
    pickle; ``.safetensors``: a raw pickle renamed. Each creates ``marker`` when unpickled.
    """
    import torch

    payload = {"state_dict": {"w": Marker(marker)}, "epoch": 3}
    folder.mkdir(parents=True, exist_ok=True)
    files = {suffix: folder / f"model{suffix}" for suffix in MODEL_SUFFIXES}
    torch.save(payload, files[".pt"])
    torch.save(payload, files[".pth"], _use_new_zipfile_serialization=False)
    files[".ckpt"].write_bytes(pickle.dumps(payload, protocol=4))
    files[".safetensors"].write_bytes(pickle.dumps(payload, protocol=5))
    return files


def good_images(n: int) -> list[np.ndarray]:
    """The first ``n`` bundled sample images (composed digits, 40x168, white on black)."""
    return [np.asarray(Image.open(SAMPLES / f"synth_{i:05d}.png")) for i in range(n)]


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed 8-bit grey PNG (correct CRCs) whose header claims width x height."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def encoded(arr: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


# name -> the words its error row must contain
BAD_FILES = {
    "bad-huge.png": "image too large",
    "bad-text.png": "not an image",
    "bad-truncated.jpg": "truncated image file",
    "bad-truncated.png": "truncated image file",
    "bad-zero.png": "empty file",
}


def write_bad_files(folder: Path, good: np.ndarray) -> dict[str, str]:
    """Issue 6, case 1's five bad files, made from the good image ``good``; returns BAD_FILES."""
    png, jpeg = encoded(good, "PNG"), encoded(good, "JPEG", quality=95)
    (folder / "bad-truncated.png").write_bytes(png[: len(png) // 2])
    (folder / "bad-truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "bad-zero.png").write_bytes(b"")
    (folder / "bad-text.png").write_text("name,sum\nthis is a text file, not an image\n")
    (folder / "bad-huge.png").write_bytes(png_claiming(30000, 30000))
    return dict(BAD_FILES)


class FailsOnOneBatch(Predictor):
    """A real Predictor (real model, real decoding) whose model fails on one batch, as a GPU
    running out of memory or a driver error would: ``classify`` is where the model runs.

    The failing batch is the one holding the image ``poison`` (a real input of the run),
    not the n-th call: the CPU pipeline may run several batches at once, in any order.
    """

    poison: np.ndarray | None = None
    error: BaseException = RuntimeError("CUDA error: an illegal memory access was encountered")

    def classify(self, images):
        if self.poison is not None and any(np.array_equal(image, self.poison) for image in images):
            raise self.error
        return super().classify(images)


def failing_on(image: np.ndarray, error: BaseException | None = None) -> type:
    """A ``FailsOnOneBatch`` class that fails on the batch holding ``image``."""
    fields = {"poison": image} if error is None else {"poison": image, "error": error}
    return type("FailingPredictor", (FailsOnOneBatch,), fields)


def mutate(data: bytes, edits, cut) -> bytes:
    """Fuzzing: overwrite bytes at ``edits`` [(position, value), ...], then cut at ``cut`` (or not)."""
    data = bytearray(data)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    return bytes(data)
