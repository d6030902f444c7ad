import pytest
import torch
import torch.nn as nn

from mmsar.models.layers import BasicBlock, InvertedResidual
from mmsar.models.layers.sar_module import SARModule


@pytest.mark.parametrize('kwargs, message', [
    (dict(branches='x'), "Invalid branches='x': expected one of"),
    (dict(mask_mode='random'), "Invalid mask_mode='random': expected one"),
    (dict(base_stride=3), 'Invalid base_stride=3: expected 2 or 4.'),
    (dict(num_blocks=1), 'Invalid num_blocks=1: expected at least 2'),
    (dict(stride=2, base_downsample='pool'),
     'Invalid stride=2: expected 1, or 2 for a block that takes cell masks'),
    (dict(block=InvertedResidual, stride=2),
     "Invalid base_downsample='block': expected one of ('block', 'pool'); "
     "'pool' when the stage strides"),
])
def test_invalid_arguments_name_the_value(kwargs, message):
    args = dict(block=BasicBlock, in_channels=16, out_channels=16,
                num_blocks=3, groups=2, grid=4)
    args.update(kwargs)
    with pytest.raises(ValueError) as error:
        SARModule(**args)
    assert message in str(error.value)


@pytest.mark.parametrize('stride, base_stride', [(1, 2), (2, 2), (2, 4)])
def test_strided_stage_of_inverted_residuals(stride, base_stride):
    """A MobileNet-v2 stage: both branches stride, the base branch is
    pooled by s first, the fusion is linear."""
    module = SARModule(
        InvertedResidual, 8, 16, 3, groups=2, grid=2, stride=stride,
        base_stride=base_stride, base_downsample='pool', fuse_relu=False,
        base_reduction=1).eval()
    assert module.base_pool.stride == base_stride
    x = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        out = module(x)
    size = 16 // stride
    assert out.shape == (2, 16, size, size) and (out < 0).any()
    assert [r.feature_size for r in module.mask_records] == [(size, size)] * 2
    assert module.base_branch(x)[-1].shape[-1] == size // base_stride
    assert isinstance(module.refine_blocks[0].downsample[0],
                      nn.AvgPool2d) == (stride == 2)
