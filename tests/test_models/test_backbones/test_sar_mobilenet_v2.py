"""SARMobileNetV2: MobileNet-v2 stages 2-5 as SAR modules of inverted
residuals, with mmpretrain's MobileNetV2 outputs."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.visualization import Visualizer
from mmpretrain.models import MobileNetV2
from torch.nn.modules.batchnorm import _BatchNorm

from mmsar.analysis import count_at_rate, dense_counterpart
from mmsar.models import SARMobileNetV2
from mmsar.models.layers import InvertedResidual, SARModule
from mmsar.models.utils.sar_backbone import fusion_blocks, part_roots
from mmsar.visualization import draw_mask_overlays


def is_frozen(module):
    return (not module.training
            and all(not p.requires_grad for p in module.parameters()))


@pytest.mark.parametrize('widen_factor', [0.75, 1.0])
def test_stage_outputs_are_mobilenet_v2_ones(widen_factor):
    # Shapes only: built and run on the meta device.
    with torch.device('meta'):
        model = SARMobileNetV2(widen_factor, out_indices=range(8)).eval()
        dense = MobileNetV2(widen_factor, out_indices=range(8))
        dense.eval()  # mmpretrain's train() returns None
        x = torch.empty(1, 3, 224, 224)
        shapes = [o.shape for o in model(x)]
        assert shapes == [o.shape for o in dense(x)]
    assert [len(m.refine_blocks) for m in model.sar_modules] == [2, 3, 4, 3]
    assert [len(m.base_blocks) for m in model.sar_modules] == [2, 3, 4, 3]
    sizes = [r.feature_size for r in model.mask_records]
    assert sizes == [(56, 56)] * 2 + [(28, 28)] * 3 + [(14, 14)] * 7
    assert type(dense_counterpart(model)).__name__ == 'MobileNetV2'


def test_sar_stage_design():
    """The authors' SAR stage: pool-then-stride base branch of width C,
    stride-s refine branch with grouped 1x1 convs, linear fusion, then a
    1x1 conv + BN + ReLU6."""
    model = SARMobileNetV2(0.75)
    sar, close = model.layer2
    assert isinstance(sar, SARModule) and not sar.blend.relu
    assert isinstance(sar.base_pool, nn.AvgPool2d)
    assert sar.base_pool.stride == 2
    base = sar.base_blocks[0]
    assert base.depthwise.conv.stride == (2, 2) and base.downsample is None
    assert not base.use_shortcut and sar.base_blocks[1].use_shortcut
    refine = sar.refine_blocks[0]
    assert isinstance(refine, InvertedResidual)
    assert refine.expand.conv.groups == 2 and refine.project.conv.groups == 2
    assert refine.depthwise.conv.groups == refine.mid_channels == 16 * 6
    assert isinstance(refine.downsample[0], nn.AvgPool2d)  # stride-2 shortcut
    assert isinstance(refine.expand.activate, nn.ReLU6)
    assert not refine.project.with_activation  # linear bottleneck
    assert sar.base_align is None and sar.refine_align is None
    assert close.conv.kernel_size == (1, 1)
    assert isinstance(close.activate, nn.ReLU6)
    # The stride-1 stage (96 x 0.75 = 72 channels) still pools its base.
    sar5 = model.layer5[0]
    assert sar5.stride == 1 and isinstance(sar5.base_pool, nn.AvgPool2d)
    assert sar5.base_blocks[0].depthwise.conv.stride == (1, 1)
    assert set(fusion_blocks(model)) == {f'layer{i}.1' for i in (2, 3, 4, 5)}
    assert part_roots(model)['conv1'] == 'stem'


def test_eval_forward_all_on_and_learned_masks():
    torch.manual_seed(0)
    model = SARMobileNetV2(0.75, out_indices=(4, 7))
    model.init_weights()
    model.eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 112, 112))
    assert [tuple(o.shape) for o in outs] == [(2, 72, 7, 7),
                                              (2, 1280, 4, 4)]
    # Every mask starts on.
    assert all((r.rates == 1).all() for r in model.mask_records)


def test_train_masks_get_gradients():
    torch.manual_seed(0)
    model = SARMobileNetV2(0.75, mask_grid=(7, 7, 2, 2)).train()
    model.set_temperature(0.5)
    assert model.temperature == 0.5
    out = model(torch.rand(2, 3, 64, 64))[0]
    rates = torch.stack([r.rates for r in model.mask_records])
    (out.mean() + rates.mean()).backward()
    selector = model.layer2[0].selectors[0]
    assert selector.logits.weight.grad is not None


def test_forced_rate_counts_and_draws():
    model = SARMobileNetV2(0.75).eval()
    full = count_at_rate(model, 1.0).macs.item()
    half = count_at_rate(model, 0.5)
    assert half.rates.item() == pytest.approx(0.5, abs=0.01)
    assert half.macs.item() < full
    assert half.parts['refine_masked'].item() > 0
    assert half.parts['fusion_blocks'].item() > 0
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    figure = draw_mask_overlays(
        Visualizer.get_instance('mmsar_test_mobilenet_v2'), image,
        model.mask_records[:1], 0, (64, 64))
    assert figure.ndim == 3 and figure.shape[2] == 3


@pytest.mark.parametrize('out_indices, widths', [((7, ), [1280]),
                                                 ((1, 4), [24, 72]),
                                                 ((-1, ), [1280])])
def test_out_indices(out_indices, widths):
    with torch.device('meta'):
        model = SARMobileNetV2(0.75, out_indices=out_indices).eval()
        outs = model(torch.empty(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == widths


@pytest.mark.parametrize('frozen_stages', [0, 2, 5])
def test_frozen_stages(frozen_stages):
    model = SARMobileNetV2(0.75, frozen_stages=frozen_stages).train()
    assert is_frozen(model.conv1)
    for i in range(1, 8):
        layer = getattr(model, f'layer{i}')
        assert is_frozen(layer) == (i <= frozen_stages)
    assert not is_frozen(model.conv2)
    model(torch.rand(1, 3, 64, 64))


def test_norm_eval():
    model = SARMobileNetV2(0.75, norm_eval=True).train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    model = SARMobileNetV2(0.75).train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))


def test_with_cp_matches_without():
    torch.manual_seed(0)
    model = SARMobileNetV2(0.75, with_cp=True, out_indices=(2, )).train()
    model.force_activation_rate(0.5)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    out = model(x)[0]
    out.sum().backward()
    grad_cp = x.grad.clone()
    for m in model.modules():
        if hasattr(m, 'with_cp'):
            m.with_cp = False
    x.grad = None
    out_plain = model(x)[0]
    out_plain.sum().backward()
    assert torch.allclose(out, out_plain)
    assert torch.allclose(grad_cp, x.grad)


def test_input_smaller_than_a_mask_grid():
    model = SARMobileNetV2(0.75).eval()
    # At 96 x 96 the first SAR stage is 24 x 24, the third 6 x 6: fine;
    # at 32 x 32 the first is 8 x 8 < 14.
    with torch.no_grad():
        model(torch.rand(1, 3, 96, 96))
    with pytest.raises(ValueError, match='mask grid=14.*8x8'):
        model(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize('kwargs, match', [
    (dict(widen_factor=0), 'widen_factor=0'),
    (dict(mask_groups=0), 'mask_groups=0'),
    # 0.75: stage inputs of 16 channels; G = 3 divides none.
    (dict(mask_groups=3), 'mask_groups=3.*stage input 16'),
    (dict(base_stride=3), 'base_stride=3'),
    (dict(mask_grid=(14, 7, 2)), 'mask_grid'),
    (dict(out_indices=(8, )), 'out_indices'),
    (dict(frozen_stages=8), 'frozen_stages=8'),
    (dict(mask_mode='random'), 'mask_mode'),
    (dict(base_reduction=5), 'base_reduction=5'),
])
def test_bad_arguments(kwargs, match):
    kwargs = dict(dict(widen_factor=0.75), **kwargs)
    with pytest.raises(ValueError, match=match):
        SARMobileNetV2(**kwargs)


def test_registered_in_downstream_registries():
    from mmdet.registry import MODELS as DET
    from mmpretrain.registry import MODELS as CLS
    from mmseg.registry import MODELS as SEG
    for registry in (CLS, DET, SEG):
        assert registry.get('SARMobileNetV2') is SARMobileNetV2


def test_paper_config_trains_with_sar_loss_hook():
    """The Table VII config's classifier: SARLossHook finds the backbone,
    adds the rate loss and its gradient reaches the region selection."""
    from pathlib import Path
    from types import SimpleNamespace

    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmpretrain.structures import DataSample

    from mmsar.engine import SARLossHook
    config = Path(__file__).parents[3] / 'configs' / 'sar_mobilenet_v2' / (
        'sar-mobilenet-v2-g2s2a1-t0.3_4xb64-200e_in1k.py')
    cfg = Config.fromfile(str(config))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, SARMobileNetV2)
    hook = SARLossHook(**{
        k: v
        for k, v in cfg.custom_hooks[0].items() if k != 'type'
    })
    hook.before_train(
        SimpleNamespace(model=model, hooks=[hook], iter=9, max_iters=10))
    model.train()
    images = torch.rand(2, 3, 112, 112)
    samples = [DataSample().set_gt_label(i) for i in (0, 1)]
    losses = model(images, samples, mode='loss')
    # The last iteration: the stepped target schedule has reached 0.3.
    assert losses['sar_target'].item() == pytest.approx(0.3)
    assert len(model.backbone.mask_records) == 12
    losses['loss_sar'].backward()
    selector = model.backbone.layer2[0].selectors[0]
    grads = [p.grad for p in selector.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    hook.after_train(None)
