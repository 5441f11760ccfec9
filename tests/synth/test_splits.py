"""Writer-disjoint splits: no writer on two sides, MNIST's test writers (the strangers) never trained on."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from helpers.clitools import SHARED_MNIST

from core.synth.bank import BankError, DigitBank, load_bank, writers_beside
from core.synth.splits import HOLDOUT_WRITERS, VAL_WRITERS, split_indices, stranger_half, writer_split
from core.train.datasets import DataSpecError, TrainData, split_bank


def writer_bank(writers: np.ndarray) -> DigitBank:
    """Blank digits (labels cycle 0..9) by the given writers, in MNIST index order."""
    n = len(writers)
    return DigitBank(np.zeros((n, 28, 28), np.uint8), np.arange(n) % 10, np.arange(n), writers.astype(np.int64))


def mnist_like_writers() -> np.ndarray:
    """MNIST's writer IDs where ../shared has them, else 539 made-up writers of 100 digits each."""
    if writers_beside(SHARED_MNIST).is_file():
        with np.load(writers_beside(SHARED_MNIST)) as z:
            return z["writer"].astype(np.int64)
    return np.repeat(np.arange(1000, 1539), 100)


def test_no_writer_is_on_two_sides():
    writers = mnist_like_writers()
    side = writer_split(writers)
    owners = {s: set(writers[side == s].tolist()) for s in ("train", "val", "holdout")}
    assert not owners["train"] & owners["val"]
    assert not owners["train"] & owners["holdout"]
    assert not owners["val"] & owners["holdout"]
    assert set().union(*owners.values()) == set(writers.tolist())
    total = len(set(writers.tolist()))
    for s, share in (("val", VAL_WRITERS), ("holdout", HOLDOUT_WRITERS)):  # about 8% each, by hash
        assert abs(len(owners[s]) - share * total) <= 4 * np.sqrt(share * total), s
    np.testing.assert_array_equal(writer_split(writers), side)  # fixed, not random per call


def test_a_writers_side_does_not_depend_on_the_bank():
    """The bundled bank, the full file and any subset put each writer on the same side."""
    writers = mnist_like_writers()
    full = writer_split(writers)
    pick = np.random.default_rng(3).choice(len(writers), 500, replace=False)
    np.testing.assert_array_equal(writer_split(writers[pick]), full[pick])
    bundled = load_bank()
    assert bundled.split_by == "writer"
    mine = dict(zip(bundled.writer.tolist(), writer_split(bundled.writer).tolist(), strict=True))
    for w, s in zip(writers.tolist(), full.tolist(), strict=True):
        if w in mine:
            assert mine[w] == s


def test_subsets_hold_only_their_writers():
    bank = writer_bank(mnist_like_writers())
    parts = {s: bank.subset(s) for s in ("train", "val", "holdout")}
    assert sum(len(p.y) for p in parts.values()) == len(bank.y)
    assert not set(parts["train"].writer.tolist()) & set(parts["holdout"].writer.tolist())
    train, val = split_bank(bank)  # every training writer but the validation ones trains
    np.testing.assert_array_equal(train.index, np.sort(np.concatenate([parts["train"].index, parts["holdout"].index])))
    np.testing.assert_array_equal(val.index, parts["val"].index)


def test_small_bank_splits_by_a_share_of_its_writers_and_never_by_a_strangers():
    """A bank without a validation side is split by a share of writers; its strangers train on neither side."""
    writers = np.repeat(np.arange(1000, 1539), 3)
    side = writer_split(writers)
    keep = side != "val"  # no validation writers: split_bank must make its own from training writers
    bank = writer_bank(writers[keep])
    bank.stranger = np.isin(bank.writer, bank.writer[:30])  # the first ten writers: MNIST test writers, say
    train, val = split_bank(bank)
    assert not set(train.writer.tolist()) & set(val.writer.tolist())
    assert not (set(train.writer.tolist()) | set(val.writer.tolist())) & set(bank.writer[:30].tolist())
    assert len(train.y) + len(val.y) == len(bank.y) - 30
    with pytest.raises(BankError, match="only digits by MNIST's test writers"):
        split_bank(bank.take(bank.stranger))


def _digest(x: torch.Tensor | np.ndarray) -> set[str]:
    arr = x.cpu().numpy() if isinstance(x, torch.Tensor) else x
    return {hashlib.sha1(d.tobytes()).hexdigest() for d in arr.reshape(len(arr), -1)}


def test_training_from_the_bundled_bank_never_uses_a_held_out_writer():
    """What `digitsum train --data synthetic:N` (and the Retrain dialog) composes without --mnist."""
    bank = load_bank()
    held = bank.subset("holdout")
    assert len(held.y) > 1000  # the card's figure comes from these digits
    data = TrainData(["synthetic:16"], None, "cpu", seed=0, val_synthetic=8)
    assert data.notes == []  # split by writer: nothing to warn about
    composed = _digest(data.composer.x[:, 0])  # every digit training may draw
    assert len(composed) > 1000
    assert not composed & _digest(held.x)
    train, val = split_bank(bank)
    assert not _digest(val.x) & _digest(held.x)
    assert not set(train.writer.tolist()) & set(val.writer.tolist())


