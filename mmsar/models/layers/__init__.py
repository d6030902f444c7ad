from ...utils.patch_grid import (apply_group_masks, cell_bounds, cell_index,
                                  upsample_masks, upsample_nearest)
from .inverted_residual import InvertedResidual
from .region_selection import RegionSelection, fixed_masks, gumbel_hard_mask
from .res_blocks import BasicBlock, Bottleneck, make_shortcut
from .sar_module import BranchBlend, FusionGate, SARModule

__all__ = [
    'apply_group_masks', 'cell_bounds', 'cell_index', 'upsample_masks',
    'upsample_nearest', 'RegionSelection', 'fixed_masks', 'gumbel_hard_mask',
    'BasicBlock', 'Bottleneck', 'InvertedResidual', 'make_shortcut',
    'BranchBlend', 'FusionGate', 'SARModule'
]
