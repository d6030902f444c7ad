"""The patch-sparse path equals the masked (training-paradigm) eval forward."""
import copy
import pickle

import onnx
import pytest
import torch
import torch.nn as nn
from sparse_testing import assert_close, randomize_norms, sar_model

from mmsar.deploy import (AvgPoolConv, FusedConv2d, SparseInvertedResidual,
                          deploy_backbone, export_onnx, fuse_sequential,
                          sparsify_block)
from mmsar.models import (SARMobileNetV2, SARResNet, SARResNetCifar,
                          SARResNeXt, SARResNeXtCifar, SARWideResNet)
from mmsar.models.layers import (BasicBlock, Bottleneck, InvertedResidual,
                                 make_shortcut, upsample_masks)
from mmsar.deploy.sparse_patches import patch_geometry, plan_patches


def refine_block(block_cls, in_channels, out_channels, groups=2):
    torch.manual_seed(0)
    block = block_cls(
        in_channels,
        out_channels,
        groups=groups,
        downsample=make_shortcut(in_channels, out_channels))
    randomize_norms(block)
    return block.eval()


def cell_masks(case, n, groups, grid):
    generator = torch.Generator().manual_seed(3)
    masks = (torch.rand(n, groups, grid, grid, generator=generator) >
             0.5).float()
    if case == 'all-on':
        masks[:] = 1
    elif case == 'all-off':
        masks[:] = 0
    elif case == 'empty-group':
        masks[:, 1] = 0
    elif case == 'one-cell':
        masks[:] = 0
        masks[-1, 0, grid - 1, 0] = 1
    return masks


CASES = ['random', 'all-on', 'all-off', 'empty-group', 'one-cell']
# (H, W, K): multiples of K, not multiples, and smaller than the grid.
SIZES = [(16, 16, 4), (13, 11, 4), (3, 5, 4), (9, 14, 7)]


@pytest.mark.parametrize('block_cls, channels',
                         [(Bottleneck, (16, 32)), (Bottleneck, (32, 32)),
                          (BasicBlock, (8, 16)), (BasicBlock, (16, 16))])
@pytest.mark.parametrize('size', SIZES)
@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('reuse_input', [False, True])
def test_sparse_block_equals_masked(block_cls, channels, size, case,
                                    reuse_input):
    height, width, grid = size
    block = refine_block(block_cls, *channels)
    sparse = sparsify_block(copy.deepcopy(block), reuse_input)
    # Batch 3: every sample has its own masks.
    x = torch.randn(3, channels[0], height, width)
    masks = cell_masks(case, 3, 2, grid)
    with torch.no_grad():
        ref = block(x, upsample_masks(masks, (height, width)))
    x_before = x.clone()
    with torch.inference_mode():
        out = sparse(x, masks)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert_close(out, ref)
    if not reuse_input:
        # The output is written over the shortcut, never over the input.
        assert torch.equal(x, x_before)


def test_plan_skips_empty_cells_and_unselected_masks():
    geometry = patch_geometry(3, 5, 4, torch.device('cpu'))
    assert geometry.nonempty.sum() == 3 * 4
    masks = torch.zeros(2, 2, 4, 4)
    assert plan_patches(geometry, masks) == [None, None]
    masks[0, 0, 3, 3] = 1  # an empty cell (row 3 of 4 over 3 rows)
    masks[1, 1, 0, 0] = 1
    masks[1, 1, 1, 2] = 1
    first, second = plan_patches(geometry, masks)
    assert first is None
    # Each group computes exactly its own cells: sample 1, cells 0 and 6.
    assert second.entries.tolist() == [16, 22]
    p_h, p_w = geometry.patch_size
    assert second.rows.numel() == 2 * p_h * p_w
    # Uneven cells: the out-of-cell pixels of a patch add nothing.
    assert second.keep is not None and 0 < second.keep.sum() < 2 * p_h * p_w
    assert patch_geometry(16, 16, 4, torch.device('cpu')).full


@pytest.mark.parametrize('relu, relu6, residual', [(True, False, True),
                                                   (False, False, False),
                                                   (False, True, False),
                                                   (False, True, True)])
