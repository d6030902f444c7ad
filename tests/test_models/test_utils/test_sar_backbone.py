import torch.nn as nn
from mmpretrain.models import ResNet

from mmsar.models import SARResNet, SARResNetCifar
from mmsar.models.utils import (find_sar_backbones, is_sar_backbone, part_of,
                                part_roots)


def test_sar_backbones_are_recognised_by_interface():
    sar = SARResNet(depth=18)
    assert is_sar_backbone(sar) and is_sar_backbone(SARResNetCifar(depth=20))
    assert not is_sar_backbone(sar.layer1[0])  # a SAR module
    assert not is_sar_backbone(ResNet(depth=18))


def test_find_sar_backbones_outermost_in_order():
    first, second = SARResNet(depth=18), SARResNetCifar(depth=20)
    model = nn.Sequential(nn.Linear(2, 2), first, nn.Sequential(second))
    assert find_sar_backbones(model) == [first, second]
    assert find_sar_backbones(first) == [first]
    assert find_sar_backbones(ResNet(depth=18)) == []


def test_parts_of_a_sar_resnet():
    roots = part_roots(SARResNet(depth=18, base_stride=4))
    expected = {
        'conv1': 'stem',
        'maxpool': 'stem',
        'layer1.0.base_pool': 'base',
        'layer1.0.base_blocks.0.conv2': 'base',
        'layer1.0.selectors.1.conv': 'selection',
        'layer1.0.refine_blocks.0.conv1': 'refine_masked',
        'layer2.1.refine_blocks.0.downsample.0': 'refine_shortcut',
        'layer2.1.gate.fc1': 'fusion_gate_align',
        'layer2.1.base_align.0': 'fusion_gate_align',
        'layer2.0.conv1': 'fusion_blocks',
        # the fusion block after the last SAR module opens layer 4
        'layer4.0.conv1': 'fusion_blocks',
        'layer4.1.conv1': 'plain_stages',
    }
    assert {name: part_of(name, roots) for name in expected} == expected


def test_parts_of_a_dense_resnet():
    roots = part_roots(ResNet(depth=18))
    assert part_of('conv1', roots) == 'stem'
    assert part_of('layer1.0.conv1', roots) == 'plain_stages'
