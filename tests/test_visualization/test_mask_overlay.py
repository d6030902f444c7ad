"""Overlays of refined patches."""

import numpy as np
import pytest
import torch
from mmengine.visualization import Visualizer

from mmsar.models import MaskRecord, SARResNet
from mmsar.visualization import (draw_mask_overlays, feature_stride,
                                 image_masks, select_records)


@pytest.fixture
def visualizer():
    return Visualizer.get_instance('mmsar_test_overlay')


def _one_cell_record(feature_size=(25, 25), grid=7, cell=0) -> MaskRecord:
    """Group 0 selects cell (cell, cell), group 1 every cell."""
    masks = torch.zeros(1, 2, grid, grid)
    masks[0, 0, cell, cell] = 1
    masks[0, 1] = 1
    return MaskRecord(0, 0, masks, feature_size)


def test_feature_stride_absorbs_padding():
    assert feature_stride(128, 32) == 4
    assert feature_stride(100, 25) == 4
    assert feature_stride(100, 32) == 4  # 100 padded to 128 by the model
    assert feature_stride(224, 7) == 32


def test_image_masks_follow_cell_bounds():
    # 25 rows over 7 cells: the first cell is 4 feature rows = 16 pixels.
    masks = image_masks(_one_cell_record(), 0, (100, 100), (100, 90))
    assert masks.shape == (2, 100, 90)
    assert masks[0, :16, :16].all()
    assert masks[0].sum() == 16 * 16
    assert masks[1].all()


def test_overlay_dims_unselected_patches(visualizer):
    image = np.full((64, 64, 3), 200, dtype=np.uint8)
    # the last cell covers feature rows 14-15, pixels 56-63
    record = _one_cell_record((16, 16), cell=6)
    figure = draw_mask_overlays(visualizer,
                                image, [record],
                                0, (64, 64),
                                groups=[0],
                                min_size=64)
    # one row: the image, then group 0
    assert figure.shape == (64, 64 * 2 + 4, 3)
    group0 = figure[:, 68:].astype(int)
    assert (group0[60, 60] == 200).all()  # selected: untouched
    assert (group0[30, 30] < 100).all()  # unselected: dimmed


def test_overlay_enlarges_small_images(visualizer):
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    figure = draw_mask_overlays(visualizer, image, [_one_cell_record((8, 8))],
                                0, (32, 32))
    assert figure.shape[0] == 192


def test_select_records_names_blocks():
    model = SARResNet(depth=18).eval()
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    records = model.mask_records
    assert [r.name for r in select_records(records, None)
            ] == ['stage0.block0', 'stage1.block0', 'stage2.block0']
    with pytest.raises(ValueError, match='stage9.block0'):
        select_records(records, ['stage9.block0'])


# SARMaskVisHook -------------------------------------------------------------
