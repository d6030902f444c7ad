import pytest
import torch
import torch.nn as nn
from mmpretrain.models import ResNet
from torch.nn.modules.batchnorm import _BatchNorm

from mmsar.models import SARResNet, SARResNetCifar
from mmsar.models.layers import RegionSelection, SARModule


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def classifier_params(backbone: nn.Module, num_classes: int = 1000) -> float:
    """Millions of parameters of backbone + fc, as counted in Table VI."""
    return (num_params(backbone) +
            (backbone.feat_dim + 1) * num_classes) / 1e6


def is_frozen(module: nn.Module) -> bool:
    return (not module.training
            and all(not p.requires_grad for p in module.parameters()))


@pytest.mark.parametrize('groups, expected', [(2, 25.0190), (4, 23.4271)])
def test_sar_resnet50_params_match_reference(groups, expected):
    model = SARResNet(50, mask_groups=groups)
    assert classifier_params(model) == pytest.approx(expected, rel=2e-3)


def test_plain_resnet50_counted_the_same_way():
    assert classifier_params_plain() == pytest.approx(25.557, rel=1e-3)


def classifier_params_plain() -> float:
    return (num_params(ResNet(50)) + 2049 * 1000) / 1e6


def test_stage1_parts_match_reference_g2():
    """Part-by-part counts of the authors' SAR-ResNet50 G2 (stage 1)."""
    sar = SARResNet(50).layer1[0]
    assert num_params(sar.selectors) == 9288
    assert num_params(sar.base_blocks) == 41984
    assert num_params(sar.refine_blocks) == 81920
    assert num_params(sar.base_align) == 33280
    assert num_params(sar.gate) == 8192
    fusion_block = SARResNet(50).layer2[0]
    assert num_params(fusion_block) == 70400
    assert isinstance(fusion_block.downsample[0], nn.AvgPool2d)
    assert len(fusion_block.downsample) == 1


def test_stage_shapes_pin_the_design():
    sar = SARResNet(50).layer1[0]
    base1 = sar.base_blocks[0]
    assert base1.conv1.weight.shape == (32, 64, 1, 1)
    assert base1.conv2.weight.shape == (32, 32, 3, 3)
    assert base1.conv2.stride == (2, 2)
    assert base1.conv3.weight.shape == (128, 32, 1, 1)
    assert isinstance(base1.downsample[0], nn.AvgPool2d)
    assert base1.downsample[1].weight.shape == (128, 64, 1, 1)
    selector = sar.selectors[0]
    assert selector.conv.weight.shape == (8, 64, 3, 3)
    assert selector.logits.weight.shape == (4, 4, 1, 1)
    refine1 = sar.refine_blocks[0]
    assert refine1.conv1.weight.shape == (64, 32, 1, 1)
    assert refine1.conv2.weight.shape == (64, 32, 3, 3)
    assert refine1.conv3.weight.shape == (256, 32, 1, 1)
    assert refine1.downsample[0].weight.shape == (256, 64, 1, 1)
    layer4_first = SARResNet(50).layer4[1]
    assert layer4_first.conv2.stride == (2, 2)
    assert isinstance(layer4_first.downsample[0], nn.AvgPool2d)
    assert layer4_first.downsample[1].weight.shape == (2048, 1024, 1, 1)


@pytest.mark.parametrize('depth', [18, 34, 101])
def test_other_depths_build(depth):
    model = SARResNet(depth)
    plain = ResNet(depth)
    # SAR saves parameters over the plain ResNet of the same depth.
    assert num_params(model) < num_params(plain)


def test_sar_resnet50_outputs():
    model = SARResNet(50, out_indices=(0, 1, 2, 3)).eval()
    model.init_weights()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 224, 224))
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 56, 56),
                                                  (512, 28, 28),
                                                  (1024, 14, 14),
                                                  (2048, 7, 7)]
    assert [r.name for r in model.mask_records][:3] == [
        'stage0.block0', 'stage0.block1', 'stage1.block0'
    ]
    assert len(model.mask_records) == 2 + 3 + 5
    assert [r.feature_size for r in model.mask_records[::4]] == [
        (56, 56), (28, 28), (14, 14)
    ]