def test_fused_conv_matches_conv_norm(relu, relu6, residual):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1, groups=2, bias=False)
    norm = nn.BatchNorm2d(16)
    seq = nn.Sequential(conv, norm)
    randomize_norms(seq)
    seq.eval()
    fused = FusedConv2d.from_conv(conv, norm, relu=relu, relu6=relu6)
    x = torch.randn(2, 8, 9, 7) * 4
    other = torch.randn(2, 16, 9, 7) if residual else None
    with torch.no_grad():
        ref = seq(x) + (other if residual else 0)
        ref = torch.relu(ref) if relu else ref
        ref = ref.clamp(0, 6) if relu6 else ref
        eager = fused(x, other)  # grad mode: the F.conv2d fallback
    with torch.inference_mode():
        onednn = fused(x, other)
    assert_close(eager, ref)
    assert_close(onednn, ref)


@pytest.mark.parametrize('groups', [1, 2, 4])
def test_ungrouped_fused_conv_is_the_same_conv(groups):
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 8, 3, padding=1, groups=groups)
    fused = FusedConv2d.from_conv(conv, relu=True)
    dense = fused.ungrouped()
    assert dense.groups == 1 and dense.weight.shape == (8, 16, 3, 3)
    # Zero outside the diagonal blocks: output group g reads input group g.
    blocks = dense.weight.abs().sum((2, 3)).view(groups, 8 // groups, groups,
                                                 16 // groups).sum((1, 3))
    assert torch.equal(blocks > 0, torch.eye(groups, dtype=torch.bool))
    x = torch.randn(2, 16, 9, 7)
    with torch.inference_mode():
        assert_close(dense(x), fused(x))


def test_fused_conv_packs_per_shape_and_thread_count():
    """oneDNN's weight layout depends on the thread count: a weight packed
    at one count must not serve another."""
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3, padding=1, bias=False)
    fused = FusedConv2d.from_conv(conv)
    x = torch.randn(1, 16, 12, 12)
    threads = torch.get_num_threads()
    try:
        with torch.inference_mode():
            outputs = []
            for count in (1, 2, 1):
                torch.set_num_threads(count)
                outputs.append(fused(x))
            fused(torch.randn(2, 16, 12, 12))
    finally:
        torch.set_num_threads(threads)
    assert list(fused._packed) == [((1, 16, 12, 12), 1),
                                   ((1, 16, 12, 12), 2),
                                   ((2, 16, 12, 12), 1)]
    for out in outputs:
        assert_close(out, conv(x).detach())


def test_deployed_model_pickles_after_use():
    """Packed oneDNN weights cannot be pickled; a deployed model that has
    run is still pickled (to a benchmark worker) and copied, packs again
    where it runs, and computes the same."""
    model = sar_model(SARResNetCifar, depth=20)
    model.force_activation_rate(0.5)
    model.switch_to_sparse()
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        ref = model(x)
        assert any(m._packed for m in model.modules()
                   if isinstance(m, FusedConv2d))
        for clone in (pickle.loads(pickle.dumps(model)),
                      copy.deepcopy(model)):
            assert not any(m._packed for m in clone.modules()
                           if isinstance(m, FusedConv2d))
            for out, expected in zip(clone(x), ref):
                assert torch.equal(out, expected)


R50 = (SARResNet, dict(depth=50, out_indices=(0, 1, 2, 3)))


