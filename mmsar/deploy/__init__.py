"""Inference-only conversions: fused dense blocks and patch-sparse SAR."""
from .dense_blocks import (FusedBasicBlock, FusedBottleneck, fuse_block,
                           fuse_resnet_stem, fuse_sequential)
from .fused_conv import FusedConv2d, fold_conv_norm
from .sar import deploy_backbone, sparsify_sar_module
from .sparse_blocks import SparseBasicBlock, SparseBottleneck, sparsify_block

__all__ = [
    'FusedBasicBlock', 'FusedBottleneck', 'fuse_block', 'fuse_resnet_stem',
    'fuse_sequential', 'FusedConv2d', 'fold_conv_norm', 'deploy_backbone',
    'sparsify_sar_module', 'SparseBasicBlock', 'SparseBottleneck',
    'sparsify_block'
]
