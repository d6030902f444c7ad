"""The SAR module: base branch, masked refinement branch and their fusion."""
from typing import List, Optional, Tuple, Type

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from ...deploy.sar import sparsify_sar_module
from ...utils.args import invalid_argument
from ...utils.patch_grid import upsample_masks, upsample_nearest
from ..utils.mask_record import MaskRecord
from .region_selection import INIT_ON_LOGIT_GAP, RegionSelection, fixed_masks
from .res_blocks import BasicBlock, make_shortcut

BRANCHES = ('both', 'base', 'refine')
MASK_MODES = ('learned', 'center', 'uniform')
BASE_DOWNSAMPLES = ('block', 'pool')


def check_stage_options(base_stride: int, branches: str,
                        mask_mode: str) -> None:
    """Raise ValueError naming the bad value of a SAR stage's options."""
    if base_stride not in (2, 4):
        raise invalid_argument('base_stride', base_stride, 'expected 2 or 4')
    if branches not in BRANCHES:
        raise invalid_argument('branches', branches,
                               f'expected one of {BRANCHES}')
    if mask_mode not in MASK_MODES:
        raise invalid_argument('mask_mode', mask_mode,
                               f'expected one of {MASK_MODES}')


def conv1x1_norm(in_channels: int, out_channels: int,
                 conv_cfg: Optional[dict], norm_cfg: dict) -> nn.Sequential:
    """A 1x1 conv + norm that aligns the width of one branch to the other."""
    return nn.Sequential(
        build_conv_layer(conv_cfg, in_channels, out_channels, 1, bias=False),
        build_norm_layer(norm_cfg, out_channels)[1])


class FusionGate(BaseModule):
    """Channel weights a = sigmoid(FC(ReLU(FC(GAP(x))))) of Eq. 5.

    Bias-free FCs with reduction 16; a small initialisation makes ``a`` start
    near 0.5, an even mix of the two branches.

    Args:
        channels (int): C, the width of the fused feature.
        reduction (int): Hidden width is ``max(1, C // reduction)``.
    """

    def __init__(self, channels: int, reduction: int = 16, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, channels, bias=False)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.fc1.weight, std=0.01)
        nn.init.normal_(self.fc2.weight, std=0.01)

    def forward(self, x: Tensor) -> Tensor:
        """Weights (N, C, 1, 1) in (0, 1) for features x (N, C, h, w)."""
        weights = self.fc2(self.relu(self.fc1(x.mean((2, 3)))))
        return torch.sigmoid(weights)[:, :, None, None]


class BranchBlend(nn.Module):
    """Eq. 5 and the fusion's ReLU: relu(a * up(base) + (1 - a) * refine).

    Args:
        factor (int): Nearest upsampling factor of the base branch, 1 for a
            dilated one.
        relu (bool): End with a ReLU.
    """

    def __init__(self, factor: int, relu: bool = True):
        super().__init__()
        self.factor = factor
        self.relu = relu

    def forward(self, base: Tensor, refine: Tensor, weights: Tensor) -> Tensor:
        """Blend base (N, C, h, w) into refine (N, C, H, W) with weights a
        (N, C, 1, 1); returns (N, C, H, W)."""
        base = upsample_nearest(base, self.factor, refine.shape[-2:])
        out = weights * base + (1 - weights) * refine
        return torch.relu(out) if self.relu else out