def test_sar_resnet18_outputs():
    model = SARResNet(18, out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 224, 224))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512]


@pytest.mark.parametrize('size', [(100, 150), (67, 91), (56, 56)])
def test_inputs_of_any_size(size):
    model = SARResNet(50, out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, *size))
    plain = ResNet(50, out_indices=(0, 1, 2, 3))
    plain.eval()
    with torch.no_grad():
        ref = plain(torch.rand(1, 3, *size))
    assert [o.shape[2:] for o in outs] == [r.shape[2:] for r in ref]


def test_masks_start_fully_on_and_eval_is_deterministic():
    model = SARResNet(50).eval()
    model.init_weights()
    x = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        out1 = model(x)[0]
        masks1 = [r.masks for r in model.mask_records]
        out2 = model(x)[0]
        masks2 = [r.masks for r in model.mask_records]
    assert all(torch.equal(m, torch.ones_like(m)) for m in masks1)
    assert all(torch.equal(a, b) for a, b in zip(masks1, masks2))
    assert torch.equal(out1, out2)


def test_train_masks_are_hard_with_gradients_to_logits():
    model = SARResNet(50, num_sar_stages=2).train()
    model.init_weights()
    model.set_temperature(0.5)
    assert model.temperature == 0.5
    model(torch.rand(2, 3, 64, 64))
    masks = torch.cat([r.masks.flatten() for r in model.mask_records])
    assert set(masks.detach().unique().tolist()) <= {0.0, 1.0}
    # Gumbel noise at the initial logit gap still leaves masks mostly on.
    assert masks.mean() > 0.9
    masks.sum().backward()
    for selector in model.modules():
        if isinstance(selector, RegionSelection):
            assert selector.logits.bias.grad is not None
            assert selector.logits.bias.grad.abs().sum() > 0


def test_forced_activation_rate():
    model = SARResNet(50).eval()
    model.init_weights()
    model.force_activation_rate(0.5)
    with torch.no_grad():
        model(torch.rand(2, 3, 112, 112))
    for record in model.mask_records:
        k = record.masks.shape[-1]
        assert torch.allclose(record.rates,
                              torch.full((2, ), round(0.5 * k * k) / k**2))
    model.force_activation_rate(None)
    with torch.no_grad():
        model(torch.rand(1, 3, 112, 112))
    assert all(r.rates.item() == 1.0 for r in model.mask_records)
    with pytest.raises(ValueError, match='rate=1.5'):
        model.force_activation_rate(1.5)


def test_norm_eval():
    model = SARResNet(50, norm_eval=True)
    model.train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    model = SARResNet(50, norm_eval=False).train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('frozen_stages', [0, 1, 2])
def test_frozen_stages(frozen_stages):
    model = SARResNet(50, frozen_stages=frozen_stages)
    model.init_weights()
    model.train()
    assert is_frozen(model.conv1) and is_frozen(model.norm1)
    for i in range(1, 5):
        layer = getattr(model, f'layer{i}')
        assert is_frozen(layer) == (i <= frozen_stages)
    if frozen_stages >= 1:
        selectors = model.layer1[0].selectors
        assert all(is_frozen(s) for s in selectors)
    model(torch.rand(1, 3, 64, 64))


def test_frozen_stages_deep_stem():
    model = SARResNet(50, deep_stem=True, frozen_stages=1).train()
    assert is_frozen(model.stem) and is_frozen(model.layer1)


@pytest.mark.parametrize('out_indices', [(0, ), (1, 3), (0, 1, 2, 3), (-1, )])
def test_out_indices(out_indices):
    model = SARResNet(50, out_indices=out_indices).eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    widths = [256, 512, 1024, 2048]
    assert [o.shape[1] for o in outs] == [widths[i] for i in out_indices]


