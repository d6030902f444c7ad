"""SARResNeXt, SARResNeXtCifar and SARWideResNet: the ResNet's SAR stages
with other blocks and widths."""
import numpy as np
import pytest
import torch
from mmengine.visualization import Visualizer
from mmpretrain.models import ResNeXt

from mmsar.analysis import count_at_rate, dense_counterpart
from mmsar.models import (SARResNeXt, SARResNeXtCifar, SARResNet,
                          SARWideResNet)
from mmsar.models.layers import SARModule
from mmsar.visualization import draw_mask_overlays


def test_sar_resnext50_stage_outputs_are_the_resnext_ones():
    model = SARResNeXt(50, out_indices=(0, 1, 2, 3)).eval()
    dense = ResNeXt(50, groups=32, width_per_group=4,
                    out_indices=(0, 1, 2, 3))
    dense.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        shapes = [o.shape for o in model(x)]
        assert shapes == [o.shape for o in dense(x)]
    assert isinstance(model, SARResNet)
    assert type(dense_counterpart(model)).__name__ == 'ResNeXt'


def test_sar_resnext50_blocks():
    model = SARResNeXt(50, mask_groups=2, base_reduction=1)
    sar = model.layer1[0]
    refine = sar.refine_blocks[0]
    # 32x4d: inner width 128 at output 256; G = 2 splits the 1x1 convs.
    assert refine.conv1.weight.shape == (128, 32, 1, 1)
    assert refine.conv2.groups == 32 and refine.conv2.in_channels == 128
    assert refine.conv3.groups == 2
    base = sar.base_blocks[0]
    assert base.conv2.groups == 32 and base.conv1.groups == 1
    plain = model.layer4[1]
    assert plain.conv2.groups == 32 and plain.conv2.out_channels == 1024
    # G = 4 does not divide the cardinality 2: the 3x3 takes lcm = 4.
    small = SARResNeXt(50, groups=2, width_per_group=64, mask_groups=4)
    assert small.layer1[0].refine_blocks[0].conv2.groups == 4
    assert small.layer1[0].base_blocks[0].conv2.groups == 2


def test_sar_resnext_cifar():
    # Shapes only: built and run on the meta device.
    with torch.device('meta'):
        model = SARResNeXtCifar(out_indices=(0, 1, 2)).eval()
        outs = model(torch.empty(1, 3, 32, 32))
    assert model.conv1.out_channels == 64
    refine = model.layer1[0].refine_blocks[0]
    # 8x32d: the inner width equals the output width.
    assert refine.conv2.in_channels == 256 and refine.conv2.groups == 8
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 32, 32),
                                                  (512, 16, 16),
                                                  (1024, 8, 8)]
    assert sum(isinstance(m, SARModule) for m in model.modules()) == 3
    assert dense_counterpart(model) is None


def test_sar_wide_resnet():
    model = SARWideResNet(out_indices=(0, 1, 2))
    assert [len(m.refine_blocks) for m in model.sar_modules] == [3, 3, 3]
    assert model.conv1.out_channels == 16
    small = SARWideResNet(16, widen_factor=2, out_indices=(0, 1, 2)).eval()
    with torch.no_grad():
        outs = small(torch.rand(1, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 32, 32), (64, 16, 16),
                                                  (128, 8, 8)]


@pytest.mark.parametrize('build, match', [
    (lambda: SARResNeXt(50, groups=0), 'groups=0'),
    # Base inner width 256 / 8 * 32 * 4 / 256 = 16 < 32 groups.
    (lambda: SARResNeXt(50, base_reduction=8), 'cardinality=32'),
    # Refine inner width 9 in stage 1.
    (lambda: SARResNeXt(50, groups=3, width_per_group=3), 'mask_groups=2'),
    (lambda: SARResNeXt(34), 'depth=34'),
    (lambda: SARResNeXtCifar(depth=50), 'depth=50'),
    (lambda: SARWideResNet(depth=32), 'depth=32'),
    # The 16-channel stem output is a stage input.
    (lambda: SARWideResNet(mask_groups=32), 'mask_groups=32'),
])
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_masks_of_the_new_backbones_draw_and_count():
    """Their mask records feed the FLOPs counter and the overlays as the
    ResNet's do."""
    model = SARResNeXtCifar(width_per_group=4).eval()
    full = count_at_rate(model, 1.0, (32, 32)).macs.item()
    half = count_at_rate(model, 0.5, (32, 32))
    assert half.rates.item() == 0.5 and half.macs.item() < full
    with torch.no_grad():
        model(torch.rand(1, 3, 32, 32))
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    figure = draw_mask_overlays(
        Visualizer.get_instance('mmsar_test_new_backbones'), image,
        model.mask_records[:1], 0, (32, 32))
    assert figure.ndim == 3 and figure.shape[2] == 3
