"""Inference-only conversions (fused dense blocks, patch-sparse SAR) and
export to the CPU engines (ONNX Runtime, OpenVINO)."""
from .dense_blocks import (AvgPoolConv, FusedBasicBlock, FusedBottleneck,
                           FusedInvertedResidual, fuse_block,
                           fuse_resnet_stem, fuse_sequential)
from .engines import BACKENDS, EngineBackbone, EngineError
from .export import (ENGINE_RUNS, ExportedBackbone, export_backbone,
                     export_onnx)
from .fused_conv import FusedConv2d, fold_conv_norm
from .grid_pool import GridPool
from .malloc import keep_freed_memory
from .sar import deploy_backbone, sparsify_sar_module
from .sparse_blocks import (SparseBasicBlock, SparseBottleneck,
                            SparseInvertedResidual, sparsify_block)

__all__ = [
    'AvgPoolConv', 'FusedBasicBlock', 'FusedBottleneck',
    'FusedInvertedResidual', 'fuse_block', 'fuse_resnet_stem',
    'fuse_sequential', 'BACKENDS', 'EngineBackbone', 'EngineError',
    'ENGINE_RUNS', 'ExportedBackbone', 'export_backbone', 'export_onnx',
    'FusedConv2d', 'fold_conv_norm', 'GridPool', 'keep_freed_memory',
    'deploy_backbone', 'sparsify_sar_module', 'SparseBasicBlock',
    'SparseBottleneck', 'SparseInvertedResidual', 'sparsify_block'
]