def test_writers_beside_an_npz_are_read(tmp_path):
    x = np.random.default_rng(0).integers(0, 255, (40, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "digits.npz", x=x, y=np.arange(40) % 10)
    assert load_bank(tmp_path / "digits.npz").split_by == "index"
    np.savez(tmp_path / "digits-writers.npz", writer=np.repeat(np.arange(7, 15), 5).astype(np.int16))
    bank = load_bank(tmp_path / "digits.npz")
    np.testing.assert_array_equal(bank.writer, np.repeat(np.arange(7, 15), 5))
    np.savez(tmp_path / "digits-writers.npz", writer=np.arange(39))
    with pytest.raises(BankError, match="40 integer writer IDs"):
        load_bank(tmp_path / "digits.npz")


def test_without_writer_ids_the_split_goes_by_index_and_says_so(tmp_path, capsys):
    from core.cli.main import main

    n = 60000  # index split needs MNIST's size; blank digits are enough for the split itself
    np.savez(tmp_path / "mnist.npz", x=np.zeros((n, 28, 28), np.uint8), y=np.arange(n) % 10)
    bank = load_bank(tmp_path / "mnist.npz")
    assert bank.split_by == "index"
    np.testing.assert_array_equal(bank.subset("holdout").index, split_indices()["holdout"])
    assert (
        main(
            [
                "synth",
                str(tmp_path / "out"),
                "--count",
                "2",
                "--split",
                "holdout",
                "--mnist",
                str(tmp_path / "mnist.npz"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "no writer IDs" in line]
    assert len(notes) == 1 and "split by digit index" in notes[0]
    data = TrainData(["synthetic:8"], str(tmp_path / "mnist.npz"), "cpu", val_synthetic=4)
    assert len(data.notes) == 1 and "split by digit index" in data.notes[0]


SHARED_STRANGERS = SHARED_MNIST.with_name("mnist-test-public.npz")


def test_stranger_halves_share_no_writer_and_are_fixed():
    """MNIST's test writers: a selection half (choosing) and a report half (figures), by writer."""
    if writers_beside(SHARED_STRANGERS).is_file():
        with np.load(writers_beside(SHARED_STRANGERS)) as z:
            writers = z["writer"].astype(np.int64)
    else:
        writers = np.repeat(np.arange(2350, 2498), 34)  # 148 made-up writers, as many as the public half
    half = stranger_half(writers)
    owners = {h: set(writers[half == h].tolist()) for h in ("select", "report")}
    assert not owners["select"] & owners["report"]
    assert owners["select"] | owners["report"] == set(writers.tolist())
    assert all(abs(len(o) - 74) <= 12 for o in owners.values())
    np.testing.assert_array_equal(stranger_half(writers[::-1]), half[::-1])  # by ID alone, not by position
    if writers_beside(SHARED_STRANGERS).is_file():  # the halves the card was measured on
        assert (len(owners["select"]), len(owners["report"])) == (72, 76)


def test_the_bundled_bank_holds_the_report_half_as_its_held_out_digits():
    bank = load_bank()
    held = bank.subset("holdout")
    assert held.stranger.all() and len(held.y) > 2000
    assert set(stranger_half(held.writer).tolist()) == {"report"}
    assert not np.isin(held.writer, bank.writer[~bank.stranger]).any()
    for side in ("train", "val"):  # the training writers' sides hold none of them
        assert not bank.subset(side).stranger.any()


def test_training_never_reads_a_strangers_digit(tmp_path):
    bank = load_bank()
    strangers = _digest(bank.subset("holdout").x)
    for val_digits in (None, tmp_path / "select.npz"):
        if val_digits is not None:  # validation from other strangers: the training bank's digits all train
            np.savez(val_digits, x=bank.x[:40], y=bank.y[:40], writer=bank.writer[:40] + 10_000, stranger=True)
        data = TrainData(["synthetic:16"], None, "cpu", seed=0, val_synthetic=9, val_digits=val_digits)
        assert not _digest(data.composer.x[:, 0]) & strangers
        assert len(data.val.sums) == 9
    only_strangers = tmp_path / "strangers.npz"
    np.savez(only_strangers, x=bank.x[:40], y=bank.y[:40], writer=bank.writer[:40], stranger=True)
    with pytest.raises(DataSpecError, match="only digits by MNIST's test writers"):
        TrainData(["synthetic:16"], only_strangers, "cpu", val_synthetic=8)
    with pytest.raises(DataSpecError, match="shares writers"):  # validation by the training writers
        TrainData(["synthetic:16"], None, "cpu", val_synthetic=8, val_digits=_own(tmp_path, bank))


def _own(tmp_path, bank) -> str:
    """A bank of the bundled bank's own training writers' digits."""
    own = bank.take(~bank.stranger)
    path = tmp_path / "own.npz"
    np.savez(path, x=own.x[:40], y=own.y[:40], writer=own.writer[:40])
    return str(path)