class SARModule(BaseModule):
    """One SAR stage of ``num_blocks`` residual blocks (Fig. 2).

    The input x (N, C_in, H, W) goes through

    - the base branch: ``num_blocks - 1`` blocks of width C / alpha; the
      first downsamples by ``base_stride`` (an extra 3x3/2 average pool
      first when it is 4), or, with ``base_dilated``, keeps the resolution
      and dilates its 3x3 convs by ``base_stride`` (SAR-dil);
    - the refinement branch: ``num_blocks - 1`` refine blocks of width
      C * beta at full resolution with grouped convs; refine block i
      computes group g only on the cells that mask g of region-selection
      module i (fed by base block i) turns on;
    - the fusion: y = ReLU(a * up(base) + (1 - a) * refine), both branches
      first aligned to C channels by a 1x1 conv + norm when alpha or beta
      is not 1.

    The output has shape (N, C, H, W). The masks of the last forward are
    kept in ``mask_records``.

    A stage that strides (MobileNet-v2) takes ``stride`` 2: the first block
    of each branch strides, the output and the masks are (H / 2, W / 2), and
    with ``base_downsample='pool'`` the base branch is average-pooled by s
    before its blocks, which keep the stage's strides.

    Args:
        block (type): ``BasicBlock``, ``Bottleneck`` or
            ``InvertedResidual``.
        in_channels (int): C_in.
        out_channels (int): C.
        num_blocks (int): Blocks of the plain ResNet stage this replaces
            (at least 2).
        groups (int): G, channel groups (masks) of the refinement branch.
        grid (int): K, masks are K x K.
        base_stride (int): s, 2 or 4.
        base_reduction (int): alpha, base width is C / alpha.
        refine_expansion (int): beta, refine width is C * beta.
        stage_index (int): Index of the stage, stored in the mask records.
        branches (str): ``'both'``, or ``'base'`` / ``'refine'`` to keep a
            single branch (Table I ablations).
        mask_mode (str): ``'learned'`` region selection, or fixed
            ``'center'`` / ``'uniform'`` masks (Table I ablations).
        base_dilated (bool): SAR-dil, see above.
        mask_init_gap (float): Initial on-minus-off logit bias of the
            region selection (see :class:`RegionSelection`).
        stride (int): Stride of the first block of both branches, 1 or 2.
        base_downsample (str): How the base branch gets its extra
            downsampling by s: ``'block'``, its first block strides by 2
            (after a 3x3/2 average pool when s is 4; needs ``stride`` 1),
            or ``'pool'``, a (s + 1) x (s + 1) / s average pool before its
            first block (the authors' MobileNet-v2).
        fuse_relu (bool): End the fusion with a ReLU; False for linear
            bottlenecks, whose stage then ends with a 1x1 conv block.
        block_cfg (dict, optional): Further arguments of every block, e.g.
            the ``cardinality`` and ``width_per_group`` of ResNeXt
            bottlenecks.
        with_cp (bool): Use checkpointing in the blocks.
        conv_cfg (dict, optional): Conv layers config.
        norm_cfg (dict): Norm layers config.
    """

    def __init__(self,
                 block: Type[BasicBlock],
                 in_channels: int,
                 out_channels: int,
                 num_blocks: int,
                 groups: int,
                 grid: int,
                 base_stride: int = 2,
                 base_reduction: int = 2,
                 refine_expansion: int = 1,
                 stage_index: int = 0,
                 branches: str = 'both',
                 mask_mode: str = 'learned',
                 base_dilated: bool = False,
                 mask_init_gap: float = INIT_ON_LOGIT_GAP,
                 stride: int = 1,
                 base_downsample: str = 'block',
                 fuse_relu: bool = True,
                 block_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_stage_options(base_stride, branches, mask_mode)
        if stride not in (1, 2 if block.takes_cell_masks else 1):
            raise invalid_argument(
                'stride', stride,
                f'expected 1, or 2 for a block that takes cell masks (not '
                f'{block.__name__})')
        if base_downsample not in BASE_DOWNSAMPLES or (
                base_downsample == 'block' and stride != 1):
            raise invalid_argument(
                'base_downsample', base_downsample,
                f"expected one of {BASE_DOWNSAMPLES}; 'pool' when the stage "
                'strides')
        if num_blocks < 2:
            raise invalid_argument(
                'num_blocks', num_blocks,
                'expected at least 2 (a branch block and the fusion block)')
        self.groups = groups
        self.grid = grid
        self.base_stride = base_stride
        self.stride = stride
        self.stage_index = stage_index
        self.branches = branches
        self.mask_mode = mask_mode
        self.base_dilated = base_dilated
        self.mask_records: List[MaskRecord] = []
        common = dict(
            with_cp=with_cp,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            **(block_cfg or {}))
        base_width = out_channels // base_reduction
        refine_width = out_channels * refine_expansion
        num_branch_blocks = num_blocks - 1
        use_base = branches in ('both', 'base')
        use_refine = branches in ('both', 'refine')

        self.base_pool = None
        self.base_blocks = ModuleList()
        self.base_align = None
        if use_base:
            by_pool = base_downsample == 'pool'
            pool_stride = base_stride if by_pool else base_stride // 2
            if pool_stride > 1 and not base_dilated:
                self.base_pool = nn.AvgPool2d(
                    pool_stride + 1, stride=pool_stride,
                    padding=pool_stride // 2)
            first_stride = stride if by_pool or base_dilated else 2
            dilation = base_stride if base_dilated else 1
            for i in range(num_branch_blocks):
                block_in = in_channels if i == 0 else base_width
                block_stride = first_stride if i == 0 else 1
                shortcut = None
                if block.projection_shortcut:
                    shortcut = make_shortcut(block_in, base_width,
                                             block_stride, conv_cfg, norm_cfg)
                self.base_blocks.append(
                    block(
                        block_in,
                        base_width,
                        stride=block_stride,
                        dilation=dilation,
                        downsample=shortcut,
                        **common))
            if base_width != out_channels:
                self.base_align = conv1x1_norm(base_width, out_channels,
                                               conv_cfg, norm_cfg)

        self.refine_blocks = ModuleList()
        self.selectors = ModuleList()
        self.refine_align = None
        if use_refine:
            for i in range(num_branch_blocks):
                block_in = in_channels if i == 0 else refine_width
                block_stride = stride if i == 0 else 1
                self.refine_blocks.append(
                    block(
                        block_in,
                        refine_width,
                        stride=block_stride,
                        groups=groups,
                        downsample=make_shortcut(block_in, refine_width,
                                                 block_stride, conv_cfg,
                                                 norm_cfg),
                        **common))
                if mask_mode == 'learned':
                    # Without a base branch, masks come from the refine
                    # block's own input.
                    select_in = base_width if use_base else block_in
                    self.selectors.append(
                        RegionSelection(select_in, groups, grid, norm_cfg,
                                        mask_init_gap))
            if mask_mode != 'learned':
                self.register_buffer(
                    'fixed_masks',
                    fixed_masks(mask_mode, groups, grid),
                    persistent=False)
            if refine_width != out_channels:
                self.refine_align = conv1x1_norm(refine_width, out_channels,
                                                 conv_cfg, norm_cfg)
        self.gate = FusionGate(out_channels) if branches == 'both' else None
        self.blend = BranchBlend(1 if base_dilated else base_stride, fuse_relu)

    def base_branch(self, x: Tensor) -> List[Tensor]:
        """Outputs of every base block, each (N, C / alpha, H / s, W / s)."""
        if self.base_pool is not None:
            x = self.base_pool(x)
        feats = []
        for blk in self.base_blocks:
            x = blk(x)
            feats.append(x)
        return feats

    def select(self, index: int, base_feats: List[Tensor],
               refine_in: Tensor) -> Tensor:
        """Cell masks (N, G, K, K) of refine block ``index``."""
        if self.mask_mode != 'learned':
            return self.fixed_masks.expand(refine_in.shape[0], -1, -1, -1)
        source = base_feats[index] if base_feats else refine_in
        return self.selectors[index](source)

    def static_masks(self) -> Optional[List[Tensor]]:
        """Masks (1, G, K, K) of every refine block, on the CPU, when they do
        not depend on the input (fixed masks, or a forced activation rate);
        None when the learned selection decides. Also right for a module
        built on the meta device."""
        if self.mask_mode != 'learned':
            masks = fixed_masks(self.mask_mode, self.groups, self.grid)
            return [masks] * len(self.refine_blocks)
        if any(s.forced_rate is None for s in self.selectors):
            return None
        return [s.forced_masks() for s in self.selectors]

    def refine_branch(self, x: Tensor,
                      base_feats: List[Tensor]) -> Tuple[Tensor, list]:
        """Masked refinement (training paradigm, Eq. 3), or its patch-sparse
        equivalent after :meth:`switch_to_sparse`.

        Returns the refined feature (N, C * beta, H, W) and the mask records.
        """
        records = []
        size = self.output_size(x)
        self._check_map_size(size)
        for i, blk in enumerate(self.refine_blocks):
            masks = self.select(i, base_feats, x)
            gap = (self.selectors[i].on_logit_gap()
                   if self.mask_mode == 'learned' else None)
            records.append(MaskRecord(self.stage_index, i, masks, size, gap))
            x = blk(x,
                    masks if blk.takes_cell_masks else upsample_masks(
                        masks, size))
        return x, records

    def output_size(self, x: Tensor) -> Tuple[int, int]:
        """(H, W) of the output (and the masks) for an input x."""
        return tuple(-(-side // self.stride) for side in x.shape[-2:])

    def _check_map_size(self, size: Tuple[int, int]) -> None:
        """Every cell of the masks must cover at least one pixel."""
        if torch.jit.is_tracing():
            return
        grid = (self.grid if self.mask_mode == 'learned' else
                self.fixed_masks.shape[-1])
        if min(size) < grid:
            raise invalid_argument(
                'mask grid', grid,
                f'SAR stage {self.stage_index} has a {size[0]}x{size[1]} '
                f'feature map; expected a grid of at most {min(size)} '
                '(use a smaller mask_grid or a larger input)')

    def fuse(self, base: Optional[Tensor], refine: Optional[Tensor],
             size: Tuple[int, int]) -> Tensor:
        """y = ReLU(a * up(base) + (1 - a) * refine), (N, C, H, W); no
        ReLU unless ``fuse_relu``."""
        if base is not None:
            if self.base_align is not None:
                base = self.base_align(base)
            weights = self.gate(base) if self.gate is not None else None
        if refine is not None and self.refine_align is not None:
            refine = self.refine_align(refine)
        if base is not None and refine is not None:
            return self.blend(base, refine, weights)
        out = (refine if base is None else upsample_nearest(
            base, self.blend.factor, size))
        return torch.relu(out) if self.blend.relu else out

    def switch_to_sparse(self) -> None:
        """Convert in place to the patch-sparse eval-mode path: refine blocks
        then compute each group only on its selected cells (numerically the
        masked eval forward). One-way and inference-only; see
        :func:`mmsar.deploy.sparsify_sar_module`."""
        sparsify_sar_module(self)

    def forward(self, x: Tensor) -> Tensor:
        size = self.output_size(x)
        base_feats = self.base_branch(x) if self.base_blocks else []
        refine, self.mask_records = (
            self.refine_branch(x, base_feats) if self.refine_blocks else
            (None, []))
        base = base_feats[-1] if base_feats else None
        return self.fuse(base, refine, size)
