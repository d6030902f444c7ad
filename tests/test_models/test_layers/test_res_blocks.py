import pytest
import torch

from mmsar.models.layers import (BasicBlock, Bottleneck, make_shortcut,
                                 upsample_masks)


def random_block(block_cls, in_channels, out_channels, groups=2):
    torch.manual_seed(0)
    block = block_cls(
        in_channels,
        out_channels,
        groups=groups,
        downsample=make_shortcut(in_channels, out_channels)).eval()
    for m in block.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            # A non-trivial BN shift is what would leak into unselected
            # positions if the masks were applied in the wrong place.
            torch.nn.init.normal_(m.weight)
            torch.nn.init.normal_(m.bias)
            torch.nn.init.normal_(m.running_mean)
            torch.nn.init.uniform_(m.running_var, 0.5, 2)
    return block


def random_masks(n=2, groups=2, grid=4, size=(13, 11), seed=1):
    generator = torch.Generator().manual_seed(seed)
    cells = (torch.rand(n, groups, grid, grid, generator=generator) >
             0.5).float()
    return cells, upsample_masks(cells, size)


@pytest.mark.parametrize('block_cls, channels',
                         [(Bottleneck, (16, 32)), (Bottleneck, (32, 32)),
                          (BasicBlock, (8, 16)), (BasicBlock, (16, 16))])
def test_unselected_output_equals_shortcut(block_cls, channels):
    block = random_block(block_cls, *channels)
    x = torch.rand(2, channels[0], 13, 11)
    _, pixels = random_masks()
    with torch.no_grad():
        out = block(x, pixels)
        shortcut = x if block.downsample is None else block.downsample(x)
    off = (pixels == 0).repeat_interleave(channels[1] // 2, dim=1)
    assert torch.equal(out[off], torch.relu(shortcut)[off])
    assert not torch.equal(out[~off], torch.relu(shortcut)[~off])


@pytest.mark.parametrize('block_cls', [Bottleneck, BasicBlock])
def test_convs_read_only_selected_positions(block_cls):
    block = random_block(block_cls, 16, 16)
    x = torch.rand(2, 16, 13, 11)
    _, pixels = random_masks()
    noise = torch.rand_like(x) * 10
    off = (pixels == 0).repeat_interleave(8, dim=1)
    with torch.no_grad():
        out = block(x, pixels)
        perturbed = block(torch.where(off, x + noise, x), pixels)
    # Changing inputs at unselected positions changes nothing selected.
    assert torch.equal(out[~off], perturbed[~off])


def test_all_on_masks_equal_the_unmasked_block():
    block = random_block(Bottleneck, 16, 32)
    x = torch.rand(1, 16, 9, 9)
    with torch.no_grad():
        assert torch.allclose(
            block(x, torch.ones(1, 2, 9, 9)), block(x), atol=1e-6)


def test_make_shortcut():
    assert make_shortcut(8, 8) is None
    pool_only = make_shortcut(8, 8, stride=2)
    assert len(pool_only) == 1
    full = make_shortcut(8, 16, stride=2)
    assert [type(m).__name__ for m in full] == [
        'AvgPool2d', 'Conv2d', 'BatchNorm2d'
    ]
