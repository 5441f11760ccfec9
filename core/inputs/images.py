"""Read any image file into the model's input: uint8 (40, 168), white strokes on black.

Two functions do all the work and every caller (GUI, CLI, training) goes through them:

- ``read_image(path)`` opens a file with Pillow, refuses what is not a plain raster image or
  is too large *before* decoding it, converts every mode to one grey channel, applies the
  EXIF orientation and hands the result to ``to_model_input``;
- ``to_model_input(arr)`` scales any 2-D array to 0..255, resizes it to 40x168 and inverts
  dark-on-light images. ``.npy`` rows use it directly, so a PNG and the same pixels in an
  array give the same input.

Anything that goes wrong with a file becomes ``ImageReadError`` whose ``str()`` is one line,
so a batch can turn it into an error row and carry on.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from core.errors import DigitsumError, exception_line, one_line, reason
from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH

# Formats a user can reasonably mean by "an image"; the other ~40 Pillow plugins (EPS runs
# Ghostscript, some are barely maintained) only widen the attack surface.
FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "GIF", "WEBP", "PPM")
# Our own ceiling, far below Pillow's 89 M pixels: a 4096x4096 photo is already 600x the
# model's input, and an RGBA decode of this size takes 64 MiB.
MAX_PIXELS = 4096 * 4096
REASON_LIMIT = 200  # characters of an unreadable image's reason: a CSV cell, not a log

# warnings.catch_warnings swaps the process-wide filter list; two threads doing it at once
# can leave the wrong filters in place for good, so only one thread at a time opens a file.
_OPEN_LOCK = threading.Lock()


class ImageReadError(DigitsumError):
    """A file that cannot be used as an image; ``str()`` is a one-line reason."""


def _reason(exc: BaseException) -> str:
    """A short reason for ``exc`` that never names the file (the caller's row already does)."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not an image"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        match = re.search(r"\((\d+) pixels\)", str(exc))
        return f"image too large: {match.group(1)} pixels" if match else "image too large"
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image (or not a supported format)"
    text = str(exc)
    if isinstance(exc, EOFError) or "truncated" in text.lower() or "end of file" in text.lower():
        return "truncated image file"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode the image"
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        # e.g. ELOOP from a symlink loop; str(exc) would repeat the path
        why = reason(exc)
        return one_line(f"cannot open: {why[:1].lower()}{why[1:]}", REASON_LIMIT)
    return one_line(f"unreadable image: {exception_line(exc)}", REASON_LIMIT)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as the model's input.

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG, BMP, TIFF, GIF, WebP or PPM/PGM file; the extension is not trusted.

    Returns
    -------
    np.ndarray
        uint8, shape (40, 168), white strokes on black.

    Raises
    ------
    ImageReadError
        For anything that is not a readable image of at most ``MAX_PIXELS`` pixels.
    """
    path = Path(path)
    try:
        st = path.stat()  # follows symlinks; a missing file or a link loop is reported from here
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):
            # opening a named pipe would wait for a writer forever, a device could read forever
            raise ImageReadError("not a regular file (a pipe, socket or device)")
        if st.st_size == 0:
            raise ImageReadError("empty file")
        with _OPEN_LOCK, warnings.catch_warnings():
            # Pillow only warns between 89 M and 179 M pixels; make that a refusal too. Its
            # other warnings (corrupt EXIF, odd tags) would only repeat our error row on stderr.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path, formats=list(FORMATS))
        with im:
            # Image.open has read the header only; refuse huge images before decoding them.
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageReadError(f"image too large: {width}x{height} pixels")
            if width == 0 or height == 0:
                raise ImageReadError("empty image (0 pixels)")
            im.load()
            im = ImageOps.exif_transpose(im)  # phones store portrait photos sideways
            gray, scale = _to_gray(im)
        return to_model_input(gray, scale=scale)
    except ImageReadError:
        raise
    except Exception as exc:  # Pillow raises almost anything on garbage (SyntaxError, struct.error, ...)
        raise ImageReadError(_reason(exc)) from exc


def _to_gray(im: Image.Image) -> tuple[np.ndarray, float | None]:
    """One grey channel from any mode, and the value that means white (None: detect)."""
    mode = im.mode
    if mode.startswith("I;16"):
        # 16-bit: white is 65535 whatever the image holds, so a dark scan stays dark.
        return np.asarray(im).astype(np.float32), 65535.0
    if mode == "I":
        arr = np.asarray(im)
        if arr.min() >= 0 and arr.max() <= 65535:  # 16-bit data Pillow widened to 32 bits
            return arr.astype(np.float32), 65535.0
        return (arr - float(arr.min())).astype(np.float32), max(float(np.ptp(arr)), 1.0)
    if mode == "F":
        return np.asarray(im, dtype=np.float32), None
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        return _flatten_alpha(im.convert("RGBA")), 255.0
    if mode == "CMYK":
        im = im.convert("RGB")
    return np.asarray(im if mode == "L" else im.convert("L")), 255.0  # "L" as is: no copy


def _flatten_alpha(rgba: Image.Image) -> np.ndarray:
    """Put an image with transparency on a background that contrasts with its opaque part.

    A user who draws digits on a transparent canvas means the opaque pixels are the digits,
    whatever their colour: black pen goes onto white (and is inverted later), white pen onto
    black. Fully opaque RGBA files (most screenshots) are just their colours.
    """
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    lum = np.asarray(rgba.convert("RGB").convert("L"), dtype=np.float32)
    if alpha.min() >= 1.0:
        return lum
    if alpha.max() <= 0.0:
        return np.zeros_like(lum)  # nothing drawn at all
    ink = float((lum * alpha).sum() / alpha.sum())
    background = 255.0 if ink < 128 else 0.0
    return lum * alpha + background * (1.0 - alpha)


OUTLIER_SHARE = 0.01  # values beyond 1 (255) that still leave an array 0..1 (0..255): a share of its non-zero values
_SCALE_CHUNK = 1024  # rows per pass: a 1.6 GB float memory map is read in pieces, never copied whole


def value_scale(arr: np.ndarray) -> float:
    """The value that means white in ``arr``: 1.0, 255.0 or 65535.0.

    Decided once per array (a whole ``.npy`` file, not each row), so a dim row of a 0..1
    float array is not mistaken for a 0..255 one. The rule, robust to a few outliers: floats
    are 0..1 unless more than 1% of their finite non-zero values exceed 1 (then 0..255);
    integers are 0..255 unless more than 1% of their non-zero values exceed 255 (then
    0..65535). A stray ``inf`` or a single 256 no longer rescales every row; the rows that
    hold such values are errors of their own (``core.inputs.listing.load_item``).
    """
    if arr.size == 0:
        return 255.0
    if arr.dtype.kind == "b":
        return 1.0
    is_float = arr.dtype.kind == "f"
    limit = 1.0 if is_float else 255.0
    rows = arr.reshape(len(arr), -1) if arr.ndim > 1 else arr.reshape(1, -1)
    over = nonzero = 0
    for start in range(0, len(rows), _SCALE_CHUNK):
        part = rows[start : start + _SCALE_CHUNK]
        if is_float:
            part = part[np.isfinite(part)]
        over += int(np.count_nonzero(part > limit))
        nonzero += int(np.count_nonzero(part))
    if over > OUTLIER_SHARE * nonzero:
        return 255.0 if is_float else 65535.0
    return limit


def out_of_range(arr: np.ndarray, scale: float) -> str:
    """Why the values of ``arr`` do not fit 0..``scale`` (one line), or ``""`` when they do.

    Half a grey level either side is allowed (rounding in whatever wrote the file).
    """
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        return "image contains NaN or infinite values"
    if arr.size == 0 or arr.dtype.kind == "b":
        return ""
    low, high = arr.min(), arr.max()
    slack = 0.5 * scale / 255.0
    if low < -slack or high > scale + slack:
        return f"values from {low:g} to {high:g}, outside this file's range 0..{scale:g}"
    return ""


def to_model_input(arr: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Turn a 2-D grey array into the model's input.

    Parameters
    ----------
    arr : np.ndarray
        2-D, any size; uint8, uint16, other integers, bool or float.
    scale : float, optional
        The value that means white (1.0, 255.0, 65535.0, ...). None: ``value_scale(arr)``.
        ``.npy`` rows pass the scale of their whole file.

    Returns
    -------
    np.ndarray
        uint8, shape (40, 168), C-contiguous, white strokes on a black background. An input
        that already is exactly that comes back without a copy.

    Raises
    ------
    ImageReadError
        If ``arr`` is not 2-D, is empty, is not numeric or holds NaN or infinity.
    """
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.size == 0:
        raise ImageReadError(f"expected a 2-D image, got an array of shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ImageReadError(f"expected a numeric image, got dtype {arr.dtype}")

    if arr.dtype != np.uint8 or (scale is not None and scale != 255.0):
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ImageReadError("image contains NaN or infinite values")
        if scale is None:
            scale = value_scale(arr)
        # float64 and rint: v, v/255 and v/65535*... of the same pixel all land on the same byte
        arr = np.rint(np.clip(arr.astype(np.float64) * (255.0 / scale), 0.0, 255.0)).astype(np.uint8)

    if arr.shape != (IMAGE_HEIGHT, IMAGE_WIDTH):
        height, width = arr.shape
        shrink = height >= IMAGE_HEIGHT and width >= IMAGE_WIDTH
        # BOX averages whole source pixels when shrinking (an exact 2x image maps back
        # exactly); BILINEAR when any side grows, where BOX would look blocky.
        resample = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
        small = Image.fromarray(np.ascontiguousarray(arr)).resize((IMAGE_WIDTH, IMAGE_HEIGHT), resample)
        arr = np.asarray(small)

    # The assignment's images are mostly black background; if most pixels are light the
    # digits are dark on light paper, so flip them.
    if np.count_nonzero(arr > 127) * 2 > arr.size:
        arr = 255 - arr
    return np.ascontiguousarray(arr)