@pytest.mark.parametrize('backbone, size, rate', [
    # 80x72: layer1 is 20x18 (K = 14: uneven cells), layer3 5x5 (K = 2).
    (R50, (80, 72), 0.5),
    (R50, (80, 72), 0.0),
    (R50, (80, 72), 1.0),
    ((SARResNeXt,
      dict(depth=50, groups=8, width_per_group=8, stem_channels=16,
           base_channels=16, out_indices=(0, 1, 2, 3))), (64, 56), 0.5),
    ((SARResNeXtCifar,
      dict(width_per_group=8, stem_channels=16, base_channels=16,
           base_stride=4)), (32, 32), 0.5),
    ((SARWideResNet, dict(depth=16, widen_factor=2)), (32, 32), 0.5),
])
def test_sar_backbones_sparse_equal_masked(backbone, size, rate):
    cls, kwargs = backbone
    model = sar_model(cls, **kwargs)
    model.force_activation_rate(rate)
    sparse = copy.deepcopy(model)
    sparse.switch_to_sparse()
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        refs = model(x)
    with torch.inference_mode():
        outs = sparse(x)
    for out, ref in zip(outs, refs):
        assert_close(out, ref)
    assert [r.masks.mean() for r in sparse.mask_records] == [
        r.masks.mean() for r in model.mask_records
    ]
    # Every average pool (shortcuts, base branches) runs as a conv.
    converted = [
        m.pool for m in sparse.modules() if isinstance(m, AvgPoolConv)
    ]
    assert converted
    assert all(
        any(m is pool for pool in converted) for m in sparse.modules()
        if type(m) is nn.AvgPool2d)


def test_sar_resnet_cifar_learned_masks_sparse_equals_masked():
    model = sar_model(SARResNetCifar, depth=20)
    # Learned masks that differ per sample and group.
    for selector in model._selectors():
        nn.init.normal_(selector.logits.weight, std=2)
        nn.init.zeros_(selector.logits.bias)
    sparse = copy.deepcopy(model)
    sparse.switch_to_sparse()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)[0]
    with torch.inference_mode():
        out = sparse(x)[0]
    rates = torch.stack([r.rates for r in model.mask_records])
    assert 0 < rates.mean() < 1 and (rates.std(1) > 0).any()
    assert_close(out, ref)


@pytest.mark.parametrize('depth', [18, 50])
def test_deploy_dense_resnet_equals_stock(depth):
    from mmpretrain.models import ResNetV1c
    torch.manual_seed(0)
    model = ResNetV1c(depth=depth, out_indices=(0, 1, 2, 3))
    randomize_norms(model)
    model.eval()
    deployed = deploy_backbone(copy.deepcopy(model))
    # Every block but the first of a stage writes its output over its
    # input; no stage output is overwritten by the next stage.
    for layer in deployed.res_layers:
        blocks = list(getattr(deployed, layer))
        assert [b.reuse_input for b in blocks] == [False] + [True] * (
            len(blocks) - 1)
    x = torch.randn(1, 3, 64, 48)
    x_before = x.clone()
    with torch.no_grad():
        refs = model(x)
    with torch.inference_mode():
        outs = deployed(x)
    assert torch.equal(x, x_before)
    for out, ref in zip(outs, refs):
        assert_close(out, ref)


@pytest.mark.parametrize('kernel, stride, padding', [(3, 2, 1), (2, 2, 0),
                                                     (3, 1, 1)])