def test_zero_init_residual_skips_refine_blocks():
    model = SARResNet(50, zero_init_residual=True)
    model.init_weights()
    sar = model.layer1[0]
    assert all((b.norm3.weight == 0).all() for b in sar.base_blocks)
    assert all((b.norm3.weight == 1).all() for b in sar.refine_blocks)
    assert (model.layer2[0].norm3.weight == 0).all()  # fusion block
    assert all((b.norm3.weight == 0).all() for b in model.layer4)
    model = SARResNet(50, zero_init_residual=False)
    model.init_weights()
    assert (model.layer4[1].norm3.weight == 1).all()


def test_with_cp_matches_without():
    torch.manual_seed(0)
    model = SARResNet(18, with_cp=True, num_sar_stages=1).train()
    model.force_activation_rate(0.5)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    out = model(x)[0]
    out.sum().backward()
    grad_cp = x.grad.clone()
    model.with_cp = False
    for m in model.modules():
        if hasattr(m, 'with_cp'):
            m.with_cp = False
    x.grad = None
    out_plain = model(x)[0]
    out_plain.sum().backward()
    assert torch.allclose(out, out_plain)
    assert torch.allclose(grad_cp, x.grad)


def test_input_smaller_than_a_mask_grid():
    model = SARResNet(50).eval()
    # At 48 x 48 stage 1 is 12 x 12, less than its 14 x 14 grid.
    with pytest.raises(ValueError, match='mask grid=14.*12x12'):
        model(torch.rand(1, 3, 48, 48))
    model = SARResNet(50, mask_grid=(12, 6, 2)).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 48, 48))[0].shape == (1, 2048, 2, 2)


def test_base_stride_4_adds_avg_pool():
    model = SARResNet(50, base_stride=4, base_reduction=1)
    sar = model.layer1[0]
    assert isinstance(sar.base_pool, nn.AvgPool2d)
    assert sar.base_align is None
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 96, 96))[0].shape == (1, 2048, 3, 3)


