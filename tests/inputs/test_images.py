"""core.inputs.images: every mode, format and failure on real files written to tmp_path."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.hostile import good_images, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from core.inputs.images import MAX_PIXELS, ImageReadError, read_image, to_model_input, value_scale
from core.inputs.listing import InputItem, list_inputs
from core.predict.predictor import Predictor


def digits_like(seed: int = 0) -> np.ndarray:
    """A 40x168 uint8 image, white-ish strokes of varied brightness on black."""
    rng = np.random.default_rng(seed)
    img = np.zeros((40, 168), np.uint8)
    for k in range(4):
        x0, y0 = 8 + 40 * k + int(rng.integers(0, 6)), int(rng.integers(4, 10))
        img[y0 : y0 + 24, x0 : x0 + 4] = rng.integers(120, 256)
        img[y0 : y0 + 4, x0 : x0 + 18] = rng.integers(60, 256)
        img[y0 + 20 : y0 + 24, x0 : x0 + 18] = 255
    return img


REF = digits_like()


def save(tmp_path, name, im: Image.Image, **kw):
    path = tmp_path / name
    im.save(path, **kw)
    return path


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking 8-bit grey PNG whose header claims width x height (CRCs correct)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- formats and modes


@pytest.mark.parametrize(
    "name, kw",
    [
        ("a.png", {}),
        ("a.bmp", {}),
        ("a.tif", {}),
        ("a.gif", {}),
        ("a.pgm", {}),
        ("a.ppm", {}),
        ("a.webp", {"lossless": True}),
    ],
)
def test_lossless_formats_read_exactly(tmp_path, name, kw):
    im = Image.fromarray(REF)
    if name.endswith(".ppm"):
        im = im.convert("RGB")
    assert np.array_equal(read_image(save(tmp_path, name, im, **kw)), REF)


def test_result_is_uint8_contiguous(tmp_path):
    out = read_image(save(tmp_path, "a.png", Image.fromarray(REF)))
    assert out.dtype == np.uint8 and out.shape == (40, 168) and out.flags.c_contiguous


def test_extension_is_not_trusted(tmp_path):
    path = tmp_path / "actually_png.jpg"
    path.write_bytes(png_bytes(REF))
    assert np.array_equal(read_image(path), REF)


def test_jpeg_is_close(tmp_path):
    out = read_image(save(tmp_path, "a.jpg", Image.fromarray(REF), quality=95))
    assert np.abs(out.astype(int) - REF).mean() < 3


def test_rgb_and_opaque_rgba_are_their_grey(tmp_path):
    rgb = Image.fromarray(np.stack([REF] * 3, axis=-1))
    assert np.array_equal(read_image(save(tmp_path, "rgb.png", rgb)), REF)
    rgba = Image.fromarray(np.dstack([REF, REF, REF, np.full_like(REF, 255)]))
    assert np.array_equal(read_image(save(tmp_path, "rgba.png", rgba)), REF)


@pytest.mark.parametrize("ink", [0, 255])
def test_transparent_background_opaque_digits(tmp_path, ink):
    # Digits drawn with a black or a white pen on a transparent canvas both read as white on black.
    color = np.full_like(REF, ink)
    rgba = Image.fromarray(np.dstack([color, color, color, REF]))
    out = read_image(save(tmp_path, f"ink{ink}.png", rgba))
    assert np.abs(out.astype(int) - REF).max() <= 1


def test_la_mode(tmp_path):
    la = Image.fromarray(np.dstack([np.zeros_like(REF), REF]), mode="LA")
    out = read_image(save(tmp_path, "la.png", la))
    assert np.abs(out.astype(int) - REF).max() <= 1


def test_fully_transparent_is_black(tmp_path):
    rgba = Image.fromarray(np.zeros((40, 168, 4), np.uint8))
    assert not read_image(save(tmp_path, "empty.png", rgba)).any()


@pytest.mark.parametrize("name", ["p.png", "p.gif"])
def test_palette_with_transparency(tmp_path, name):
    # Index 0 is transparent (shown as red if ignored), index 1 is white ink.
    im = Image.fromarray((REF > 100).astype(np.uint8), mode="P")
    im.putpalette([255, 0, 0, 255, 255, 255] + [0] * 762)
    path = save(tmp_path, name, im, transparency=0)
    assert np.array_equal(read_image(path), np.where(REF > 100, 255, 0).astype(np.uint8))


def test_palette_without_transparency(tmp_path):
    im = Image.fromarray(REF).convert("P")
    out = read_image(save(tmp_path, "p.bmp", im))
    assert np.abs(out.astype(int) - REF).max() <= 8  # palette quantisation


def test_cmyk(tmp_path):
    im = Image.fromarray(REF).convert("CMYK")
    assert np.array_equal(read_image(save(tmp_path, "cmyk.tif", im)), REF)


def test_one_bit(tmp_path):
    im = Image.fromarray(REF > 100)
    assert im.mode == "1"
    assert np.array_equal(read_image(save(tmp_path, "bw.bmp", im)), np.where(REF > 100, 255, 0))


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    full = Image.fromarray(REF.astype(np.uint16) * 257)  # 0..65535
    assert np.array_equal(read_image(save(tmp_path, "16.png", full)), REF)
    # 16-bit values that happen to stay below 256 are nearly black, not stretched to white
    dark = Image.fromarray(REF.astype(np.uint16))
    assert read_image(save(tmp_path, "dark16.png", dark)).max() <= 1


def test_32_bit_int_and_float_tiff(tmp_path):
    as_int = Image.fromarray(REF.astype(np.int32) * 257)
    assert as_int.mode == "I"
    assert np.array_equal(read_image(save(tmp_path, "i.tif", as_int)), REF)
    for name, arr in [("f01.tif", REF / 255.0), ("f255.tif", REF.astype(float))]:
        im = Image.fromarray(arr.astype(np.float32))
        assert im.mode == "F"
        assert np.array_equal(read_image(save(tmp_path, name, im)), REF)


def test_exif_orientation_applied(tmp_path):
    # Stored sideways with orientation 6 ("rotate 90 clockwise to view"), as phones do.
    sideways = Image.fromarray(REF).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = save(tmp_path, "rot.jpg", sideways, exif=exif, quality=95)
    assert np.abs(read_image(path).astype(int) - REF).mean() < 3


def test_twice_the_size_resizes_to_its_twin(tmp_path):
    big = Image.fromarray(REF).resize((336, 80), Image.Resampling.NEAREST)
    assert np.abs(read_image(save(tmp_path, "big.png", big)).astype(int) - REF).max() <= 1
    smooth = Image.fromarray(REF).resize((336, 80), Image.Resampling.BICUBIC)
    assert np.abs(read_image(save(tmp_path, "smooth.png", smooth)).astype(int) - REF).mean() < 6


def test_other_sizes_are_resized(tmp_path):
    for size in [(84, 20), (1000, 40), (168, 200)]:
        out = read_image(save(tmp_path, f"{size}.png", Image.fromarray(REF).resize(size)))
        assert out.shape == (40, 168) and out.dtype == np.uint8


def test_dark_digits_on_light_are_inverted(tmp_path):
    assert np.array_equal(read_image(save(tmp_path, "paper.png", Image.fromarray(255 - REF))), REF)


# ---------------------------------------------------------------- failures


def reason(path) -> str:
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    text = str(info.value)
    assert text and "\n" not in text
    return text


def test_empty_file(tmp_path):
    (tmp_path / "e.png").write_bytes(b"")
    assert reason(tmp_path / "e.png") == "empty file"


def test_text_named_png(tmp_path):
    (tmp_path / "t.png").write_text("hello, I am not an image\n")
    assert reason(tmp_path / "t.png").startswith("not an image")


def test_missing_file_and_directory(tmp_path):
    assert reason(tmp_path / "nope.png") == "file not found"
    assert "directory" in reason(tmp_path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF"])
def test_truncated(tmp_path, fmt):
    buf = io.BytesIO()
    Image.fromarray(digits_like(3)).resize((336, 80)).save(buf, format=fmt)
    path = tmp_path / "cut"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert "truncated" in reason(path)


@pytest.mark.parametrize("side", [30000, 10000, 5000])
def test_too_large_refused_before_decoding(tmp_path, side):
    # 30000^2 trips Pillow's error, 10000^2 its warning, 5000^2 only our own limit.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(side, side))
    assert side * side > MAX_PIXELS
    text = reason(path)
    assert text.startswith("image too large")
    if side == 5000:
        assert text == "image too large: 5000x5000 pixels"


def test_supported_by_pillow_but_not_by_us(tmp_path):
    path = save(tmp_path, "icon.ico", Image.fromarray(REF).resize((32, 32)))
    assert reason(path).startswith("not an image")


def test_corrupt_png_crc(tmp_path):
    data = bytearray(png_bytes(REF))
    data[40] ^= 0xFF  # inside the IDAT chunk: CRC no longer matches
    (tmp_path / "crc.png").write_bytes(bytes(data))
    reason(tmp_path / "crc.png")


# ---------------------------------------------------------------- to_model_input


def test_fast_path_returns_input_memory():
    out = to_model_input(REF)
    assert np.shares_memory(out, REF) and np.array_equal(out, REF)


def test_same_pixels_in_any_dtype_give_same_bytes():
    for arr in [
        REF.astype(np.float64),
        REF.astype(np.float32),
        REF / 255.0,
        (REF / 255.0).astype(np.float32),
        REF.astype(np.int64),
        REF.astype(np.uint16) * 257,
    ]:
        assert np.array_equal(to_model_input(arr), REF), arr.dtype


def test_explicit_scale_overrides_detection():
    dim = (REF > 0).astype(np.float64)  # a 0..1-looking row of a 0..255 array
    assert to_model_input(dim).max() == 255
    assert to_model_input(dim, scale=255.0).max() == 1


def test_out_of_range_values_are_clipped():
    arr = REF.astype(np.float64) * 2 - 100
    out = to_model_input(arr)
    assert out.min() == 0 and out.max() == 255


def test_bool_array():
    assert np.array_equal(to_model_input(REF > 100), np.where(REF > 100, 255, 0))


@pytest.mark.parametrize(
    "arr", [np.zeros((2, 40, 168)), np.zeros((0, 168)), np.array([["a"] * 168] * 40), np.full((40, 168), np.nan)]
)
def test_bad_arrays(arr):
    with pytest.raises(ImageReadError):
        to_model_input(arr)


def test_value_scale():
    assert value_scale(np.array([0.0, 1.0])) == 1.0
    assert value_scale(np.array([0.0, 1.5])) == 255.0
    assert value_scale(np.array([np.nan, 0.5])) == 1.0
    assert value_scale(np.array([0, 255], np.uint16)) == 255.0
    assert value_scale(np.array([0, 256], np.uint16)) == 65535.0


# ---------------------------------------------------------------- fuzz

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MAGICS = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"P5\n", b"RIFF"]
SEEDS = {}
for _fmt in ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]:
    _buf = io.BytesIO()
    Image.fromarray(REF[:20, :40]).save(_buf, format=_fmt)
    SEEDS[_fmt] = _buf.getvalue()


def only_image_read_errors(path):
    try:
        out = read_image(path)
    except ImageReadError as exc:
        assert "\n" not in str(exc)
    else:
        assert out.shape == (40, 168) and out.dtype == np.uint8


@FUZZ
@given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=600))
def test_fuzz_random_bytes(tmp_path, magic, body):
    path = tmp_path / "fuzz.png"
    path.write_bytes(magic + body)
    only_image_read_errors(path)


@FUZZ
@given(
    fmt=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_fuzz_mutated_images(tmp_path, fmt, edits, cut):
    path = tmp_path / "mut.bin"
    path.write_bytes(mutate(SEEDS[fmt], edits, cut))
    only_image_read_errors(path)


@FUZZ
@given(
    width=st.integers(0, 2**31 - 1),
    height=st.integers(0, 2**31 - 1),
    depth=st.sampled_from([1, 2, 4, 8, 16, 3, 0]),
    color=st.sampled_from([0, 2, 3, 4, 6, 1, 7]),
    idat=st.binary(max_size=200),
)
def test_fuzz_png_headers_with_valid_crcs(tmp_path, width, height, depth, color, idat):
    # CRCs are right, so Pillow gets past the checksum and into the decoder.
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(idat)) + chunk(b"IEND", b"")
    path = tmp_path / "hdr.png"
    path.write_bytes(data)
    only_image_read_errors(path)


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.fixture(scope="module")
def baseline_predictor(baseline_model):
    return Predictor(baseline_model, device="cpu", batch_size=4, workers=2)


@pytest.mark.hardening("issue 6, case 2")
def test_case02_just_over_pillows_pixel_limit_is_an_error_row_not_a_warning_never_decoded(
    tmp_path, baseline_predictor, monkeypatch
):
    width, height = 9460, 9459  # 89,482,140 pixels: just over Pillow's 89,478,485
    assert Image.MAX_IMAGE_PIXELS < width * height < 2 * Image.MAX_IMAGE_PIXELS  # Pillow would only warn
    over = tmp_path / "over.png"
    over.write_bytes(png_claiming(width, height))
    good = tmp_path / "good.png"
    Image.fromarray(good_images(1)[0]).save(good)

    decoded = []
    real_load = ImageFile.ImageFile.load

    def spy_load(im):  # a spy, not a fake: records the call and decodes as before
        decoded.append(im.size)
        return real_load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageReadError, match=r"^image too large: 89482140 pixels$"):
            read_image(over)
        assert decoded == []  # refused from the header
        read_image(good)
        assert decoded and set(decoded) == {(168, 40)}  # the spy does see a real decode
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]

    rows = [r for batch in baseline_predictor.predict(list_inputs([tmp_path])) for r in batch]
    assert [(r.file, r.ok) for r in rows] == [("good.png", True), ("over.png", False)]
    assert rows[1].error == "image too large: 89482140 pixels" and rows[1].predicted_sum is None


def variants(img: np.ndarray, folder: Path, stem: str) -> dict[str, tuple[Path, bool]]:
    """``img`` (uint8 white on black) saved in the modes of case 3: name -> (path, pixel-exact twin)."""
    out = {}

    def save(name, im, exact=True, **kw):
        path = folder / f"{stem}-{name}"
        im.save(path, **kw)
        out[name] = (path, exact)

    save("plain.png", Image.fromarray(img))
    save("i16.png", Image.fromarray(img.astype(np.uint16) * 257))  # 0..65535: scaled, not clipped
    assert Image.open(folder / f"{stem}-i16.png").mode.startswith("I")
    # palette: index 0 (red if the transparency were ignored) is transparent, 1..255 are greys
    index = np.where(img == 0, 0, np.maximum(img, 1)).astype(np.uint8)
    p = Image.frombytes("P", (img.shape[1], img.shape[0]), index.tobytes())
    p.putpalette([255, 0, 0] + [v for g in range(1, 256) for v in (g, g, g)])
    save("p-transparent.png", p, transparency=0)
    white = np.full_like(img, 255)
    save("rgba.png", Image.fromarray(np.dstack([white, white, white, img])))  # white pen on a clear canvas
    save("la.png", Image.fromarray(np.dstack([white, img])))
    save("cmyk.tif", Image.fromarray(img).convert("CMYK"))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view": stored sideways, as phones do
    sideways = Image.fromarray(img).transpose(Image.Transpose.ROTATE_90)
    save("exif-rotated.png", sideways, exif=exif)
    save("exif-rotated.jpg", sideways, exact=False, exif=exif, quality=95)
    save("80x336.png", Image.fromarray(img).resize((336, 80), Image.Resampling.NEAREST))
    save("light-background.png", Image.fromarray(255 - img))
    return out


@pytest.mark.hardening("issue 6, case 3")
def test_case03_every_mode_is_predicted_like_its_plain_twin(tmp_path, default_model):
    made = {}
    for i, img in enumerate(good_images(3)):
        made[i] = variants(img, tmp_path, f"s{i}")
        twin = read_image(made[i]["plain.png"][0])
        for name, (path, exact) in made[i].items():
            got = read_image(path)
            if exact:
                assert np.array_equal(got, twin), name
            else:
                assert np.abs(got.astype(int) - twin).mean() < 3, name

    predictor = Predictor(default_model, device="cpu", batch_size=64)
    items = [InputItem(p.name, p) for v in made.values() for p, _ in v.values()]
    rows = {r.file: r for batch in predictor.predict(items) for r in batch}
    assert len(rows) == sum(len(v) for v in made.values()) == 30 and all(r.ok for r in rows.values())
    for i, v in made.items():
        twin = rows[f"s{i}-plain.png"]
        for name in v:
            row = rows[f"s{i}-{name}"]
            assert (row.predicted_sum, row.digits) == (twin.predicted_sum, twin.digits), (name, row, twin)
            if v[name][1]:
                assert row.confidence == pytest.approx(twin.confidence, abs=1e-4), name
