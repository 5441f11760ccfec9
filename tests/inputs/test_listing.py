"""core.inputs.listing: listing inputs and loading items, on real folders and arrays in tmp_path."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.clitools import SAMPLES, one_line, run_cli
from helpers.clitools import cli_in_process as cli
from helpers.digit_images import REF, digits_like, write_png
from helpers.hostile import encoded, good_images

from core.inputs.arrays import label_twin, read_array_labels
from core.inputs.images import ImageReadError
from core.inputs.listing import InputError, InputItem, list_inputs, load_item, natural_key, shared_names_note
from core.predict.prediction_csv import read_predictions_csv


def names(items):
    return [item.name for item in items]


# ---------------------------------------------------------------- list_inputs


def test_folder_natural_order_and_extension_filter(tmp_path):
    for name in ["img10.png", "img2.png", "img1.png", "IMG3.PNG", "b.JPEG", "a.webp"]:
        write_png(tmp_path / name)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "labels.csv").write_text("filename,sum\n")
    write_png(tmp_path / ".hidden.png")  # macOS ._ files and the like
    items = list_inputs([tmp_path])
    assert names(items) == ["a.webp", "b.JPEG", "img1.png", "img2.png", "IMG3.PNG", "img10.png"]
    assert all(item.index is None and item.path == tmp_path / item.name for item in items)


def test_natural_key():
    assert sorted(["x10", "x9", "X1", "x1a"], key=natural_key) == ["X1", "x1a", "x9", "x10"]


def test_recursive_and_not(tmp_path):
    write_png(tmp_path / "top.png")
    write_png(tmp_path / "sub2" / "a.png")
    write_png(tmp_path / "sub10" / "deep" / "b.png")
    assert names(list_inputs([tmp_path])) == ["top.png"]
    assert names(list_inputs([tmp_path], recursive=True)) == ["sub2/a.png", "sub10/deep/b.png", "top.png"]


def test_symlink_loop_and_duplicate_links_are_entered_once(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    write_png(root / "a.png")
    write_png(outside / "o.png")
    write_png(root / "in" / "b.png")
    os.symlink(root, root / "loop")  # points back up: must not recurse forever
    os.symlink(root / "in", root / "link1")
    os.symlink(root / "in", root / "link2")  # second way into the same folder: skipped
    os.symlink(outside, root / "out")  # out of the tree: not followed, named
    skipped = []
    got = names(list_inputs([root], recursive=True, skipped=skipped))
    assert len(got) == 2 and got[0] == "a.png" and got[1].endswith("/b.png")
    assert skipped == [f"{root}/out/: a link out of the folder"]


def test_a_folder_reached_by_links_too_is_named_by_its_real_place(tmp_path):
    """Whatever order the file system lists entries in (links named before and after it, a link
    deeper in the tree), so that a labels.csv naming the real place finds the rows."""
    root = tmp_path / "root"
    write_png(root / "m" / "x.png")
    write_png(root / "a" / "y.png")
    for link in ("b", "zz", "a/deep"):
        os.symlink(root / "m", root / link)
    os.symlink(root / "a", root / "alias")
    assert names(list_inputs([root], recursive=True)) == ["a/y.png", "m/x.png"]


def test_rows_of_one_name_from_two_inputs_are_noted(tmp_path):
    for folder in ("a", "b"):
        write_png(tmp_path / folder / "x.png")
    write_png(tmp_path / "a" / "y.png")
    assert shared_names_note(list_inputs([tmp_path / "a"])) == ""
    assert shared_names_note(list_inputs([tmp_path / "a", tmp_path / "a" / "y.png"])) == ""  # (named as given)
    assert shared_names_note(list_inputs([tmp_path / "a", tmp_path / "b"])) == (
        "1 row named as another input's (x.png, ...): "
        "the file column cannot tell them apart (one folder at a time keeps them apart)"
    )


def test_empty_folder_is_not_an_error(tmp_path):
    assert list_inputs([tmp_path]) == []


def test_files_as_given_with_odd_names(tmp_path):
    odd = ["ünïcode ñame.png", "with space.png", "-dash.png", "=formula.png", "scan.dat"]
    for name in odd:
        write_png(tmp_path / name)
    given = [str(tmp_path / name) for name in odd]
    items = list_inputs(given)
    assert names(items) == given
    assert all(load_item(item).shape == (40, 168) for item in items)  # .dat tried as an image too


def test_mixed_inputs_keep_order(tmp_path):
    write_png(tmp_path / "f" / "x.png")
    write_png(tmp_path / "single.png")
    np.save(tmp_path / "d.npy", np.zeros((2, 40, 168), np.uint8))
    got = names(list_inputs([tmp_path / "single.png", tmp_path / "f", str(tmp_path / "d.npy")]))
    assert got == [str(tmp_path / "single.png"), "x.png", f"{tmp_path / 'd.npy'}:0", f"{tmp_path / 'd.npy'}:1"]


def test_npy_rows_without_loading(tmp_path, monkeypatch):
    np.save(tmp_path / "data0.npy", np.zeros((3, 40, 168), np.uint8))
    monkeypatch.chdir(tmp_path)
    items = list_inputs(["data0.npy"])
    assert names(items) == ["data0.npy:0", "data0.npy:1", "data0.npy:2"]
    assert [item.index for item in items] == [0, 1, 2]


@pytest.mark.parametrize(
    "arr, words",
    [
        (np.zeros((3, 40, 160), np.uint8), "shape"),
        (np.zeros((40, 168), np.uint8), "shape"),
        (np.array([["a"] * 168] * 40)[None], "dtype"),
        (np.empty((1, 40, 168), object), "readable"),
    ],
)
def test_bad_npy(tmp_path, arr, words):
    np.save(tmp_path / "bad.npy", arr, allow_pickle=True)
    with pytest.raises(InputError, match=words) as info:
        list_inputs([tmp_path / "bad.npy"])
    assert "\n" not in str(info.value)


def test_npz_and_garbage_named_npy(tmp_path):
    np.savez(tmp_path / "z.npz", x=np.zeros((1, 40, 168)))
    os.rename(tmp_path / "z.npz", tmp_path / "z.npy")
    (tmp_path / "t.npy").write_text("not numpy")
    for name in ["z.npy", "t.npy"]:
        with pytest.raises(InputError):
            list_inputs([tmp_path / name])


def test_missing_input(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        list_inputs([tmp_path / "absent"])


# ---------------------------------------------------------------- load_item


def test_load_image_item(tmp_path):
    item = InputItem("a.png", write_png(tmp_path / "a.png"))
    assert np.array_equal(load_item(item), REF)


def test_unreadable_image_item(tmp_path):
    (tmp_path / "bad.png").write_text("nope")
    with pytest.raises(ImageReadError):
        load_item(InputItem("bad.png", tmp_path / "bad.png"))


def test_npy_scale_is_decided_per_array_not_per_row(tmp_path):
    dim = (digits_like(5) > 0).astype(np.float64)  # a row whose values are only 0 and 1
    base = np.stack([REF.astype(np.float64), dim, 255.0 - digits_like(7)])  # the last is dark on light
    variants = {
        "u8.npy": base.astype(np.uint8),
        "f64.npy": base,
        "f32_01.npy": (base / 255.0).astype(np.float32),
        "f64_01.npy": base / 255.0,
    }
    results = {}
    for name, arr in variants.items():
        np.save(tmp_path / name, arr)
        # pixels only: the dim row would be refused as holding no digits (tests/inputs/test_no_digits.py)
        results[name] = [load_item(item, require_digits=False) for item in list_inputs([tmp_path / name])]
    for name, rows in results.items():
        for got, want in zip(rows, results["u8.npy"], strict=True):
            assert np.array_equal(got, want), name
    assert np.array_equal(results["f64.npy"][0], REF)
    assert results["f64.npy"][1].max() == 1  # the dim row stays dim
    assert np.array_equal(results["f64.npy"][2], digits_like(7))  # inverted like an image file


def test_npy_item_matches_png_of_same_pixels(tmp_path):
    np.save(tmp_path / "d.npy", REF[None])
    write_png(tmp_path / "d.png")
    a = load_item(list_inputs([tmp_path / "d.npy"])[0])
    b = load_item(list_inputs([tmp_path / "d.png"])[0])
    assert np.array_equal(a, b) and not isinstance(a, np.memmap)


def test_rewritten_npy_is_not_served_from_cache(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.zeros((1, 40, 168), np.uint8))
    item = list_inputs([path])[0]
    assert not load_item(item, require_digits=False).any()  # (a blank row is refused when predicting)
    np.save(path, REF[None])
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert np.array_equal(load_item(item), REF)


def test_npy_row_errors_are_image_read_errors(tmp_path):
    arr = np.zeros((2, 40, 168))
    arr[1, 0, 0] = np.nan
    np.save(tmp_path / "n.npy", arr)
    with pytest.raises(ImageReadError, match="NaN"):
        load_item(InputItem("n.npy:1", tmp_path / "n.npy", 1))
    with pytest.raises(ImageReadError):
        load_item(InputItem("n.npy:9", tmp_path / "n.npy", 9))


# ---------------------------------------------------------------- npy labels


def test_label_twin(tmp_path):
    for stem in ["0", "X", "_train"]:
        np.save(tmp_path / f"data{stem}.npy", np.zeros((1, 40, 168), np.uint8))
        np.save(tmp_path / f"lab{stem}.npy", np.zeros(1, np.int64))
        assert label_twin(tmp_path / f"data{stem}.npy") == tmp_path / f"lab{stem}.npy"
    np.save(tmp_path / "data7.npy", np.zeros((1, 40, 168), np.uint8))
    with pytest.raises(InputError, match="lab7.npy not found"):
        label_twin(tmp_path / "data7.npy")
    with pytest.raises(InputError, match="name like"):
        label_twin(tmp_path / "images.npy")


def test_read_npy_labels(tmp_path):
    for arr in [np.array([0, 5, 36]), np.array([0.0, 5.0, 36.0]), np.array([[0], [5], [36]], np.uint8)]:
        np.save(tmp_path / "lab.npy", arr)
        got = read_array_labels(tmp_path / "lab.npy")
        assert got.dtype == np.int64 and got.tolist() == [0, 5, 36]
    for bad in [np.array([37]), np.array([-1]), np.array([2.5]), np.zeros((2, 2)), np.array([np.nan])]:
        np.save(tmp_path / "lab.npy", bad)
        with pytest.raises(InputError):
            read_array_labels(tmp_path / "lab.npy")


def test_a_recursive_listing_leaves_out_bad_sub_folders_and_names_them(tmp_path):
    """A link to ``/`` is not followed and a folder nobody may list is left out; the rest is read."""
    from helpers.hostile import as_ordinary_user

    tree = Path(tempfile.mkdtemp(prefix="digitsum-tree-"))  # outside root's 0700 pytest folders
    try:
        for sub in ("a", "a/deeper", "locked"):
            (tree / sub).mkdir()
            write_png(tree / sub / "x.png")
        write_png(tree / "top.png")
        (tree / "a" / "root").symlink_to("/")
        for folder in (tree, tree / "a", tree / "a" / "deeper"):
            os.chmod(folder, 0o755)
        os.chmod(tree / "locked", 0)

        def listing(folder) -> str:
            skipped: list[str] = []
            names = [item.name for item in list_inputs([folder], recursive=True, skipped=skipped)]
            return repr((names, skipped))

        names, skipped = eval(as_ordinary_user(listing, tree))
        assert names == ["a/deeper/x.png", "a/x.png", "top.png"]
        assert skipped == [f"{tree}/a/root/: a link out of the folder", f"{tree}/locked/: Permission denied"]
        assert [i.name for i in list_inputs([tree])] == ["top.png"]  # not recursive: no sub-folder read
    finally:
        os.chmod(tree / "locked", 0o755)
        shutil.rmtree(tree)


# ================================================================ hardening cases (docs/RELIABILITY.md)


@pytest.fixture
def odd_folder(tmp_path):
    """Good images under hostile names, symlinks (to a file, a folder loop, a file loop, nowhere)
    and a named pipe. Returns (folder, names expected as predicted, names expected as error rows)."""
    folder, outside = tmp_path / "odd", tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    png = encoded(good_images(1)[0], "PNG")
    good = [
        "ünïcödé 日本語.png",
        "with  two spaces .png",
        "-dash.png",
        "=SUM(A1).png",
        "+plus.png",
        "@at.png",
        "\ttab.png",
        "\rcr.png",
        "long-" + "x" * 240 + ".png",
        "ü" * 120 + ".png",
        "sub/deep.png",
    ]
    for name in good:
        (folder / name).write_bytes(png)
    assert max(len(os.fsencode(n)) for n in good) >= 240
    # a name that is not UTF-8 (Latin-1 bytes from an old archive): shown with \xNN
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.png"), "wb") as f:
        f.write(png)
    good.append("caf\\xe9.png")
    (outside / "target.png").write_bytes(png)
    os.symlink(outside / "target.png", folder / "link-to-file.png")  # followed
    good.append("link-to-file.png")
    os.symlink(folder, folder / "sub" / "loop")  # a folder loop: entered once
    os.symlink(folder / "loopB.png", folder / "loopA.png")  # a file loop
    os.symlink(folder / "loopA.png", folder / "loopB.png")
    os.symlink(folder / "gone.png", folder / "dangling.png")
    os.mkfifo(folder / "pipe.png")  # never opened: it would wait for a writer forever
    errors = {
        "loopA.png": "too many levels of symbolic links",
        "loopB.png": "too many levels of symbolic links",
        "dangling.png": "file not found",
    }
    return folder, good, errors


@pytest.mark.hardening("issue 6, case 4")
def test_case04_odd_names_and_symlinks_through_the_cli(odd_folder, tmp_path, baseline_model, capsys, monkeypatch):
    folder, good, errors = odd_folder
    items = list_inputs([folder], recursive=True)
    assert sorted(i.name for i in items) == sorted(good + list(errors))  # no pipe, nothing twice, no loop
    out = tmp_path / "p.csv"
    status, _, err = cli(capsys, "predict", folder, "--recursive", "--model", baseline_model, "--output", out, "-q")
    assert status == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = read_predictions_csv(out)
    assert [r["file"] for r in rows] == [i.name for i in items]  # a round trip of every name, in input order
    for r in rows:
        if r["file"] in errors:
            assert errors[r["file"]] in r["error"] and r["predicted_sum"] == "", r
            assert str(folder) not in r["error"]  # the row names the file; its reason does not repeat it
        else:
            assert r["error"] == "" and r["predicted_sum"].isdigit(), r
    escaped = {r["file"] for r in read_predictions_csv(out, unescape=False) if r["file"].startswith("'")}
    assert escaped == {"'" + n for n in ("-dash.png", "=SUM(A1).png", "+plus.png", "@at.png", "\ttab.png", "\rcr.png")}
    assert f"{len(items)} inputs: {len(good)} predicted, 3 unreadable" in err

    # the same names given one by one (after --, as any command needs for a leading -)
    monkeypatch.chdir(folder)
    status, _, err = cli(
        capsys,
        "predict",
        "--model",
        baseline_model,
        "--output",
        tmp_path / "q.csv",
        "-q",
        "--",
        "-dash.png",
        "=SUM(A1).png",
        "sub/deep.png",
    )
    assert status == 0, err
    assert [(r["file"], r["error"]) for r in read_predictions_csv(tmp_path / "q.csv")] == [
        ("-dash.png", ""),
        ("=SUM(A1).png", ""),
        ("sub/deep.png", ""),
    ]

    # a folder with no images says so, in one line
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "notes.txt").write_text("x")
    line = one_line(*cli(capsys, "predict", tmp_path / "nothing", "--model", baseline_model), "predict")
    assert "no images found in" in line


@pytest.mark.hardening("issue 6, case 4")
def test_case04_a_named_pipe_given_directly_is_an_error_row_not_a_hang(odd_folder):
    folder, _, _ = odd_folder
    fifo = folder / "pipe.png"
    result = []
    reader = threading.Thread(target=lambda: result.append(_try_load(InputItem("pipe.png", fifo))), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # the regression: release the blocked reader, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a named pipe blocked")
    assert result == ["not a regular file (a pipe, socket or device)"]


def _try_load(item):
    try:
        load_item(item)
    except ImageReadError as exc:
        return str(exc)
    return "read"


@pytest.mark.hardening("issue 14, class 10")
def test_class10_a_tree_1500_folders_deep_is_walked_without_recursion(tmp_path, baseline_model):
    """A real tree 1,500 folders deep (a 3,000-character path) through a real `digitsum predict
    --recursive`: the images at its top, middle and bottom are all found, in order, with their paths."""
    from helpers.clitools import read_csv_bytes

    root = tmp_path / "deep"
    depth = 1500
    png = (SAMPLES / "synth_00000.png").read_bytes()
    levels = {1: "top.png", 750: "middle.png", depth: "bottom.png"}
    folder = root
    try:
        for level in range(1, depth + 1):
            folder = folder / "d"
            folder.mkdir(parents=level == 1)
            if level in levels:
                (folder / levels[level]).write_bytes(png)
        out = tmp_path / "deep.csv"
        proc = run_cli(
            "predict", root, "--recursive", "--model", baseline_model, "--device", "cpu", "--output", out, "-q"
        )
        assert proc.returncode == 0 and "RecursionError" not in proc.stderr, proc.stderr[-2000:]
        rows = read_csv_bytes(out.read_bytes())[1]
        # natural order by path parts: a folder "d" sorts before the file "top.png" beside it
        assert [r["file"] for r in rows] == ["d/" * level + name for level, name in reversed(levels.items())]
        assert all(r["error"] == "" and r["predicted_sum"].isdigit() for r in rows)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses: remove the tree bottom-up here
        while folder != tmp_path:
            for child in folder.iterdir() if folder.is_dir() else ():
                child.unlink()
            if folder.is_dir():
                folder.rmdir()
            folder = folder.parent