def test_avg_pool_conv_equals_the_pool(kernel, stride, padding, tmp_path):
    pool = nn.AvgPool2d(kernel, stride, padding)
    conv = AvgPoolConv(pool, 6)
    x = torch.randn(2, 6, 13, 10).contiguous(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        out = conv(x)
    assert_close(out, pool(x))

    class Features(nn.Module):  # a backbone's tuple of outputs

        def forward(self, images):
            return (conv(images), )

    # Exported, it stays the pool.
    path = str(tmp_path / 'pool.onnx')
    export_onnx(Features(), x, path)
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops == ['AveragePool']


def test_fuse_sequential_converts_only_pools_that_are_convs():
    pool, conv = nn.AvgPool2d(3, 2, 1), nn.Conv2d(4, 8, 1)
    fused = fuse_sequential(nn.Sequential(pool, conv))
    assert isinstance(fused[0], AvgPoolConv)  # C from the next conv
    assert fused[0].conv.weight.shape == (4, 1, 3, 3)
    alone = fuse_sequential(nn.Sequential(pool))
    assert alone[0] is pool  # C unknown
    assert isinstance(fuse_sequential(nn.Sequential(pool), 4)[0],
                      AvgPoolConv)
    for other in (nn.AvgPool2d(2, 2, ceil_mode=True),
                  nn.AvgPool2d(2, 2, count_include_pad=False, padding=1)):
        assert fuse_sequential(nn.Sequential(other, conv))[0] is other


@pytest.mark.parametrize('relu, relu6', [(True, False), (False, True),
                                         (False, False)])
def test_fused_conv_adds_onto_a_reused_residual(relu, relu6):
    torch.manual_seed(0)
    conv = FusedConv2d(
        torch.randn(16, 8, 1, 1) * 4, torch.randn(16), relu=relu, relu6=relu6)
    x = torch.randn(2, 8, 9, 7)
    residual = torch.randn(2, 16, 9, 7).contiguous(
        memory_format=torch.channels_last)
    kept = residual.clone()
    with torch.inference_mode():
        fresh = conv(x, residual)
        assert torch.equal(residual, kept)  # not written without reuse
        reused = conv(x, residual, reuse_residual=True)
    assert_close(reused, fresh)
    # oneDNN accumulated into the residual's memory.
    assert reused.data_ptr() == residual.data_ptr()


@pytest.mark.parametrize('channels, stride, expand_ratio',
                         [((16, 16), 1, 6), ((8, 16), 1, 6), ((8, 16), 2, 6),
                          ((16, 16), 1, 1), ((16, 16), 2, 1)])
@pytest.mark.parametrize('size', SIZES + [(18, 12, 3), (18, 16, 3)])
@pytest.mark.parametrize('case', CASES)
def test_sparse_inverted_residual_equals_masked(channels, stride,
                                                expand_ratio, size, case):
    """Stride 2 with input cells twice the output ones ((16, 16, 4),
    (18, 12, 3)) or not (the others)."""
    height, width, grid = size
    torch.manual_seed(0)
    in_channels, out_channels = channels
    block = InvertedResidual(
        in_channels,
        out_channels,
        stride=stride,
        groups=2,
        expand_ratio=expand_ratio,
        downsample=make_shortcut(in_channels, out_channels, stride)
        if (stride, in_channels) != (1, out_channels) else None)
    randomize_norms(block)
    block.eval()
    sparse = sparsify_block(copy.deepcopy(block))
    x = torch.randn(3, in_channels, height, width)
    masks = cell_masks(case, 3, 2, grid)
    with torch.no_grad():
        ref = block(x, masks)
    with torch.inference_mode():
        out = sparse(x, masks)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert_close(out, ref)


@pytest.mark.parametrize('size, rate', [((224, 224), 0.5), ((96, 80), 0.5),
                                        ((224, 224), 1.0)])
def test_sar_mobilenet_v2_sparse_equals_masked(size, rate):
    """At 96 x 80 the input cells of the strided refine blocks are not
    twice their output cells (e.g. 48 -> 24 rows on a 14 x 14 grid)."""
    model = sar_model(SARMobileNetV2, widen_factor=0.75,
                      out_indices=(1, 2, 3, 4, 7))
    model.force_activation_rate(rate)
    sparse = copy.deepcopy(model)
    sparse.switch_to_sparse()
    assert all(isinstance(b, SparseInvertedResidual)
               for m in sparse.sar_modules for b in m.refine_blocks)
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        refs = model(x)
    with torch.inference_mode():
        outs = sparse(x)
    for out, ref in zip(outs, refs):
        assert_close(out, ref)


def test_sar_mobilenet_v2_learned_masks_sparse_equals_masked():
    model = sar_model(SARMobileNetV2, widen_factor=0.75, out_indices=(4, ))
    # Learned masks that differ per sample and group.
    for selector in model._selectors():
        nn.init.normal_(selector.logits.weight, std=2)
        nn.init.zeros_(selector.logits.bias)
    x = torch.randn(3, 3, 224, 224)
    # Norm statistics of x: without them the features of a random-init
    # MobileNet-v2 hardly depend on the image (nor would its masks).
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        model.train()(x)
    model.eval()
    sparse = copy.deepcopy(model)
    sparse.switch_to_sparse()
    with torch.no_grad():
        ref = model(x)[0]
    with torch.inference_mode():
        out = sparse(x)[0]
    rates = torch.stack([r.rates for r in model.mask_records])
    assert 0 < rates.mean() < 1 and (rates.std(1) > 0).any()
    assert_close(out, ref)
