import pytest
import torch
import torch.nn as nn

from mmsar.models.layers import (InvertedResidual, make_shortcut,
                                 upsample_masks)


def random_block(in_channels, out_channels, stride=1, groups=2, **kwargs):
    torch.manual_seed(0)
    block = InvertedResidual(
        in_channels,
        out_channels,
        stride=stride,
        groups=groups,
        downsample=make_shortcut(in_channels, out_channels, stride),
        **kwargs).eval()
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            # A BN shift would leak into unselected positions if the masks
            # were applied in the wrong place.
            nn.init.normal_(m.weight)
            nn.init.normal_(m.bias)
            nn.init.normal_(m.running_mean)
            nn.init.uniform_(m.running_var, 0.5, 2)
    return block


def random_cells(n=2, groups=2, grid=4, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, groups, grid, grid, generator=generator) >
            0.5).float()


@pytest.mark.parametrize('stride', [1, 2])
def test_unselected_output_equals_shortcut(stride):
    block = random_block(8, 16, stride)
    x = torch.rand(2, 8, 13, 11)
    cells = random_cells()
    with torch.no_grad():
        out = block(x, cells)
        shortcut = block.downsample(x)
    pixels = upsample_masks(cells, out.shape[-2:])
    off = (pixels == 0).repeat_interleave(8, dim=1)
    # No activation after the add (linear bottleneck).
    assert torch.equal(out[off], shortcut[off])
    assert not torch.equal(out[~off], shortcut[~off])
    assert (out < 0).any()


def test_depthwise_reads_only_selected_positions():
    block = random_block(16, 16)
    x = torch.rand(2, 16, 13, 11)
    cells = random_cells()
    off = (upsample_masks(cells, (13, 11)) == 0).repeat_interleave(8, dim=1)
    noise = torch.rand_like(x) * 10
    with torch.no_grad():
        out = block(x, cells)
        # The grouped expansion mixes a group's channels only: perturbing
        # group g where mask g is off changes nothing selected.
        perturbed = block(torch.where(off, x + noise, x), cells)
    assert torch.equal(out[~off], perturbed[~off])


def test_mobilenet_v2_block_without_masks():
    """A dense block: ReLU6 after the first two convs, a shortcut only
    when the shape is kept, no expansion conv at ratio 1."""
    block = InvertedResidual(16, 24, stride=2)
    assert not block.use_shortcut and block.mid_channels == 96
    assert isinstance(block.expand.activate, nn.ReLU6)
    assert block(torch.rand(1, 16, 9, 9)).shape == (1, 24, 5, 5)
    assert InvertedResidual(24, 24).use_shortcut
    thin = InvertedResidual(16, 16, expand_ratio=1)
    assert thin.expand is None and thin.depthwise.conv.groups == 16
