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


def _clutter_roughness(data):
    """Mean |horizontal step| / mean brightness of the pixels outside the
    digit boxes."""
    images = data['images'].astype(float)
    outside = np.ones_like(images, dtype=bool)
    for keep, (x1, y1, x2, y2) in zip(outside, data['boxes'].astype(int)):
        keep[max(y1 - 1, 0):y2 + 1, max(x1 - 1, 0):x2 + 1] = False
    steps = np.abs(np.diff(images, axis=2))[outside[:, :, 1:]
                                             & outside[:, :, :-1]]
    return steps.mean() / images[outside].mean()


def test_native_digits_among_blobs_and_noise():
    blobs = cluttered_digits('val', digit_scale=1, clutter='blobs')
    sides = blobs['boxes'][:, 2:] - blobs['boxes'][:, :2]
    assert sides.max() <= 8 and sides.min() >= 2
    fragments = cluttered_digits('val', digit_scale=1)
    noise = cluttered_digits('val', digit_scale=1, clutter='noise')
    # blobs are smooth; fragments (the strokes of digits) and noise rough
    assert _clutter_roughness(blobs) < 0.3
    assert _clutter_roughness(fragments) > 0.6
    assert _clutter_roughness(noise) > 0.6


@pytest.mark.parametrize('kwargs, message', [
    (dict(split='test'), "split must be 'train' or 'val', got 'test'"),
    (dict(size=8), 'size must be >= 16 with digit_scale 2, got 8'),
    (dict(digit_scale=0), 'digit_scale must be an integer >= 1, got 0'),
    (dict(clutter='grass'), "clutter must be one of .*, got 'grass'"),
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
