import json

import numpy as np
import pytest
from PIL import Image

from mmsar.datasets.cluttered_digits import (BOXES_FILE, cluttered_digits,
                                             write_cluttered_digits)


def test_splits_are_deterministic_and_disjoint():
    train = cluttered_digits('train', seed=3)
    again = cluttered_digits('train', seed=3)
    val = cluttered_digits('val', seed=3)
    assert np.array_equal(train['images'], again['images'])
    assert train['images'].shape == (1400, 32, 32)
    assert val['images'].shape == (397, 32, 32)
    assert set(train['labels'].tolist()) == set(range(10))


def test_boxes_hold_the_digit():
    data = cluttered_digits('val', num_clutter=0)
    for image, box in zip(data['images'][:50], data['boxes'][:50]):
        x1, y1, x2, y2 = box.astype(int)
        assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 32
        assert x2 - x1 <= 16 and y2 - y1 <= 16
        outside = image.copy()
        outside[y1:y2, x1:x2] = 0
        # Without clutter every bright pixel lies in the box.
        assert outside.max() <= 0.1 * 255 + 1


@pytest.mark.parametrize('kwargs, message', [
    (dict(split='test'), "split must be 'train' or 'val', got 'test'"),
    (dict(size=8), 'size must be >= 16, got 8'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluttered_digits(**kwargs)


def test_written_tree(tmp_path):
    write_cluttered_digits(str(tmp_path), copies=1)
    with open(tmp_path / 'val' / BOXES_FILE) as f:
        boxes = json.load(f)
    assert len(boxes) == 397
    path, box = next(iter(boxes.items()))
    image = np.asarray(Image.open(tmp_path / 'val' / path))
    assert image.shape == (32, 32) and len(box) == 4
