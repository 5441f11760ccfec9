"""Training data: the validation parts a run is scored on."""

import numpy as np
import pytest
import torch

from core.synth.bank import load_bank
from core.synth.composer import Composer, gaussian_blur, quantise_like_png
from core.train.datasets import VAL_STREAM_OFFSET, TrainData, split_bank


def test_the_blurred_validation_part_is_ours_layout_blurred_by_the_robustness_checks_blur():
    """--val-blurred: a further equal share, composed as the synth part is, then blurred and
    quantised as a blurred PNG would be; without it the parts are as they were."""
    data = TrainData(["synthetic:8"], None, "cpu", seed=0, val_synthetic=40, val_blurred=True)
    plain = TrainData(["synthetic:8"], None, "cpu", seed=0, val_synthetic=20)
    assert data.val_groups == ["synth", "blurred"] and plain.val_groups == ["synth"]
    _, val_bank = split_bank(load_bank())
    g = torch.Generator().manual_seed(0 + VAL_STREAM_OFFSET)  # the validation stream of a run of seed 0
    composer = Composer(val_bank, "cpu", layout="synth")
    synth, then = composer.compose(20, g)[0], composer.compose(20, g)[0]
    blurred = quantise_like_png(gaussian_blur(then))
    groups = data.val.groups
    assert torch.equal(data.val.images[groups == 0], synth) and torch.equal(plain.val.images, synth)
    assert torch.equal(data.val.images[groups == 1], blurred)
    # blurred: edges softer than the same images sharp
    assert blurred.diff(dim=-1).abs().mean() < 0.8 * then.diff(dim=-1).abs().mean()


def _labelled_array(folder, n: int) -> str:
    """An array spec of ``n`` distinct images (row i is filled with i) whose sums are i % 37."""
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None], (n, 40, 168)).copy()
    np.save(folder / "data0.npy", images)
    np.save(folder / "lab0.npy", np.arange(n) % 37)
    return str(folder / "data0.npy")


def test_each_training_batch_mixes_labelled_and_composed_images_in_the_epochs_proportions(tmp_path):
    """30 labelled images (27 train) and 81 composed ones, batches of 12: every batch holds
    labelled and composed images in the epoch's 1:3, every labelled image once per epoch, as many
    batches as ``steps_per_epoch`` says, and the same batches again for the same epoch."""
    data = TrainData([_labelled_array(tmp_path, 30), "synthetic:81"], None, "cpu", seed=3, val_synthetic=10)
    assert len(data.real_train.sums) == 27

    def epoch(e):
        return list(data.epoch(e, 12))

    batches = epoch(1)
    assert len(batches) == data.steps_per_epoch(12) == 9  # ceil(108 / 12)
    labelled = [(b.digits[:, 0] < 0) for b in batches]  # composed images know their digits
    assert [int(m.sum()) for m in labelled] == [3] * 9
    seen = torch.cat([b.images[m][:, 0, 0, 0] for b, m in zip(batches, labelled, strict=True)])
    assert sorted((seen * 255).round().long().tolist()) == sorted(data.real_train.images[:, 0, 0, 0].tolist())
    assert all(b.images.dtype == torch.float32 and b.groups is None for b in batches)
    again = epoch(1)
    assert all(torch.equal(a.images, b.images) for a, b in zip(batches, again, strict=True))
    assert not torch.equal(epoch(2)[0].images, batches[0].images)


def test_an_epoch_of_one_kind_alone_is_whole_batches_of_it_the_last_one_short(tmp_path):
    """Labelled images alone (27 to train on), or composed ones alone (25)."""
    real = TrainData([_labelled_array(tmp_path, 30)], None, "cpu", seed=0)
    assert [len(b.sums) for b in real.epoch(0, 10)] == [10, 10, 7] and real.steps_per_epoch(10) == 3
    composed = TrainData(["synthetic:25"], None, "cpu", seed=0, val_synthetic=10)
    sizes = [len(b.sums) for b in composed.epoch(0, 10)]
    assert sizes == [10, 10, 5] and composed.steps_per_epoch(10) == 3


@pytest.mark.parametrize(("labelled", "composed", "batch", "world"), [(23, 50, 16, 1), (23, 50, 16, 2), (5, 7, 64, 2)])
def test_every_rank_yields_steps_per_epoch_batches_each_within_one_image_of_the_epochs_proportion(
    tmp_path, labelled, composed, batch, world
):
    """Uneven shares, a short last batch, one batch larger than the epoch, two ranks: the same
    number of batches on every rank, as ``steps_per_epoch`` says, each rank its own labelled images."""
    spec = _labelled_array(tmp_path, labelled + labelled // 9)  # (a tenth, rounded, validates)
    seen = []
    for rank in range(world):
        data = TrainData([spec, f"synthetic:{composed}"], None, "cpu", seed=1, val_synthetic=8, rank=rank, world=world)
        real, total = len(data.real_train.sums) // world, len(data.real_train.sums) // world + composed // world
        batches = list(data.epoch(0, batch))
        assert len(batches) == data.steps_per_epoch(batch) == -(-total // batch)
        for b in batches:
            assert abs(int((b.digits[:, 0] < 0).sum()) - len(b.sums) * real / total) < 1
        mine = torch.cat([(b.images[b.digits[:, 0] < 0][:, 0, 0, 0] * 255).round().long() for b in batches])
        assert len(mine) == real
        seen += mine.tolist()
    assert len(seen) == len(set(seen))  # no labelled image on two ranks
