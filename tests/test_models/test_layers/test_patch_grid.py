import pytest
import torch

from mmsar.models.layers import (apply_group_masks, cell_bounds, cell_index,
                                 upsample_masks, upsample_nearest)


@pytest.mark.parametrize('size, grid', [(56, 7), (14, 2), (25, 7), (5, 7),
                                        (1, 2)])
def test_cell_bounds_agree_with_cell_index(size, grid):
    index = cell_index(size, grid)
    bounds = cell_bounds(size, grid)
    assert len(bounds) == grid
    assert bounds[0][0] == 0 and bounds[-1][1] == size
    for cell, (start, stop) in enumerate(bounds):
        assert (index[start:stop] == cell).all()
        # Cells differ by at most one pixel.
        assert stop - start in (size // grid, -(-size // grid))


def test_upsample_masks_follows_cells():
    masks = torch.zeros(1, 2, 3, 3)
    masks[0, 0, 1, 2] = 1
    masks[0, 1, 0, 0] = 1
    pixels = upsample_masks(masks, (7, 8))
    rows, cols = cell_bounds(7, 3)[1], cell_bounds(8, 3)[2]
    expected = torch.zeros(7, 8)
    expected[rows[0]:rows[1], cols[0]:cols[1]] = 1
    assert torch.equal(pixels[0, 0], expected)
    assert pixels[0, 1].sum() == cell_bounds(7, 3)[0][1] * cell_bounds(
        8, 3)[0][1]


def test_apply_group_masks_gates_contiguous_channel_blocks():
    x = torch.ones(1, 6, 2, 2)
    masks = torch.tensor([[[[1., 0.], [0., 0.]], [[0., 0.], [0., 1.]]]])
    out = apply_group_masks(x, masks)
    assert torch.equal(out[0, :3], masks[0, 0].expand(3, 2, 2))
    assert torch.equal(out[0, 3:], masks[0, 1].expand(3, 2, 2))


@pytest.mark.parametrize('size', [(8, 8), (7, 9)])
def test_upsample_nearest_repeats_and_crops(size):
    x = torch.arange(4 * 5, dtype=torch.float32).view(1, 1, 4, 5)
    up = upsample_nearest(x, 2, size)
    assert up.shape[-2:] == size
    rows = torch.arange(size[0]) // 2
    cols = torch.arange(size[1]) // 2
    assert torch.equal(up[0, 0], x[0, 0][rows][:, cols])
    assert upsample_nearest(x, 1, (4, 5)) is x