@pytest.mark.parametrize('base_stride, expected', [
    (4, (4, 4, 2)),
    (2, (2, 2, 2)),
    ((4, 4, 4), (4, 4, 4)),
    ((2, 4, 2), (2, 4, 2)),
])
def test_base_stride_per_stage(base_stride, expected):
    model = SARResNet(50, base_stride=base_stride, base_reduction=1).eval()
    assert model.base_strides == expected
    assert [m.base_stride for m in model.sar_modules] == list(expected)
    assert [m.base_pool is not None
            for m in model.sar_modules] == [s == 4 for s in expected]
    sizes = []
    for module in model.sar_modules:
        module.base_blocks[-1].register_forward_hook(
            lambda mod, args, out: sizes.append(out.shape[-1]))
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    # Stage maps of 16, 8 and 4 pixels; the base branch runs at 1 / s.
    assert sizes == [size // s for size, s in zip((16, 8, 4), expected)]


def test_default_mask_grid_and_init_gap():
    model = SARResNet(18, mask_init_gap=9.0)
    model.init_weights()
    assert model.mask_grid == (14, 7, 2)
    assert [m.grid for m in model.sar_modules] == [14, 7, 2]
    gaps = torch.cat([s.on_logit_gap() for s in model._selectors()])
    assert torch.equal(gaps, torch.full_like(gaps, 9.0))
    default = SARResNet(18)
    default.init_weights()
    assert default._selectors()[0].on_logit_gap().tolist() == [3.0, 3.0]


@pytest.mark.parametrize('options', [
    dict(branches='base'),
    dict(branches='refine'),
    dict(mask_mode='center'),
    dict(mask_mode='uniform'),
    dict(base_dilated=True),
    dict(refine_expansion=2),
])
def test_ablation_variants(options):
    model = SARResNet(50, out_indices=(0, 1, 2, 3), **options).eval()
    model.init_weights()
    # The centre masks' 8 x 8 grid needs maps of 8 pixels in stage 3.
    size = 128 if options.get('mask_mode') == 'center' else 64
    with torch.no_grad():
        outs = model(torch.rand(1, 3, size, size))
    assert [o.shape[1] for o in outs] == [256, 512, 1024, 2048]
    records = model.mask_records
    if options.get('branches') == 'base':
        assert records == []
        assert not any(m.refine_blocks for m in model.sar_modules)
    else:
        assert len(records) == 10
    if options.get('mask_mode') == 'uniform':
        # Checkerboards on 14 x 14 and 7 x 7 grids: 98 of 196, 25 of 49.
        assert records[0].rates.item() == 0.5
        assert records[2].rates.item() == pytest.approx(25 / 49)
    if options.get('mask_mode') == 'center':
        # The central 6 x 6 cells of an 8 x 8 grid in every stage.
        assert records[0].masks.shape[-2:] == (8, 8)
        assert {r.rates.item() for r in records} == {36 / 64}
    if options.get('base_dilated'):
        base1 = model.layer1[0].base_blocks[0]
        assert base1.conv2.stride == (1, 1)
        assert base1.conv2.dilation == (2, 2)


def test_refine_only_selects_from_refine_input():
    sar = SARResNet(50, branches='refine').layer1[0]
    assert sar.gate is None and not sar.base_blocks
    assert sar.selectors[0].conv.in_channels == 64
    assert sar.selectors[1].conv.in_channels == 256


@pytest.mark.parametrize('kwargs, match', [
    (dict(depth=42), 'depth=42'),
    (dict(depth=50, mask_groups=3), 'mask_groups=3'),
    (dict(depth=50, mask_groups=0), 'mask_groups=0'),
    (dict(depth=50, base_stride=3), 'base_stride=3'),
    (dict(depth=50, base_stride=(4, 4)), r'base_stride=\(4, 4\)'),
    (dict(depth=50, base_stride=(4, 4, 3)), 'base_stride=3'),
    (dict(depth=50, mask_init_gap=0), 'init_gap=0'),
    (dict(depth=50, mask_grid=(7, 7)), r'mask_grid=\(7, 7\)'),
    (dict(depth=50, mask_grid=(7, 0, 2)), r'mask_grid=\(7, 0, 2\)'),
    (dict(depth=50, num_sar_stages=4), 'num_sar_stages=4'),
    (dict(depth=50, num_sar_stages=0), 'num_sar_stages=0'),
    (dict(depth=50, out_indices=(4, )), r'out_indices=\(4,\)'),
    (dict(depth=50, frozen_stages=5), 'frozen_stages=5'),
    (dict(depth=50, strides=(2, 2, 2, 2)), 'strides'),
    (dict(depth=50, base_reduction=3), 'base_reduction=3'),
    (dict(depth=50, branches='none'), "branches='none'"),
    (dict(depth=50, mask_mode='random'), "mask_mode='random'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SARResNet(**kwargs)


def test_bad_argument_message_says_what_is_allowed():
    with pytest.raises(ValueError) as err:
        SARResNet(18, mask_groups=3)
    assert 'must divide' in str(err.value)
    with pytest.raises(ValueError) as err:
        SARResNet(42)
    assert '[18, 34, 50, 101, 152]' in str(err.value)


@pytest.mark.parametrize('depth', [20, 32, 56, 110])
def test_cifar_variant(depth):
    model = SARResNetCifar(depth, out_indices=(0, 1, 2)).eval()
    model.init_weights()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 32, 32), (32, 16, 16),
                                                  (64, 8, 8)]
    n = (depth - 2) // 6
    assert len(model.mask_records) == 3 * (n - 1)
    assert sum(isinstance(m, SARModule) for m in model.modules()) == 3
    # The last fusion block ends the last stage.
    assert not isinstance(model.layer3[-1], SARModule)


def test_cifar_widen_factor_and_bad_depth():
    model = SARResNetCifar(32, widen_factor=2).eval()
    # The authors' CIFAR networks keep a 16-channel stem at every width.
    assert model.conv1.out_channels == 16
    assert model.layer1[0].refine_blocks[0].in_channels == 16
    with torch.no_grad():
        assert model(torch.rand(1, 3, 32, 32))[0].shape == (1, 128, 8, 8)
    with pytest.raises(ValueError, match='depth=50'):
        SARResNetCifar(50)
    with pytest.raises(ValueError, match='widen_factor=0'):
        SARResNetCifar(32, widen_factor=0)
