"""Dense ResNet checkpoints of torchvision, timm and mmpretrain mapped onto
SAR-ResNets (mmsar.models.utils.dense_to_sar)."""
import pytest
import timm
import torch
import torchvision
from mmengine.model import BaseModule
from mmpretrain.models import ImageClassifier
from torch import nn

from mmsar.models import SARResNet, SARResNetCifar
from mmsar.models.utils.dense_to_sar import (ConversionError, block_diagonal,
                                             canonical_state_dict,
                                             convert_dense_to_sar,
                                             detect_layout,
                                             load_dense_checkpoint,
                                             load_dense_weights)


class SARClassifier(BaseModule):
    """The parts of an OpenMMLab classifier the conversion looks at."""

    def __init__(self, num_classes=10, **backbone):
        super().__init__()
        self.backbone = SARResNet(**backbone)
        self.head = nn.Module()
        self.head.fc = nn.Linear(self.backbone.feat_dim, num_classes)


def randomize_norms(model: nn.Module) -> nn.Module:
    """Distinct BN statistics, so that copies are told apart from inits."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            for tensor in (module.weight, module.bias, module.running_mean):
                tensor.data = torch.randn(tensor.shape, generator=generator)
            module.running_var.data = torch.rand(module.running_var.shape,
                                                 generator=generator) + 0.5
    return model


def torchvision_r18():
    return randomize_norms(torchvision.models.resnet18(num_classes=10))


def timm_r18d():
    """timm's ResNet-D layout (deep stem ``conv1.*``, pooled shortcuts),
    tiny stages."""
    return randomize_norms(
        timm.models.resnet.ResNet(timm.models.resnet.BasicBlock, (2, 2, 2, 2),
                                  num_classes=10,
                                  channels=(8, 16, 32, 64),
                                  stem_width=32,
                                  stem_type='deep',
                                  avg_down=True))


def mmpretrain_r50():
    return randomize_norms(
        ImageClassifier(backbone=dict(type='mmpretrain.ResNet',
                                      depth=50,
                                      stem_channels=16,
                                      base_channels=8),
                        neck=dict(type='mmpretrain.GlobalAveragePooling'),
                        head=dict(type='mmpretrain.LinearClsHead',
                                  num_classes=10,
                                  in_channels=256)))


# layout, dense model, SAR arguments, dense name of the stage-1 blocks
CASES = {
    'torchvision': (torchvision_r18, dict(depth=18), ''),
    'timm': (timm_r18d, dict(depth=18, base_channels=8, deep_stem=True), ''),
    'mmpretrain':
    (mmpretrain_r50, dict(depth=50, stem_channels=16,
                          base_channels=8), 'backbone.'),
}


def convert(layout, **overrides):
    make_dense, sar_args, prefix = CASES[layout]
    dense = make_dense().eval()
    torch.manual_seed(0)
    sar = SARClassifier(**{**sar_args, **overrides})
    sar.init_weights()
    state, report = convert_dense_to_sar(sar, dense.state_dict())
    return dense, sar, state, report, prefix


@pytest.mark.parametrize('layout', sorted(CASES))
def test_round_trip(layout):
    """Every library's own model converts; the file loads with exactly the
    reported keys missing, and the mapped parts carry the dense weights."""
    dense, sar, state, report, prefix = convert(layout)
    assert report['layout'] == layout
    missing, unexpected = sar.load_state_dict(state, strict=False)
    assert unexpected == []
    assert sorted(missing) == sorted(report['new_keys'])
    assert missing and all(
        any(part in key for part in ('selectors', 'gate', 'base_align',
                                     'base_blocks.0.downsample'))
        for key in missing)

    _, canonical, others = canonical_state_dict(dense.state_dict())
    got = sar.state_dict()
    stem = 'stem.2.conv.weight' if layout == 'timm' else 'conv1.weight'
    assert torch.equal(got[f'backbone.{stem}'], canonical[stem])
    assert torch.equal(got['head.fc.weight'], others['head.fc.weight'])
    # the plain last stage follows the fusion block that replaced the last
    # block of stage 3
    last = len(sar.backbone.layer3[1].refine_blocks)
    for key in ('conv1.weight', 'bn1.running_var'):
        assert torch.equal(got[f'backbone.layer4.1.{key}'],
                           canonical[f'layer4.0.{key}'])
        assert torch.equal(got[f'backbone.layer4.0.{key}'],
                           canonical[f'layer3.{last}.{key}'])
    # the refine branch keeps the block-diagonal parts of the dense convs
    refine = got['backbone.layer2.1.refine_blocks.0.conv1.weight']
    assert torch.equal(refine,
                       block_diagonal(canonical['layer2.0.conv1.weight'], 2))
    rows = {row[0]: row for row in report['rows']}
    assert rows['layer1.0.refine_blocks.0'][1:] == (
        'layer1.0', 'sliced: block-diagonal, 2 groups')
    assert rows['layer1.0.gate'][2] == 'new'


def test_block_diagonal_is_the_grouped_conv_of_the_masked_dense_conv():
    dense = nn.Conv2d(8, 6, 3, padding=1, bias=False)
    grouped = nn.Conv2d(8, 6, 3, padding=1, groups=2, bias=False)
    grouped.weight.data = block_diagonal(dense.weight.data, 2)
    masked = dense.weight.data.clone()
    masked[:3, 4:] = 0
    masked[3:, :4] = 0
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(grouped(x),
                               nn.functional.conv2d(x, masked, padding=1))


def test_one_group_refine_branch_computes_the_dense_blocks():
    """With G = 1 and every mask on, the refinement branch of stage 1 is the
    dense layer1 without its last block, to float rounding."""
    dense, sar, state, _, _ = convert('torchvision', mask_groups=1)
    sar.load_state_dict(state, strict=False)
    backbone = sar.backbone.eval()
    backbone.force_activation_rate(1.0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        stem = backbone._forward_stem(x)
        module = backbone.layer1[0]
        refined, _ = module.refine_branch(stem, module.base_branch(stem))
        expected = dense.layer1[0](dense.maxpool(
            dense.relu(dense.bn1(dense.conv1(x)))))
    torch.testing.assert_close(refined, expected)


def test_base_branch_keeps_the_largest_channels_through_the_stage():
    """The residual channels whose folded filters are largest over the
    stage are kept by every base block, and each block's inner conv keeps
    its own largest filters, which the next conv reads."""
    dense = torchvision_r18()
    stream = torch.arange(0, 64, 2)  # 32 = 64 / alpha channels
    inner = torch.arange(32, 64)
    for block in dense.layer1:
        block.bn1.weight.data[inner] += 100.0
        block.bn2.weight.data[stream] += 100.0
    state, _ = convert_dense_to_sar(SARClassifier(depth=18),
                                    dense.state_dict())
    block, base = dense.layer1[0], 'backbone.layer1.0.base_blocks.0.'
    assert torch.equal(state[base + 'conv1.weight'], block.conv1.weight[inner])
    assert torch.equal(state[base + 'bn1.running_mean'],
                       block.bn1.running_mean[inner])
    assert torch.equal(state[base + 'conv2.weight'],
                       block.conv2.weight[stream][:, inner])
    assert torch.equal(state[base + 'bn2.bias'], block.bn2.bias[stream])


def test_alpha_one_base_blocks_are_copies():
    dense, _, state, report, _ = convert('mmpretrain', base_reduction=1)
    rows = {row[0]: row[2] for row in report['rows']}
    assert rows['layer1.0.base_blocks.1'] == 'copied'
    for key in ('conv1.weight', 'conv2.weight', 'bn3.running_var'):
        assert torch.equal(state[f'backbone.layer1.0.base_blocks.1.{key}'],
                           dense.state_dict()[f'backbone.layer1.1.{key}'])


@pytest.mark.parametrize('layout', sorted(CASES))
def test_layouts_are_detected(layout):
    assert detect_layout(CASES[layout][0]().state_dict()) == layout


def test_unknown_layout():
    vgg = torchvision.models.vgg11().features.state_dict()
    with pytest.raises(ConversionError, match='not a ResNet checkpoint'):
        detect_layout(vgg)


def test_other_depth_names_the_first_differing_key():
    dense = torchvision.models.resnet34().state_dict()
    with pytest.raises(ConversionError,
                       match=r'first differing key layer1\.2\.conv1\.weight'
                       r'.*expects none.*\(64, 64, 3, 3\)'):
        convert_dense_to_sar(SARClassifier(depth=18), dense)
    with pytest.raises(ConversionError, match='first differing key'):
        convert_dense_to_sar(SARClassifier(depth=18, base_channels=32),
                             torchvision.models.resnet18().state_dict())


def test_widths_that_cannot_take_the_dense_weights():
    with pytest.raises(ConversionError,
                       match=r"widths cannot take.*refine_blocks\.0"):
        convert_dense_to_sar(SARClassifier(depth=18, refine_expansion=2),
                             torchvision.models.resnet18().state_dict())


def test_backbone_without_dense_counterpart():
    model = nn.Module()
    model.backbone = SARResNetCifar(depth=20)
    with pytest.raises(ConversionError, match='no dense ResNet counterpart'):
        convert_dense_to_sar(model, torchvision.models.resnet18().state_dict())


def test_load_dense_weights_into_a_teacher(tmp_path):
    dense = timm_r18d()
    path = tmp_path / 'timm.pth'
    torch.save(dense.state_dict(), path)
    teacher = ImageClassifier(
        backbone=dict(type='mmpretrain.ResNetV1d', depth=18, base_channels=8),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead',
                  num_classes=10,
                  in_channels=64)).eval()
    assert load_dense_weights(teacher, str(path)) == 'timm'
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(teacher(x, mode='tensor'), dense.eval()(x))
    with pytest.raises(ConversionError, match='first differing key'):
        load_dense_weights(
            ImageClassifier(backbone=dict(type='mmpretrain.ResNet', depth=18)),
            str(path))


def test_unreadable_checkpoints(tmp_path):
    with pytest.raises(ConversionError, match='checkpoint not found'):
        load_dense_checkpoint(str(tmp_path / 'missing.pth'))
    path = tmp_path / 'corrupt.pth'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(ConversionError, match=r'cannot read .*corrupt\.pth'):
        load_dense_checkpoint(str(path))
