"""Deployment of whole backbones: SAR-ResNets and the dense ResNets they are
compared with get the same treatment (folded norms, channels-last, prepacked
oneDNN weights, fused epilogues); SAR refine blocks become patch-sparse."""
import torch.nn as nn
from mmengine.model import ModuleList

from .dense_blocks import (AvgPoolConv, fuse_block, fuse_resnet_stem,
                           fuse_shortcut, input_channels)
from .fused_conv import FusedConv2d
from .grid_pool import GridPool
from .sparse_blocks import sparsify_block
from .sparse_fusion import ChannelsLastBlend


def is_res_block(module: nn.Module) -> bool:
    """A BasicBlock or Bottleneck of mmsar or of mmpretrain's ResNet."""
    return all(
        hasattr(module, name)
        for name in ('conv1', 'norm1', 'conv2', 'norm2', 'downsample'))


def sparsify_sar_module(module: nn.Module) -> nn.Module:
    """Convert a SAR module in place to the patch-sparse eval-mode path
    (what :meth:`~mmsar.models.layers.SARModule.switch_to_sparse` calls).

    Base blocks, width alignments and the region-selection convs are fused
    (the latter ungrouped, :meth:`FusedConv2d.ungrouped`), average pools
    run as depthwise convs (:class:`AvgPoolConv`);
    refine blocks become :class:`SparseBottleneck` / :class:`SparseBasicBlock`
    / :class:`SparseInvertedResidual` that take cell masks; the fusion blends
    channels-last (:class:`ChannelsLastBlend`); the selectors' pooling
    becomes a :class:`GridPool` that exports at any map size.
    """
    module.eval()
    if module.base_blocks and AvgPoolConv.converts(module.base_pool):
        module.base_pool = AvgPoolConv(module.base_pool,
                                       input_channels(module.base_blocks[0]))
    module.base_blocks = ModuleList(fuse_block(b) for b in module.base_blocks)
    # Each refine block but the first is fed by the previous one alone.
    module.refine_blocks = ModuleList(
        sparsify_block(b, reuse_input=i > 0)
        for i, b in enumerate(module.refine_blocks))
    module.base_align = fuse_shortcut(module.base_align)
    module.refine_align = fuse_shortcut(module.refine_align)
    for selector in module.selectors:
        selector.conv = FusedConv2d.from_conv(
            selector.conv, selector.norm, relu=True).ungrouped()
        selector.norm = nn.Identity()
        selector.relu = nn.Identity()
        selector.pool = GridPool(selector.grid)
    module.blend = ChannelsLastBlend(module.blend.factor, module.blend.relu)
    return module


def _deploy_children(module: nn.Module) -> None:
    previous = None
    for name, child in module.named_children():
        if hasattr(child, 'switch_to_sparse'):
            # A module that converts itself (a SAR module): duck-typed, so
            # that this package imports no model class.
            child.switch_to_sparse()
        elif is_res_block(child):
            # In a Sequential, a block after a block is fed by it alone.
            fed = isinstance(module, nn.Sequential) and previous is not None \
                and is_res_block(previous)
            setattr(module, name, fuse_block(child, reuse_input=fed))
        else:
            _deploy_children(child)
        previous = child


def deploy_backbone(model: nn.Module) -> nn.Module:
    """Convert a ResNet-like backbone in place for CPU inference.

    Works on :class:`~mmsar.models.SARResNet` (and its CIFAR variant) and on
    mmpretrain's ``ResNet`` / ``ResNetV1c`` / ``ResNetV1d``: the stem and
    every residual block get folded norms, prepacked weights and fused
    bias / ReLU / residual add; SAR modules become patch-sparse. The
    conversion is one-way and inference-only; outputs are channels-last
    and equal those of the eval-mode model up to float rounding.
    """
    model.eval()
    fuse_resnet_stem(model)
    _deploy_children(model)
    return model
