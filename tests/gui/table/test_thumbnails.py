"""The thumbnails module on its own: what a thumbnail is made from (the model's cells: ``test_model.py``)."""

import pytest

from digitsum_gui.table.thumbnails import read_thumbnail


def test_an_image_with_no_digits_still_has_a_thumbnail(tmp_path):
    """Its row is an error ('no digits found'), and the person reviewing it sees why."""
    from PIL import Image

    from core.inputs.images import ImageReadError
    from core.inputs.listing import InputItem, load_item

    Image.new("L", (168, 40), 128).save(tmp_path / "grey.png")
    item = InputItem("grey.png", tmp_path / "grey.png")
    with pytest.raises(ImageReadError, match="no digits"):
        load_item(item)
    thumb = read_thumbnail(item)
    assert thumb is not None and (thumb.width(), thumb.height()) == (168, 40)
